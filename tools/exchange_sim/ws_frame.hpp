#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/ws_frame.hpp"

// The server side of the simulator's WebSocket: frame encoding and the
// handshake's accept value come from net/ws_frame; this decodes the
// (masked) client frames.

namespace csp::tools::ws {

/// RFC 6455 frame opcodes.
using opcode = net::ws_opcode;

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
