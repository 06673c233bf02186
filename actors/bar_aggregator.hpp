#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "actors/id_tracker.hpp"
#include "messages/bar.hpp"
#include "messages/decimal.hpp"
#include "messages/timeframe.hpp"
#include "messages/trade.hpp"

namespace csp::actors {

/// Settings of a bar_aggregator.
struct bar_aggregator_config {
  /// A bar closes when the clock passes its end plus this grace period.
  std::int64_t grace_ms = 2'000;
  /// A trade whose time is more than this behind the aggregator's clock is
  /// late: counted and reported, not applied. Must be >= grace_ms.
  std::int64_t allowed_lateness_ms = 300'000;
  /// Higher timeframes to build from closed 1m bars (1m is always built).
  std::vector<messages::timeframe> higher_timeframes{messages::timeframe::m5,
    messages::timeframe::m15, messages::timeframe::h1, messages::timeframe::h4,
    messages::timeframe::d1};

  /// Returns an empty string when valid, else what is wrong.
  std::string validate() const;
};

/// Receives what a bar_aggregator produces.
class bar_sink {
public:
  virtual ~bar_sink() = default;

  /// A bar closed (revision 0) or changed after it closed (revision > 0).
  virtual void on_bar(const messages::bar& closed_bar) = 0;

  /// A trade that arrived later than the allowed lateness; not applied.
  virtual void on_late_trade(const messages::trade& late) = 0;
};

/// Counters of a bar_aggregator, for metrics.
struct bar_aggregator_stats {
  std::int64_t trades_applied = 0;
  std::int64_t duplicates_dropped = 0;
  std::int64_t late_trades = 0;
  std::int64_t bars_closed = 0;
  std::int64_t revisions = 0;
};

/// Turns the trades of one instrument into OHLCV bars of every timeframe.
///
/// Semantics (docs/ARCHITECTURE.md, "Bars"):
/// - Trades bucket by trade time into UTC-aligned 1m bars [open, open+1m).
///   Open and close are the prices of the first and last trade ordered by
///   (trade time, trade id), so arrival order does not matter.
/// - The clock is max(time given to advance(), newest trade time). A bar
///   closes when the clock reaches its end plus the grace period.
/// - A trade for a closed bar that is within the allowed lateness revises
///   the bar (revision + 1, emitted again); an older trade is late: counted,
///   handed to on_late_trade, never applied.
/// - Trade ids already seen are dropped and counted (ids are sequential
///   per symbol: the aggregator keeps the id range seen plus the gaps in it).
/// - A minute without trades closes as a zero-volume bar at the previous
///   close while the feed is healthy, and as no bar at all while it is not.
/// - Higher timeframes aggregate the 1m bars with trades of their period;
///   a period with only zero-volume minutes is a zero-volume bar at the
///   previous close. They close with their last minute and are revised when
///   one of their minutes is.
class bar_aggregator {
public:
  bar_aggregator(std::string exchange, std::string symbol,
    bar_aggregator_config cfg, bar_sink& sink);

  /// Applies one trade (the hot path: no allocation in the steady state).
  /// Returns false when the trade was dropped as a duplicate (a late trade
  /// is recorded, not dropped, and returns true).
  bool add(const messages::trade& t);

  /// Applies trades in order.
  void add(const std::vector<messages::trade>& ts) {
    for (const auto& t : ts)
      add(t);
  }

  /// Moves the clock to `now_ms` (if later) and closes every bar that is due.
  void advance(std::int64_t now_ms);

  /// Marks the feed healthy or not; decides whether empty minutes that close
  /// from now on become zero-volume bars or gaps.
  void set_feed_healthy(bool healthy) noexcept { healthy_ = healthy; }

  bool feed_healthy() const noexcept { return healthy_; }

  /// Closes every bar that exists (end of input); creates no new minutes.
  void flush();

  /// The forming (not yet closed) bar of `tf` as it stands, if any.
  std::optional<messages::bar> forming(messages::timeframe tf) const;

  const bar_aggregator_stats& stats() const noexcept { return stats_; }

  std::int64_t clock_ms() const noexcept { return clock_; }

  /// The clock value at which advance() next has work (a bar due to close
  /// at its end plus the grace period, or a minute leaving the lateness
  /// window); INT64_MAX when nothing is pending. A timer armed for this
  /// wall time closes every bar when it is due.
  std::int64_t next_due_ms() const noexcept { return next_action_; }

