#pragma once

// Binance's REST klines (/api/v3/klines) as closed bars: the answer's
// parser and the request path. No CAF here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/bar.hpp"

namespace csp::actors {

/// Parses a klines answer (an array of
/// [openTime, "o", "h", "l", "c", "v", closeTime, "q", n, "V", "Q", "B"])
/// into bars of `tf` (revision 0, closed, trade ids unknown). Returns
/// nullopt and sets `error` when the answer is not a valid kline array,
/// a bar is not aligned to `tf` or prices are not exact decimals.
std::optional<std::vector<messages::bar>> parse_klines(std::string_view body,
  const std::string& exchange, const std::string& symbol,
  messages::timeframe tf, std::string& error);

/// The request target for klines of `symbol` and `tf` with open times in
/// [start_ms, end_ms], at most `limit` (1..1000).
std::string klines_target(std::string_view symbol, messages::timeframe tf,
  std::int64_t start_ms, std::int64_t end_ms, int limit);

/// Request weight of one klines call on Binance (per 1 minute window).
inline constexpr int klines_weight = 2;

} // namespace csp::actors
