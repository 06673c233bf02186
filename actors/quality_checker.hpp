#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/id_tracker.hpp"
#include "messages/quality_report.hpp"
#include "messages/trade.hpp"

namespace csp::actors {

/// The data-quality checks; the names (see to_string) are the stable
/// `check_type` labels of data_quality_checks_failed_total.
enum class check_type : std::uint8_t {
  invalid_value,
  duplicate,
  id_gap,
  stale_feed,
  price_anomaly,
  volume_anomaly,
  timestamp_skew,
};

/// Number of check types.
inline constexpr std::size_t check_type_count = 7;

/// Returns the stable label of a check: "invalid_value", "duplicate",
/// "id_gap", "stale_feed", "price_anomaly", "volume_anomaly",
/// "timestamp_skew".
constexpr std::string_view to_string(check_type x) noexcept {
  switch (x) {
    case check_type::invalid_value:
      return "invalid_value";
    case check_type::duplicate:
      return "duplicate";
    case check_type::id_gap:
      return "id_gap";
    case check_type::stale_feed:
      return "stale_feed";
    case check_type::price_anomaly:
      return "price_anomaly";
    case check_type::volume_anomaly:
      return "volume_anomaly";
    case check_type::timestamp_skew:
      return "timestamp_skew";
  }
  return "?";
}

/// Returns the bit of `x` in the mask returned by quality_checker::check.
constexpr std::uint8_t check_bit(check_type x) noexcept {
  return static_cast<std::uint8_t>(1u << static_cast<unsigned>(x));
}

/// Thresholds and window sizes of a quality_checker. Durations in ms.
struct quality_checker_config {
  /// Length of the sliding score window (default 5 minutes).
  std::int64_t window_ms = 300000;
  /// Resolution of the score window; must divide window_ms.
  std::int64_t bucket_ms = 5000;
  /// The feed is stale when no trade arrived for longer than this.
  std::int64_t max_age_ms = 60000;
  /// Recent trade prices in the price statistics (N).
  std::size_t price_window = 100;
  /// Prices needed in the window before price anomalies are checked.
  std::size_t price_min_samples = 20;
  /// |z| of a log return above this is a price anomaly.
  double price_z_threshold = 6.0;
  /// |price - rolling mean| / rolling mean above this percentage is a price
  /// anomaly.
  double price_move_percent = 10.0;
  /// Floor of the log-return standard deviation, so that a run of equal
  /// prices does not turn the next tick into an infinite z-score.
  double min_return_stddev = 1e-4;
  /// Recent trade quantities in the volume statistics.
  std::size_t volume_window = 100;
  /// z of a quantity (above the mean) over this is a volume anomaly;
  /// checked only once the volume window is full.
  double volume_z_threshold = 8.0;
  /// Floor of the quantity standard deviation, as a fraction of the mean.
  double min_volume_stddev_fraction = 0.1;
  /// |receive time - trade time| above this is a timestamp skew.
  std::int64_t max_skew_ms = 5000;
  /// Most recent issues kept for the report.
  std::size_t max_recent_issues = 20;
  /// Most id ranges remembered as missing (for duplicate detection).
  std::size_t max_tracked_gaps = 64;
  /// Weight of one failed check of each type in the score, indexed by
  /// check_type.
  std::array<double, check_type_count> weights = {1, 1, 1, 1, 1, 1, 1};

  /// Returns an empty string when the configuration is usable, otherwise a
  /// description of the first problem found.
  std::string validate() const;
};

/// A fixed-size window of doubles with running mean and population standard
/// deviation, O(1) per push. The running sums are recomputed from the stored
/// values once per `capacity` pushes so rounding errors cannot accumulate.
class rolling_stats {
public:
  /// Creates an empty window holding at most `capacity` values (>= 1).
  explicit rolling_stats(std::size_t capacity);

  /// Adds `x`, evicting the oldest value when full.
  void push(double x) noexcept;

  /// Returns the number of values held.
  std::size_t size() const noexcept { return size_; }

  /// Returns whether the window holds `capacity` values.
  bool full() const noexcept { return size_ == buf_.size(); }

  /// Returns the mean of the values held (0 when empty).
  double mean() const noexcept;

  /// Returns the population standard deviation of the values held.
  double stddev() const noexcept;

private:
  void recompute() noexcept;

