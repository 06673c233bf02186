#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace csp::test {

/// A small WebSocket client (Boost.Beast) with bounded waits for tests.
class ws_client {
public:
  /// Outcome of a read.
  enum class read_status { ok, timeout, closed };

  ws_client();

  ~ws_client();

  /// Connects to 127.0.0.1:`port` and performs the handshake for `target`;
  /// with a non-empty `ca_file` over TLS, verifying the server against it.
  /// Returns an error message or an empty string.
  std::string connect(std::uint16_t port, const std::string& target,
    const std::string& ca_file = {});

  /// Reads one message into `out`, waiting at most `timeout`. A read that
  /// times out stays pending and is completed by the next call.
  read_status read(std::string& out, std::chrono::milliseconds timeout);

  /// Sends one text message.
  bool write(const std::string& text);

  /// Number of ping frames received so far (answered automatically).
  int pings() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The parts of an HTTP response the tests look at.
struct http_reply {
  /// Status code, 0 on a transport error.
  int status = 0;
  std::string body;
  std::string retry_after;
};

/// Sends one request to 127.0.0.1:`port` (TLS when `ca_file` is set) and
/// waits at most 5 s for the answer.
http_reply http_request(std::uint16_t port, const std::string& method,
  const std::string& target, const std::string& body = {},
  const std::string& ca_file = {});

} // namespace csp::test
