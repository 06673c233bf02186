#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace csp::net {

/// Settings shared by the WebSocket and HTTP clients.
struct client_options {
  /// Limit for resolve + TCP connect + TLS handshake + WebSocket handshake.
  std::chrono::milliseconds connect_timeout{10'000};
  /// HTTP: limit for one whole request, from resolve to the last byte.
  std::chrono::milliseconds request_timeout{30'000};
  /// WebSocket: close the connection when nothing (not even a pong to our
  /// keep-alive ping, sent at half this time) arrives for this long; 0 turns
  /// the idle check off.
  std::chrono::milliseconds idle_timeout{0};
  /// PEM file of trusted CA certificates; empty = the system store.
  std::string ca_file;
  /// Whether to verify the peer's certificate chain and host name.
  bool verify_peer = true;
  /// Largest WebSocket message or HTTP body accepted, in bytes.
  std::size_t max_message_size = std::size_t{16} << 20;
};

/// One Asio io_context run by one dedicated thread. Every client created on
/// it runs its callbacks on that thread, so they never block an actor
/// scheduler thread. The destructor stops the context and joins the thread;
/// outstanding operations are abandoned.
class io_thread {
public:
  /// The io_context and its work guard; defined in net/detail/asio.hpp.
  struct impl;

  /// Starts the thread.
  io_thread();

  ~io_thread();

  io_thread(const io_thread&) = delete;

  io_thread& operator=(const io_thread&) = delete;

  /// Runs `f` on the I/O thread. Thread-safe.
  void post(std::function<void()> f);

  /// Returns the implementation (for the clients in net/).
  impl& get() noexcept { return *impl_; }

private:
  std::unique_ptr<impl> impl_;
};

} // namespace csp::net
