#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "net/io_thread.hpp"
#include "net/url.hpp"

namespace csp::net {

/// What a ws_connection reports. Every callback runs on the io_thread.
struct ws_callbacks {
  /// The WebSocket handshake succeeded.
  std::function<void()> on_open;
  /// One text (or binary) message arrived; the view is valid during the
  /// call only.
  std::function<void(std::string_view)> on_message;
  /// Optional: every message of one socket read has been passed to
  /// on_message (runs after the last of them). A receiver can hand a
  /// read's messages on in one step here instead of one by one.
  std::function<void()> on_read_end;
  /// The connection is gone (or never came up): called exactly once, with
  /// a short reason such as "connect_failed: ...", "tls_failed: ...",
  /// "handshake_failed: ...", "closed_by_peer", "timeout", "closed".
  std::function<void(const std::string& reason)> on_close;
  /// A pause reached its limit and reading resumed by itself.
  std::function<void()> on_pause_expired;
};

/// A client WebSocket connection (ws:// or wss://, as the URL says) driven
/// asynchronously by an io_thread. TLS uses SNI and verifies the peer's
/// certificate against the configured trust store. Pings are answered.
/// One socket read of up to 64 KiB is decoded in one go (net/ws_frame),
/// so a busy feed costs one read and one wake-up per buffer, not per
/// message.
class ws_connection {
public:
  /// The per-connection state; defined in ws_client.cpp.
  struct impl;

  /// Starts connecting to `u` (scheme ws or wss). The callbacks and the
  /// connection state live until on_close has run.
  static std::shared_ptr<ws_connection> open(
    io_thread& io, const url& u, const client_options& opts, ws_callbacks cbs);

  /// Closes the connection if still open (on_close reports "closed").
  ~ws_connection();

  /// Queues a text message. Thread-safe; ignored once closed.
  void send(std::string text);

  /// Starts a normal close handshake. Thread-safe; idempotent.
  void close();

  /// Stops reading: no further read is started, and a message that
  /// completes meanwhile is held back, so nothing reaches on_message and
  /// the peer's sends back up into TCP flow control. Nothing answers the
  /// peer's pings meanwhile, so the pause is bounded: after `max_pause`
  /// (when positive) reading resumes by itself and on_pause_expired runs.
  /// The idle timeout does not run while paused. Pausing again while paused
  /// restarts the limit. Thread-safe; works before the connection is open.
  void pause_reading(std::chrono::milliseconds max_pause);

  /// Reads again, starting with a held-back message. Thread-safe; nothing
  /// happens when not paused.
  void resume_reading();

  /// For open(); use open() instead.
  explicit ws_connection(std::shared_ptr<impl> ptr);

private:
  std::shared_ptr<impl> impl_;
};

} // namespace csp::net
