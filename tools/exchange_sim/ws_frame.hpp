#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace csp::tools::ws {

/// RFC 6455 frame opcodes.
enum class opcode : std::uint8_t {
  continuation = 0,
  text = 1,
  binary = 2,
  close = 8,
  ping = 9,
  pong = 10,
};

/// Appends one unmasked, final server frame with `payload` to `out`.
void append_frame(std::string& out, opcode op, std::string_view payload);

/// Returns the Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key.
std::string accept_key(std::string_view client_key);

/// One decoded client frame.
struct frame {
  opcode op = opcode::text;
  bool fin = true;
  /// Unmasked payload.
  std::string payload;
};

/// What decode_frame found at the start of a buffer.
enum class decode_status {
  /// The buffer holds no complete frame yet.
  need_more,
  /// A frame was decoded and `consumed` bytes may be dropped.
  ok,
  /// A protocol violation (unmasked client frame, reserved bits, oversized
  /// or fragmented control frame, payload above the limit).
  error,
};

/// Decodes the first client frame of `data` (at most `max_payload` bytes of
/// payload) into `out`, setting `consumed` to its size on success.
decode_status decode_frame(std::string_view data, std::size_t max_payload,
  frame& out, std::size_t& consumed);

} // namespace csp::tools::ws
