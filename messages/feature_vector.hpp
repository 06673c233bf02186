#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages/same_bits.hpp"
#include "messages/timeframe.hpp"

namespace csp::messages {

/// The ML features computed for every closed bar, in output-column order
/// (formulas and first valid indices: docs/FEATURES.md).
enum class feature : std::uint8_t {
  log_return_1,
  log_return_5,
  volatility_20,
  range_pct,
  atr_pct,
  rsi_norm,
  macd_hist_pct,
  bb_percent_b,
  bb_width,
  dist_sma_20,
  dist_sma_50,
  dist_ema_12,
  dist_ema_26,
  volume_zscore_20,
  volume_ratio_20,
};

inline constexpr std::size_t feature_count = 15;

/// Column names, indexed by `feature`.
inline constexpr std::array<std::string_view, feature_count> feature_names{
  "log_return_1", "log_return_5", "volatility_20", "range_pct", "atr_pct",
  "rsi_norm", "macd_hist_pct", "bb_percent_b", "bb_width", "dist_sma_20",
  "dist_sma_50", "dist_ema_12", "dist_ema_26", "volume_zscore_20",
  "volume_ratio_20"};

/// The feature vector of one bar. A value is null (NaN) until the feature
/// has enough history or when it is undefined for the bar (say, a zero
/// band width); it is never 0 for "unknown".
struct feature_vector {
  std::string exchange;
  std::string symbol;
  timeframe tf = timeframe::m1;
  std::int64_t open_time_ms = 0;
  /// False for a peek computed on the forming bar.
  bool closed = false;
  std::array<double, feature_count> values{};

  double get(feature i) const noexcept {
    return values[static_cast<std::size_t>(i)];
  }

  /// Equality treats two nulls as equal and compares values bitwise.
  friend bool operator==(
    const feature_vector& x, const feature_vector& y) noexcept {
    return x.exchange == y.exchange && x.symbol == y.symbol && x.tf == y.tf
      && x.open_time_ms == y.open_time_ms && x.closed == y.closed
      && same_bits(x.values, y.values);
  }
  friend bool operator!=(
    const feature_vector& x, const feature_vector& y) noexcept {
    return !(x == y);
  }
};

} // namespace csp::messages
