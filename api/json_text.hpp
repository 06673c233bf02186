#pragma once

// Small JSON text writers shared by the API's formatters: strings escaped
// and made valid UTF-8, integers, doubles that round-trip, and Binance's
// fixed 8-decimal numbers. No allocation beyond appending to `out`.

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/decimal.hpp"

namespace csp::api {

/// Appends `s` as a JSON string literal: quotes, backslashes and control
/// characters escaped, valid UTF-8 passed through, each maximal invalid
/// UTF-8 subsequence replaced by U+FFFD.
void append_json_string(std::string& out, std::string_view s);

/// Appends an integer.
void append_json_int(std::string& out, std::int64_t v);

/// Appends the shortest text that reads back as exactly `v`, or `null` for
/// NaN and infinities (JSON has neither).
void append_json_double(std::string& out, double v);

/// Appends a value in 1e-8 units with exactly 8 fractional digits
/// ("0.00100000", "-12.50000000"), as Binance prints prices and volumes.
void append_fixed8(std::string& out, messages::int128 units);

} // namespace csp::api
