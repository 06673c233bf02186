#pragma once

// ML feature vectors of one instrument and timeframe, one closed bar at a
// time: returns, realised volatility, range, indicator-derived and volume
// features (docs/FEATURES.md has every formula and first valid index).
//
// Pure logic: no CAF in this header.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "actors/bar_replay.hpp"
#include "actors/indicator_series.hpp"
#include "actors/indicators.hpp"
#include "messages/feature_vector.hpp"

namespace csp::actors {

/// Computes the features of `messages::feature` from each closed bar and
/// that bar's indicator values, in constant time per bar (fixed 20-slot
/// rings, no allocation). NaN means null: not enough history yet, or the
/// feature is undefined for the bar (a zero denominator).
///
/// The window statistics (volatility, volume z-score and ratio) are
/// recomputed from their ring on every bar, two passes over 20 values:
/// constant work, exact zero for a constant window and no drift however
/// long the series runs.
class feature_calculator {
public:
  /// One value per `messages::feature`.
  using values = std::array<double, messages::feature_count>;

  /// The indicator values of the same bar (indexed by messages::indicator).
  using indicator_values = indicator_calculator::values;

  /// Bars in the return-volatility and volume windows.
  static constexpr std::size_t window = 20;

  /// Bars spanned by the long log return.
  static constexpr std::size_t long_return = 5;

  /// The 0-based bar index at which each feature first has a value when
  /// fed bars with positive closes and volume and TA-Lib indicators.
  static const std::array<std::size_t, messages::feature_count>
    first_valid_index;

  /// Feeds the next closed bar with its indicator values and returns its
  /// features.
  values update(const ohlcv& bar, const indicator_values& ind) noexcept;

  /// Returns what `update(bar, ind)` would return for the forming `bar`,
  /// without changing state.
  values peek(const ohlcv& bar, const indicator_values& ind) const noexcept;

  /// Number of closed bars fed so far.
  std::size_t bars() const noexcept { return bars_; }

private:
  /// The last `window` values of a series, newest at `pos - 1`.
  struct ring {
    std::array<double, window> slots{};
    std::size_t pos = 0;
    std::size_t count = 0;

    void push(double x) noexcept;

    /// The value `back` steps before the newest (0: the newest).
    double at(std::size_t back) const noexcept;
  };

  /// Mean and sample standard deviation of `x` and the newest `window - 1`
  /// values of `r` (null when r holds fewer).
  static std::pair<double, double> window_stats(
    const ring& r, double x) noexcept;

  /// The log return of `close` against the previous close (null for the
  /// first bar or a non-positive close).
  double log_return(double close) const noexcept;

  ring closes_;
  ring returns_;
  ring volumes_;
  std::size_t bars_ = 0;
};

/// Features of one instrument and timeframe over a stream of closed bars
/// that may be revised, fed from an indicator_series: keeps the calculator
/// state before each of the last `history` bars, so a revision replays the
/// bars from the revised one on with their new indicator values. The
/// features after any sequence of revisions equal those of a calculator fed
/// the final bars once (as long as a revision is within the history).
class feature_series {
public:
  using values = feature_calculator::values;

  /// One bar's features, identified by the bar's open time.
  using output = std::vector<std::pair<std::int64_t, values>>;

  explicit feature_series(std::size_t history) : replay_(history) {}

  /// Applies a closed bar (first version or revision) given `ind`, the
  /// output of indicator_series::on_bar for the same bar (its values and
  /// those of every later bar it changed), and appends the features of
  /// every bar whose features changed to `out`, oldest first. Returns false
  /// (and changes nothing) when `ind` is empty or the bar is older than
  /// the history.
  bool on_bar(
    const ohlcv& bar, const indicator_series::output& ind, output& out);

  /// The features of the forming `bar` with its peek indicators.
  values peek(const ohlcv& bar,
    const feature_calculator::indicator_values& ind) const noexcept {
    return replay_.current().peek(bar, ind);
  }

private:
  bar_replay<feature_calculator, feature_calculator::indicator_values> replay_;
};

} // namespace csp::actors
