#include "net/ws_frame.hpp"

#include <array>
#include <cstring>

#include <openssl/evp.h>

namespace csp::net {

namespace {

constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(
    reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::uint8_t byte_at(const char* data, std::size_t i) noexcept {
  return static_cast<std::uint8_t>(data[i]);
}

/// Big-endian integer of `n` bytes at `data`.
std::uint64_t read_be(const char* data, std::size_t n) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v = (v << 8) | byte_at(data, i);
  return v;
}

bool in_range(std::uint8_t c, std::uint8_t lo, std::uint8_t hi) noexcept {
  return c >= lo && c <= hi;
}

/// Whether the 8 bytes at `p` are all ASCII.
bool ascii8(const char* p) noexcept {
  std::uint64_t word = 0;
  std::memcpy(&word, p, sizeof word);
  return (word & 0x8080808080808080ULL) == 0;
}

/// Length of the well-formed UTF-8 sequence starting at s[i] (whose lead
/// byte is not ASCII), or 0 when it is malformed.
std::size_t utf8_sequence(
  const char* s, std::size_t i, std::size_t n) noexcept {
  auto c = byte_at(s, i);
  // The allowed range of the second byte and the sequence length.
  std::uint8_t lo = 0x80;
  std::uint8_t hi = 0xBF;
  std::size_t len = 0;
  if (in_range(c, 0xC2, 0xDF)) {
    len = 2;
  } else if (c == 0xE0) {
    len = 3;
    lo = 0xA0;
  } else if (in_range(c, 0xE1, 0xEC) || in_range(c, 0xEE, 0xEF)) {
    len = 3;
  } else if (c == 0xED) {
    len = 3;
    hi = 0x9F; // no surrogates
  } else if (c == 0xF0) {
    len = 4;
    lo = 0x90;
  } else if (in_range(c, 0xF1, 0xF3)) {
    len = 4;
  } else if (c == 0xF4) {
    len = 4;
    hi = 0x8F; // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > n || !in_range(byte_at(s, i + 1), lo, hi))
    return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (!in_range(byte_at(s, i + k), 0x80, 0xBF))
      return 0;
  return len;
}

} // namespace

std::string ws_handshake_key(std::uint64_t random_hi, std::uint64_t random_lo) {
  std::array<unsigned char, 16> raw{};
  for (std::size_t i = 0; i < 8; ++i) {
    raw[i] = static_cast<unsigned char>(random_hi >> (8 * i));
    raw[8 + i] = static_cast<unsigned char>(random_lo >> (8 * i));
  }
  return base64(raw.data(), raw.size());
}

std::string ws_accept_value(std::string_view key) {
  std::string input{key};
  input += accept_guid;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(
        input.data(), input.size(), digest.data(), &size, EVP_sha1(), nullptr)
    != 1)
    return {};
  return base64(digest.data(), size);
}

namespace {

/// Appends a final frame's header: opcode, mask bit and length.
void append_header(
  std::string& out, ws_opcode op, std::size_t len, std::uint8_t mask_bit) {
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(op)));
  if (len < 126) {
    out.push_back(static_cast<char>(mask_bit | len));
  } else if (len <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(
        static_cast<char>((static_cast<std::uint64_t>(len) >> shift) & 0xFF));
  }
}

} // namespace

void ws_append_client_frame(std::string& out, ws_opcode op,
  std::string_view payload, std::uint32_t mask_key) {
  auto len = payload.size();
  append_header(out, op, len, 0x80);
  std::array<char, 4> mask{};
  for (std::size_t i = 0; i < 4; ++i)
    mask[i] = static_cast<char>(mask_key >> (24 - 8 * i));
  out.append(mask.data(), mask.size());
  auto start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < len; ++i)
    out[start + i] = static_cast<char>(out[start + i] ^ mask[i & 3]);
}

void ws_append_server_frame(
  std::string& out, ws_opcode op, std::string_view payload) {
  append_header(out, op, payload.size(), 0);
  out.append(payload);
}

