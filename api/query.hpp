#pragma once

// Request-target parsing for the API router (RFC 3986 / RFC 9112
// origin-form): path segments and query parameters, percent-decoded and
// validated, and typed readers for parameter values.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace csp::api {

/// Longest request target accepted, in bytes.
inline constexpr std::size_t max_target_size = 8192;

/// Most query parameters accepted.
inline constexpr std::size_t max_query_params = 32;

/// A request target split and decoded. Every string is valid UTF-8 without
/// NUL, so it can be echoed into JSON and logs.
struct parsed_target {
  /// The decoded path, "/" followed by the segments joined by "/".
  std::string path;
  /// Decoded path segments; "/" has none.
  std::vector<std::string> segments;
  /// Decoded query parameters (name to value; "+" read as a space).
  std::map<std::string, std::string, std::less<>> params;

  /// Returns the value of parameter `name`, or nullptr.
  const std::string* param(std::string_view name) const;
};

/// Splits and decodes an origin-form request target ("/path?query").
/// Returns an error text when the target is longer than max_target_size,
/// does not start with "/", holds a byte outside visible ASCII, a fragment
/// ("#"), a bad percent escape, an escaped NUL, an escaped "/" (%2F) in a
/// path segment, an empty, "." or ".." path segment (a trailing "/" is an
/// empty segment), text that is not UTF-8 after decoding, a parameter
/// without a name, a parameter given twice, or more than max_query_params
/// parameters. Empty query parts ("a=1&&b=2") are skipped; a parameter
/// without "=" has an empty value.
std::variant<parsed_target, std::string> parse_target(std::string_view target);

/// Percent-decodes `text` (RFC 3986 section 2.1); with `plus_is_space`, "+"
/// decodes to a space (HTML form encoding, for query parts). Returns
/// nullopt for a "%" not followed by two hex digits or a decoded NUL.
std::optional<std::string> percent_decode(
  std::string_view text, bool plus_is_space);

/// Returns whether `text` is well-formed UTF-8 (RFC 3629: no overlong
/// forms, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

/// Parses a non-negative decimal integer: digits only (no sign, no
/// spaces, no "0x"), at most int64 max. Returns nullopt otherwise.
std::optional<std::int64_t> parse_non_negative(std::string_view text) noexcept;

/// Parses a point in time as milliseconds since the epoch: either an
/// integer (parse_non_negative) or an ISO-8601 UTC date or date-time in
/// one of the forms "2024-01-31" (midnight), "2024-01-31T10:00:00Z" and
/// "2024-01-31T10:00:00.123Z" (1 to 3 fraction digits). Years 1970..9999;
/// the date must exist (leap years), hours 00..23, minutes and seconds
/// 00..59. Returns nullopt otherwise.
std::optional<std::int64_t> parse_time_ms(std::string_view text) noexcept;

/// A typed query parameter: absent (no value, no error), a value, or an
/// error text that names the parameter.
template <class T>
struct param_value {
  std::optional<T> value;
  std::string error;

  bool ok() const noexcept { return error.empty(); }
};

/// Reads parameter `name` as an integer in [min, max] (parse_non_negative).
param_value<std::int64_t> int_param(const parsed_target& t,
  std::string_view name, std::int64_t min, std::int64_t max);

/// Reads parameter `name` as a point in time (parse_time_ms).
param_value<std::int64_t> time_param(
  const parsed_target& t, std::string_view name);

/// Returns an error text naming the first parameter of `t` not in `known`,
/// else nullopt.
std::optional<std::string> check_known_params(
  const parsed_target& t, std::initializer_list<std::string_view> known);

} // namespace csp::api
