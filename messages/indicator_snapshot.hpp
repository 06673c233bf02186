#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages/same_bits.hpp"
#include "messages/timeframe.hpp"

namespace csp::messages {

/// The indicators computed for every bar, in output-column order.
enum class indicator : std::uint8_t {
  sma_20,
  sma_50,
  sma_100,
  sma_200,
  ema_12,
  ema_26,
  ema_50,
  rsi_14,
  macd,
  macd_signal,
  macd_hist,
  bb_upper,
  bb_middle,
  bb_lower,
  stoch_k,
  stoch_d,
  atr_14,
  adx_14,
  vwap,
};

inline constexpr std::size_t indicator_count = 19;

/// Column names, indexed by `indicator`.
inline constexpr std::array<std::string_view, indicator_count> indicator_names{
  "sma_20", "sma_50", "sma_100", "sma_200", "ema_12", "ema_26", "ema_50",
  "rsi_14", "macd", "macd_signal", "macd_hist", "bb_upper", "bb_middle",
  "bb_lower", "stoch_k", "stoch_d", "atr_14", "adx_14", "vwap"};

/// Indicator values for one bar. A value is null (NaN) until the indicator
/// has enough history; it is never 0 for "unknown".
struct indicator_snapshot {
  std::string exchange;
  std::string symbol;
  timeframe tf = timeframe::m1;
  std::int64_t open_time_ms = 0;
  /// False for a peek value computed on the forming bar.
  bool closed = false;
  std::array<double, indicator_count> values{};

  double get(indicator i) const noexcept {
    return values[static_cast<std::size_t>(i)];
  }
  static bool is_null(double v) noexcept { return std::isnan(v); }

  /// Equality treats two nulls as equal and compares values bitwise.
  friend bool operator==(
    const indicator_snapshot& x, const indicator_snapshot& y) noexcept {
    if (x.exchange != y.exchange || x.symbol != y.symbol || x.tf != y.tf
      || x.open_time_ms != y.open_time_ms || x.closed != y.closed)
      return false;
    return same_bits(x.values, y.values);
  }
  friend bool operator!=(
    const indicator_snapshot& x, const indicator_snapshot& y) noexcept {
    return !(x == y);
  }
};

} // namespace csp::messages
