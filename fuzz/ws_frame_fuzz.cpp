// libFuzzer target: server-to-client WebSocket frames (net/ws_frame). The
// decoder must never read past its input, must report the same events
// whether the bytes arrive at once or in two pieces (as socket reads cut
// them), and every message it reports must respect the size limit and,
// for text, be UTF-8.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "net/ws_frame.hpp"

namespace {

constexpr std::size_t max_message = 4096;

void require(bool ok) {
  if (!ok)
    std::abort();
}

struct event {
  csp::net::ws_event_kind kind;
  std::string payload;
  std::uint16_t close_code;
  std::string error;

  bool operator==(const event& other) const {
    return kind == other.kind && payload == other.payload
      && close_code == other.close_code && error == other.error;
  }
};

/// Decodes `wire` as a client does: bytes arrive in pieces of `chunk`
/// (the last one shorter) and undecoded bytes wait for the next piece.
std::vector<event> decode(const std::string& wire, std::size_t chunk) {
  using csp::net::ws_event_kind;
  csp::net::ws_frame_decoder dec{max_message};
  std::vector<event> out;
  std::string buffer;
  std::size_t fed = 0;
  while (fed < wire.size()) {
    auto n = std::min(chunk, wire.size() - fed);
    buffer.append(wire, fed, n);
    fed += n;
    std::size_t begin = 0;
    for (;;) {
      csp::net::ws_event ev;
      auto used = dec.next(buffer.data() + begin, buffer.size() - begin, ev);
      require(used <= buffer.size() - begin);
      if (ev.kind == ws_event_kind::need_more) {
        require(used == 0);
        require(ev.need == 0 || ev.need > buffer.size() - begin);
        require(ev.need <= max_message + 14);
        break;
      }
      if (ev.kind == ws_event_kind::protocol_error) {
        out.push_back({ev.kind, {}, 0, ev.error});
        return out;
      }
      require(used > 0);
      begin += used;
      if (ev.kind == ws_event_kind::message) {
        require(ev.payload.size() <= max_message);
        require(ev.binary || csp::net::ws_valid_utf8(ev.payload));
      }
      if (ev.kind != ws_event_kind::close)
        require(ev.close_code == 1005);
      out.push_back({ev.kind, std::string{ev.payload}, ev.close_code, {}});
    }
    buffer.erase(0, begin);
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(
  const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string wire{reinterpret_cast<const char*>(data), size};
  auto whole = decode(wire, wire.size());
  // Cut points from the first byte: 1 byte at a time, and an odd size.
  require(decode(wire, 1) == whole);
  require(decode(wire, 1 + data[0] % 97) == whole);
  // A message re-encoded as a server frame decodes to the same payload.
  for (const auto& ev : whole) {
    if (ev.kind != csp::net::ws_event_kind::message)
      continue;
    std::string again;
    csp::net::ws_append_server_frame(
      again, csp::net::ws_opcode::binary, ev.payload);
    auto round = decode(again, again.size());
    require(round.size() == 1 && round[0].payload == ev.payload);
  }
  return 0;
}
