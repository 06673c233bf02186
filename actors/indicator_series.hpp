#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "actors/bar_replay.hpp"
#include "actors/indicators.hpp"

namespace csp::actors {

/// Indicators of one instrument and timeframe over a stream of closed bars
/// that may be revised: keeps the calculator state before each of the last
/// `history` bars, so a revision replays only the bars from the revised one
/// on. The values after any sequence of revisions equal those of a
/// calculator fed the final bars once (as long as a revision is within the
/// history).
class indicator_series {
public:
  using values = indicator_calculator::values;

  /// One bar's values, identified by the bar's open time.
  using output = std::vector<std::pair<std::int64_t, values>>;

  explicit indicator_series(std::size_t history) : replay_(history) {}

  /// Applies a closed bar (a first version or a revision) and appends the
  /// values of every bar whose values it changed to `out`, oldest first.
  /// Returns false (and changes nothing) for a bar older than the history.
  bool on_bar(const ohlcv& bar, output& out);

  /// The values the forming `bar` would have if it closed now.
  values peek(const ohlcv& bar) const noexcept {
    return replay_.current().peek(bar);
  }

  /// Closed bars applied so far (first versions; revisions not counted).
  std::size_t bars() const noexcept { return replay_.current().bars(); }

private:
  /// Indicators need nothing but the bar.
  struct no_input {};

  bar_replay<indicator_calculator, no_input> replay_;
};

} // namespace csp::actors
