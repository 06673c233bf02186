#pragma once

// Cross-origin resource sharing (Fetch standard, "CORS protocol") for the
// API: an allow-list of origins, no credentials mode (the API takes bearer
// tokens, not cookies).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csp::api {

/// Which browser origins may call the API.
struct cors_config {
  /// Exact "scheme://host[:port]" entries, or the single entry "*" (any
  /// origin). Empty: no origin is allowed.
  std::vector<std::string> allowed_origins;
};

/// Response header fields (name, value) to add.
struct cors_headers {
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Methods a preflight allows.
inline constexpr std::string_view cors_allow_methods
  = "GET, POST, DELETE, OPTIONS";

/// Request headers a preflight allows.
inline constexpr std::string_view cors_allow_headers
  = "Authorization, Content-Type";

/// Seconds a browser may cache a preflight answer.
inline constexpr std::string_view cors_max_age_s = "600";

/// Returns an error text for an origin entry that can never match a
/// browser's Origin header (see config::check_cors_origin), else nullopt.
std::optional<std::string> check_cors_origin(std::string_view origin);

/// Returns an error text for the first bad entry of `cfg` (including "*"
/// next to other entries), else nullopt.
std::optional<std::string> check_cors_config(const cors_config& cfg);

/// Returns the CORS header fields for a request with this Origin header
/// value (empty: the request has none), or nullopt when the request is not
/// a cross-origin request the configuration allows: then the response gets
/// no CORS header fields at all.
///
/// Every allowed response gets Access-Control-Allow-Origin (the origin
/// itself, or "*" when configured with "*") and Vary: Origin. A preflight
/// (OPTIONS with Access-Control-Request-Method) also gets
/// Access-Control-Allow-Methods, Access-Control-Allow-Headers and
/// Access-Control-Max-Age; other responses get
/// Access-Control-Expose-Headers: Retry-After so scripts can read the
/// rate limiter's answer.
std::optional<cors_headers> cors_for(
  const cors_config& cfg, std::string_view origin, bool preflight);

} // namespace csp::api