bool ws_read_header(
  const char* data, std::size_t size, ws_frame_header& h) noexcept {
  if (size < 2)
    return false;
  auto b0 = byte_at(data, 0);
  auto b1 = byte_at(data, 1);
  h.fin = (b0 & 0x80) != 0;
  h.reserved = (b0 & 0x70) != 0;
  h.op = static_cast<ws_opcode>(b0 & 0x0F);
  h.control = (b0 & 0x08) != 0;
  h.masked = (b1 & 0x80) != 0;
  h.length = b1 & 0x7F;
  h.size = 2;
  if (h.length == 126) {
    h.size = 4;
  } else if (h.length == 127) {
    h.size = 10;
  }
  if (size < h.size + (h.masked ? 4 : 0))
    return false;
  if (h.size > 2)
    h.length = read_be(data + 2, h.size - 2);
  if (h.masked) {
    for (std::size_t i = 0; i < 4; ++i)
      h.mask[i] = byte_at(data, h.size + i);
    h.size += 4;
  }
  return true;
}

std::string ws_close_payload(std::uint16_t code) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  return out;
}

bool ws_valid_utf8(std::string_view text) noexcept {
  const char* s = text.data();
  std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    while (i + 8 <= n && ascii8(s + i))
      i += 8;
    if (i >= n)
      break;
    if (byte_at(s, i) < 0x80) {
      ++i;
      continue;
    }
    auto len = utf8_sequence(s, i, n);
    if (len == 0)
      return false;
    i += len;
  }
  return true;
}

ws_frame_decoder::ws_frame_decoder(std::size_t max_message) noexcept
    : max_message_(max_message) {}

std::size_t ws_frame_decoder::next(
  const char* data, std::size_t size, ws_event& ev) {
  ev = ws_event{};
  auto fail = [&ev](const char* why) {
    ev.kind = ws_event_kind::protocol_error;
    ev.error = why;
    return std::size_t{0};
  };
  ws_frame_header h;
  if (!ws_read_header(data, size, h))
    return 0;
  if (h.reserved)
    return fail("reserved bits set");
  if (h.masked)
    return fail("masked frame from the server");
  auto op = h.op;
  auto len = h.length;
  auto header = h.size;
  bool fin = h.fin;
  if (h.control) {
    if (op != ws_opcode::close && op != ws_opcode::ping
      && op != ws_opcode::pong)
      return fail("unknown opcode");
    if (!fin)
      return fail("fragmented control frame");
    if (len > 125)
      return fail("control frame longer than 125 bytes");
  } else if (op == ws_opcode::continuation) {
    if (!in_message_)
      return fail("continuation without a message");
    if (len > max_message_ - fragments_.size())
      return fail("message too big");
  } else if (op == ws_opcode::text || op == ws_opcode::binary) {
    if (in_message_)
      return fail("new message inside a fragmented one");
    if (len > max_message_)
      return fail("message too big");
  } else {
    return fail("unknown opcode");
  }
  auto total = header + static_cast<std::size_t>(len);
  if (size < total) {
    ev.need = total;
    return 0;
  }
  std::string_view payload{data + header, static_cast<std::size_t>(len)};
  switch (op) {
    case ws_opcode::ping:
      ev.kind = ws_event_kind::ping;
      ev.payload = payload;
      return total;
    case ws_opcode::pong:
      ev.kind = ws_event_kind::pong;
      ev.payload = payload;
      return total;
    case ws_opcode::close:
      if (len == 1)
        return fail("close frame with a one-byte payload");
      ev.kind = ws_event_kind::close;
      if (len >= 2) {
        ev.close_code = static_cast<std::uint16_t>(read_be(data + header, 2));
        ev.payload = payload.substr(2);
      }
      return total;
    case ws_opcode::continuation:
      fragments_.append(payload);
      if (!fin) {
        ev.kind = ws_event_kind::fragment;
        return total;
      }
      in_message_ = false;
      if (!message_binary_ && !ws_valid_utf8(fragments_))
        return fail("text message is not UTF-8");
      ev.kind = ws_event_kind::message;
      ev.binary = message_binary_;
      ev.payload = fragments_;
      return total;
    default: // text or binary
      break;
  }
  bool binary = op == ws_opcode::binary;
  if (!fin) {
    in_message_ = true;
    message_binary_ = binary;
    fragments_.assign(payload);
    ev.kind = ws_event_kind::fragment;
    return total;
  }
  if (!binary && !ws_valid_utf8(payload))
    return fail("text message is not UTF-8");
  ev.kind = ws_event_kind::message;
  ev.binary = binary;
  ev.payload = payload;
  return total;
}

} // namespace csp::net