  std::vector<double> buf_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t pushes_since_recompute_ = 0;
  double sum_ = 0;
  double sum_sq_ = 0;
};

/// Data-quality checks and the 0–100 quality score of one instrument.
///
/// `check(trade)` runs, in this order:
/// - duplicate: the trade id was seen before. Ids are sequential per
///   symbol, so the checker keeps only the lowest and highest id seen plus
///   the ranges still missing between them (at most max_tracked_gaps; when
///   more are open the lowest range is forgotten, and ids from it that
///   arrive later count as duplicates). A duplicate is checked no further.
/// - id_gap: the id jumps over missing ids; the issue names the range. An id
///   that fills a missing range (backfill, out-of-order arrival) is not a
///   duplicate; such late trades, like ids below the first id seen, are only
///   checked for invalid values.
/// - invalid_value: price <= 0, quantity <= 0 or trade time <= 0. Such a
///   trade is checked no further.
/// - timestamp_skew: |receive time - trade time| > max_skew_ms (either
///   direction, so trade times in the future count). Skipped when the
///   receive time is 0 (unknown).
/// - price_anomaly: once price_min_samples prices are in the window of the
///   last price_window prices: the log return against the previous price has
///   |r - mean| / max(stddev, min_return_stddev) > price_z_threshold over the
///   window of the last price_window - 1 returns, or the price is more than
///   price_move_percent away from the mean price of the window.
/// - volume_anomaly: once volume_window quantities are in the window:
///   (q - mean) / max(stddev, min_volume_stddev_fraction * mean) >
///   volume_z_threshold (large trades only).
/// - stale_feed: check_staleness(now) finds no trade received for longer
///   than max_age_ms (counted once per stale episode).
/// The statistics are updated before the next trade, anomalies included.
///
/// Time: a trade is observed at its receive time (receive_time_ns / 1e6;
/// trade time when the receive time is 0). The score window is the current
/// bucket of bucket_ms plus the preceding window_ms / bucket_ms - 1 ones, so
/// an event leaves the window between window_ms - bucket_ms and window_ms
/// after it happened.
///
/// Score at `now`, with O = trades observed in the window and
/// F = Σ weights[type] × failed[type] over the window:
/// - 0 when the feed is stale at `now` (now - last receive > max_age_ms,
///   counting from `start_ms` before the first trade);
/// - otherwise 100 when O = 0 and F = 0, 0 when O = 0 and F > 0;
/// - otherwise 100 × max(0, 1 − F / O).
///
/// The per-trade path does not allocate unless an issue is recorded (and
/// not even then once every slot of the recent-issue ring holds a string).
class quality_checker {
public:
  /// Creates a checker for one instrument. `start_ms` is when observation
  /// starts: the feed counts as stale max_age_ms after it without a trade.
  /// The config must be valid.
  quality_checker(std::string exchange, std::string symbol,
    quality_checker_config cfg, std::int64_t start_ms);

  /// Checks one trade; returns the mask of failed checks (see check_bit).
  std::uint8_t check(const messages::trade& t);

  /// Checks every trade of a batch of this instrument, in order.
  void check(const messages::trade_batch& batch);

  /// Records a stale_feed failure when no trade arrived for longer than
  /// max_age_ms before `now_ms` and the feed was not already stale. Returns
  /// whether the feed is stale.
  bool check_staleness(std::int64_t now_ms);

  /// Returns whether no trade arrived for longer than max_age_ms.
  bool is_stale(std::int64_t now_ms) const noexcept {
    return now_ms - last_receive_ms_ > cfg_.max_age_ms;
  }

  /// Returns the score (0–100) at `now_ms`; see the class comment.
  double score(std::int64_t now_ms) const;

  /// Returns the report of the window ending at `now_ms`: score,
  /// observations, failed counts per check type (in check_type order, types
  /// without failures omitted) and the recent issues detected within
  /// window_ms before `now_ms`, oldest first.
  messages::quality_report report(std::int64_t now_ms) const;

  /// Returns the failures of `x` since construction (for counters).
  std::int64_t failed_total(check_type x) const noexcept {
    return failed_total_[static_cast<std::size_t>(x)];
  }

  /// Returns the trades checked since construction.
  std::int64_t observations_total() const noexcept {
    return observations_total_;
  }

  /// Returns the ids reported missing by id_gap issues since construction.
  std::int64_t missing_ids_total() const noexcept { return missing_ids_total_; }

  /// Returns the id ranges currently known to be missing, lowest first.
  const std::vector<std::pair<std::int64_t, std::int64_t>>&
  missing_ranges() const noexcept {
    return ids_.missing();
  }

  /// Returns the configuration.
  const quality_checker_config& config() const noexcept { return cfg_; }

private:
  struct bucket {
    std::int64_t index = std::numeric_limits<std::int64_t>::min();
    std::int64_t observations = 0;
    std::array<std::int64_t, check_type_count> failed{};
  };

  bucket* bucket_at(std::int64_t time_ms);

  void fail(check_type x, std::int64_t trade_id, std::int64_t time_ms,
    const char* detail);

  std::int64_t bucket_index(std::int64_t time_ms) const noexcept;

  std::string exchange_;
  std::string symbol_;
  quality_checker_config cfg_;

  // Id tracking.
  id_tracker ids_;

  // Statistics.
  rolling_stats prices_;
  rolling_stats returns_;
  rolling_stats volumes_;
  double last_price_ = 0;
  bool have_price_ = false;

  // Freshness.
  std::int64_t last_receive_ms_;
  bool stale_ = false;

  // Score window.
  std::vector<bucket> buckets_;

  // Recent issues, a ring; issues_head_ is the next slot to write.
  std::vector<messages::quality_issue> issues_;
  std::size_t issues_head_ = 0;
  std::size_t issues_size_ = 0;

  std::array<std::int64_t, check_type_count> failed_total_{};
  std::int64_t observations_total_ = 0;
  std::int64_t missing_ids_total_ = 0;
};

} // namespace csp::actors
