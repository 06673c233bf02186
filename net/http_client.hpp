#pragma once

#include <functional>
#include <string>

#include "net/io_thread.hpp"
#include "net/url.hpp"

namespace csp::net {

/// The outcome of one HTTP request.
struct http_response {
  /// HTTP status code, or 0 when no response arrived (see error).
  int status = 0;
  std::string body;
  /// The Retry-After header as sent (seconds or an HTTP date), or empty.
  std::string retry_after;
  /// Binance's X-MBX-USED-WEIGHT-1M header (request weight used in the
  /// current minute), or empty.
  std::string used_weight;
  /// Why there is no response, e.g. "connect_failed: ...", "timeout".
  std::string error;
};

/// Sends `GET u.target` to `u` (http or https) on `io` and calls `done`
/// once, on the I/O thread, with the response or the transport error. One
/// connection per request; the whole exchange is bounded by
/// opts.request_timeout. TLS uses SNI and verifies the peer.
void http_get(io_thread& io, const url& u, const client_options& opts,
  std::function<void(http_response)> done);

/// Parses a Retry-After value given in seconds; returns -1 for an empty or
/// non-numeric value (HTTP dates are not supported).
long long parse_retry_after_seconds(const std::string& value);

} // namespace csp::net
