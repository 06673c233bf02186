#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace csp::net {

/// The URL schemes the clients speak.
enum class scheme : std::uint8_t { ws, wss, http, https };

/// Returns the scheme's name, e.g. "wss".
std::string_view to_string(scheme x) noexcept;

/// A parsed absolute URL of one of the supported schemes.
struct url {
  net::scheme kind = net::scheme::http;
  /// Host name or IP address; IPv6 literals without their brackets.
  std::string host;
  /// Explicit port, or the scheme's default (80 or 443).
  std::uint16_t port = 80;
  /// Path plus query, always starting with '/'.
  std::string target = "/";

  /// Returns whether the scheme needs TLS (wss, https).
  bool tls() const noexcept {
    return kind == net::scheme::wss || kind == net::scheme::https;
  }

  /// Returns the value of the HTTP Host header: the host (IPv6 in
  /// brackets), with ":port" unless it is the scheme's default.
  std::string host_header() const;

  /// Returns the URL as text, e.g. "wss://example.com:9443/ws".
  std::string to_string() const;

  friend bool operator==(const url& x, const url& y) {
    return x.kind == y.kind && x.host == y.host && x.port == y.port
      && x.target == y.target;
  }
};

/// The result of parse_url: a URL or the reason why the text is not one.
struct url_result {
  std::optional<url> value;
  /// Empty on success.
  std::string error;
};

/// Parses `text` as `scheme://host[:port][/path][?query]`. Rejects unknown
/// schemes, user info, fragments, empty hosts, ports outside 1-65535 and
/// whitespace or control characters anywhere.
url_result parse_url(std::string_view text);

/// Returns `base` with `path_and_query` appended to its path, e.g. base
/// "http://h/prefix/" and "/api/v3/ping" give target "/prefix/api/v3/ping".
/// The base's own query, if any, is dropped.
url with_target(const url& base, std::string_view path_and_query);

/// Returns the http:// URL (without a path) at which a server listening on
/// `bind_address`:`port` is reached from this machine: the wildcard
/// addresses 0.0.0.0 and :: become 127.0.0.1 and ::1, e.g.
/// "http://[::1]:9090".
std::string local_http_base(std::string_view bind_address, std::uint16_t port);

} // namespace csp::net