  /// Minutes held in memory (bounded by the allowed lateness).
  std::size_t retained_minutes() const noexcept { return minutes_.size(); }

private:
  /// Trades of one bucket, combined by keys so that order does not matter.
  struct trade_agg {
    std::int64_t count = 0;
    messages::decimal open;
    messages::decimal high;
    messages::decimal low;
    messages::decimal close;
    std::int64_t open_time = 0;
    std::int64_t open_id = 0;
    std::int64_t close_time = 0;
    std::int64_t close_id = 0;
    messages::int128 volume = 0;
    messages::int128 quote_e16 = 0;
    messages::int128 taker_volume = 0;
    messages::int128 taker_quote_e16 = 0;
    std::int64_t first_id = 0;
    std::int64_t last_id = 0;

    void add(const messages::trade& t) noexcept;
    void merge(const trade_agg& other) noexcept;
    bool operator==(const trade_agg& other) const noexcept;
  };

  /// What a bucket shows: its trades, or a zero-volume bar at a price.
  struct bar_value {
    bool exists = false;
    trade_agg trades;
    messages::decimal zero_price;

    bool operator==(const bar_value& other) const noexcept;
    bool operator!=(const bar_value& other) const noexcept {
      return !(*this == other);
    }
  };

  struct minute_slot {
    std::int64_t open_ms = 0;
    trade_agg trades;
    bool closed = false;
    /// Closed without trades while the feed was down: no bar.
    bool gap = false;
    /// -1 until emitted.
    std::int32_t revision = -1;
    bar_value emitted;
  };

  struct period_slot {
    std::int64_t open_ms = 0;
    /// Minutes of this period that left the 1m window (final).
    trade_agg sealed;
    bool sealed_exists = false;
    bool closed = false;
    std::int32_t revision = -1;
    bar_value emitted;
  };

  struct period_series {
    messages::timeframe tf;
    std::deque<period_slot> slots;
  };

  minute_slot& minute_at(std::int64_t open_ms);
  void ensure_minutes_through(std::int64_t open_ms);
  void ensure_periods(std::int64_t minute_open);
  void close_due();
  void update_next_action() noexcept;
  std::size_t minute_index(std::int64_t open_ms) const noexcept {
    return static_cast<std::size_t>(
      (open_ms - minutes_.front().open_ms) / messages::ms_per_minute);
  }
  void close_minute(minute_slot& m);
  void on_closed_minute_changed(std::int64_t first_changed_open);
  void evict_final();
  bar_value minute_value(std::size_t index) const;
  std::optional<messages::decimal> effective_close_before(
    std::size_t index) const;
  bar_value period_value(const period_series& ps, const period_slot& p) const;
  void emit(messages::timeframe tf, std::int64_t open_ms, const bar_value& v,
    std::int32_t revision, bool closed);
  void fill_scratch(messages::timeframe tf, std::int64_t open_ms,
    const bar_value& v, std::int32_t revision, bool closed) const;
  messages::bar make_bar(messages::timeframe tf, std::int64_t open_ms,
    const bar_value& v, std::int32_t revision, bool closed) const;

  std::string exchange_;
  std::string symbol_;
  bar_aggregator_config cfg_;
  bar_sink& sink_;
  bool healthy_ = true;
  std::int64_t clock_;
  /// Clock value at which close_due() has work to do.
  std::int64_t next_action_;
  bar_aggregator_stats stats_;

  /// Trade ids seen, for duplicate detection.
  id_tracker ids_{65'536};

  /// Minutes still open to trades, contiguous, oldest first.
  std::deque<minute_slot> minutes_;
  /// Open time of the newest closed minute (valid when any_closed_).
  std::int64_t closed_through_ = 0;
  bool any_closed_ = false;
  /// Close of the newest evicted minute with trades.
  std::optional<messages::decimal> evicted_close_;
  std::vector<period_series> periods_;

  // Cache of the minute the last trade went to (hot path).
  minute_slot* hot_ = nullptr;
  std::int64_t hot_open_ = 0;

  /// Reused for every emitted bar, so strings are not copied per bar.
  mutable messages::bar scratch_;
};

} // namespace csp::actors
