#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/bar_aggregator.hpp"
#include "messages/bar.hpp"
#include "messages/timeframe.hpp"

namespace csp::actors {

/// Counters of a candle_rollup.
struct candle_rollup_stats {
  std::int64_t candles_applied = 0;
  /// Candles equal to one already applied (ignored).
  std::int64_t duplicates = 0;
  /// Candles older than the allowed lateness (not applied).
  std::int64_t late = 0;
  std::int64_t bars_closed = 0;
  std::int64_t revisions = 0;
};

/// Builds the higher timeframes of one instrument whose source delivers
/// closed 1m candles (the stock poller) instead of trades.
///
/// Semantics (docs/ARCHITECTURE.md, "Bars"), the same buckets and rules as
/// bar_aggregator's higher timeframes:
/// - Every candle goes to the sink as the closed 1m bar (revision 0); a
///   later candle of the same minute with other values is a revision.
/// - 5m, 15m, 1h, 4h and 1d (as configured) are UTC-aligned and aggregate
///   the candles of their period that have volume or trades: open of the
///   first, close of the last, highest high, lowest low, summed volumes and
///   trade counts. A period with only zero-volume candles is a zero-volume
///   bar at the first one's close; a period without candles has no bar.
/// - The data clock is the end of the newest candle. A period closes when
///   the data clock reaches its end (its last minute, or a later candle,
///   arrived), or when advance() moves the wall clock past its end plus
///   the allowed lateness (the last minutes of a session never come).
/// - A candle for a closed period revises it (revision + 1, emitted again
///   when the values change). A candle whose minute ended more than the
///   allowed lateness before the data clock is late: counted, not applied.
/// - Candles are kept until every period holding them is closed and out of
///   the lateness window (at most one day of minutes for 1d).
class candle_rollup {
public:
  /// Creates the rollup of one instrument; `cfg.higher_timeframes` are the
  /// periods built, `cfg.allowed_lateness_ms` bounds revisions.
  candle_rollup(std::string exchange, std::string symbol,
    bar_aggregator_config cfg, bar_sink& sink);

  /// Applies one closed 1m candle (other bars are ignored). Returns false
  /// when it was late, a duplicate or not a closed 1m bar.
  bool add(const messages::bar& candle);

  /// Closes every period whose end plus the allowed lateness is at or
  /// before `now_ms` (wall clock).
  void advance(std::int64_t now_ms);

  /// The wall time at which advance() next closes a period; INT64_MAX when
  /// none is open.
  std::int64_t next_due_ms() const noexcept;

  const candle_rollup_stats& stats() const noexcept { return stats_; }

  /// Candles held in memory.
  std::size_t retained_minutes() const noexcept { return minutes_.size(); }

private:
  struct period_slot {
    bool closed = false;
    /// -1 until emitted.
    std::int32_t revision = -1;
    messages::bar emitted;
  };

  struct period_series {
    messages::timeframe tf;
    std::map<std::int64_t, period_slot> slots;
  };

  /// The period's bar from the candles held; false when it has none.
  bool period_value(
    messages::timeframe tf, std::int64_t open_ms, messages::bar& out) const;
  void close_period(period_series& ps, std::int64_t open_ms, period_slot& p);
  void revise_period(period_series& ps, std::int64_t open_ms, period_slot& p);
  void close_through(std::int64_t data_clock_ms);
  void evict();

  std::string exchange_;
  std::string symbol_;
  bar_aggregator_config cfg_;
  bar_sink& sink_;
  /// End of the newest candle applied.
  std::int64_t clock_;
  /// Candles by open time.
  std::map<std::int64_t, messages::bar> minutes_;
  std::vector<period_series> series_;
  candle_rollup_stats stats_;
};

} // namespace csp::actors
