#pragma once

// The WebSocket wire format (RFC 6455), without sockets: the opening
// handshake's key and accept values, frame headers, frames of either side
// (masked for clients), and the client's decoder that turns received
// bytes into messages and control frames. ws_client.cpp drives the
// decoder from its read buffer, so a single socket read delivers every
// frame it holds, and so does the fan-out benchmark's client
// (bench/ws_fanout.cpp); the exchange simulator's server uses the rest.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace csp::net {

/// Frame opcodes.
enum class ws_opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Close status sent when we end a connection normally.
inline constexpr std::uint16_t ws_close_normal = 1000;

/// Returns a Sec-WebSocket-Key: 16 bytes from `random` (any values) in
/// base64.
std::string ws_handshake_key(std::uint64_t random_hi, std::uint64_t random_lo);

/// Returns the Sec-WebSocket-Accept value a server must answer `key` with:
/// base64(SHA-1(key + the RFC's GUID)).
std::string ws_accept_value(std::string_view key);

/// Appends one complete (FIN) client frame of `payload` to `out`, masked
/// with `mask_key` as clients must.
void ws_append_client_frame(std::string& out, ws_opcode op,
  std::string_view payload, std::uint32_t mask_key);

/// Appends one complete (FIN), unmasked server frame of `payload` to `out`.
void ws_append_server_frame(
  std::string& out, ws_opcode op, std::string_view payload);

/// The fixed part of a frame.
struct ws_frame_header {
  bool fin = true;
  /// RSV1-3 are not all zero (no extension is ever negotiated here).
  bool reserved = false;
  ws_opcode op = ws_opcode::text;
  /// Control frames have bit 3 of the opcode set.
  bool control = false;
  bool masked = false;
  std::array<std::uint8_t, 4> mask{};
  std::uint64_t length = 0;
  /// Bytes of the header, mask included.
  std::size_t size = 0;
};

/// Reads the header at the start of [data, data + size); false while it is
/// incomplete.
bool ws_read_header(
  const char* data, std::size_t size, ws_frame_header& h) noexcept;

/// Returns the payload of a close frame carrying `code`.
std::string ws_close_payload(std::uint16_t code);

/// Returns whether `text` is well-formed UTF-8 (no overlong forms, no
/// surrogates, nothing above U+10FFFF).
bool ws_valid_utf8(std::string_view text) noexcept;

/// What ws_frame_decoder::next found.
enum class ws_event_kind : std::uint8_t {
  /// The buffer ends inside a frame: read more (`need` says how much the
  /// whole frame takes, when its header is complete).
  need_more,
  /// A fragment of a message was consumed; nothing to report yet.
  fragment,
  /// A whole text or binary message.
  message,
  /// Control frames.
  ping,
  pong,
  close,
  /// The peer broke the protocol (`error` says how); the connection must
  /// be failed.
  protocol_error,
};

/// One decoded unit. `payload` points into the buffer passed to next() or
/// into the decoder's fragment store, and is valid until the next call.
struct ws_event {
  ws_event_kind kind = ws_event_kind::need_more;
  std::string_view payload;
  /// message: whether it was sent as binary.
  bool binary = false;
  /// close: the status code (1005 when the frame carried none).
  std::uint16_t close_code = 1005;
  /// protocol_error: a short description.
  const char* error = "";
  /// need_more: bytes the current frame needs in all (0 = header
  /// incomplete).
  std::size_t need = 0;
};

/// Decodes server-to-client frames: unmasked, no extensions. Text messages
/// are checked for UTF-8; a message (assembled from fragments or not)
/// larger than `max_message` bytes is a protocol error.
class ws_frame_decoder {
public:
  explicit ws_frame_decoder(std::size_t max_message) noexcept;

  /// Decodes the first frame of [data, data + size); returns the bytes
  /// consumed (0 for need_more). Call again with the rest of the buffer
  /// until it reports need_more.
  std::size_t next(const char* data, std::size_t size, ws_event& ev);

private:
  std::size_t max_message_;
  /// A fragmented message is being assembled.
  bool in_message_ = false;
  bool message_binary_ = false;
  std::string fragments_;
};

} // namespace csp::net
