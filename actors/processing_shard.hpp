#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "actors/bar_aggregator.hpp"
#include "actors/quality_checker.hpp"

namespace csp::actors {

/// Everything a processing shard holds per instrument (forming bars,
/// indicator series, quality windows, metric deltas, closed bars not yet
/// sent) plus the count of routed messages it has handled. A shard given
/// a memory works in it instead of its own state, so a new incarnation
/// spawned with the same memory after a crash continues exactly where the
/// old one stopped (processing_supervisor replays what it had not handled).
struct processing_shard_memory;

/// Creates an empty memory for a processing shard.
std::shared_ptr<processing_shard_memory> make_processing_shard_memory();

/// Returns how many `trade_batch`, `candle_batch` and `feed_status`
/// messages shards working in `mem` have handled completely (safe to call
/// from any thread).
std::uint64_t handled_messages(const processing_shard_memory& mem) noexcept;

/// Settings of a processing shard.
struct processing_options {
  bar_aggregator_config bars;
  quality_checker_config quality;
  /// How often the shard checks feed staleness and moves every
  /// aggregator's clock to the wall clock (metrics, forming bars and
  /// quality reports are multiples of it). Bars do not wait for it: a
  /// timer armed for the earliest due time (bar end + grace) closes them.
  std::int64_t tick_ms = 250;
  /// How often accumulated metrics go to the metrics actor.
  std::int64_t metrics_flush_ms = 1000;
  /// How often each instrument's quality_report is published.
  std::int64_t quality_report_ms = 5000;
  /// The node's metrics actor (may be invalid: no metrics).
  caf::actor metrics;
  /// Receivers of `std::vector<messages::bar>` (closed bars and
  /// revisions), `std::vector<messages::indicator_snapshot>` and
  /// `messages::quality_report`.
  std::vector<caf::actor> sinks;
  /// Receivers of the trades the shard accepted (`trade_batch`, duplicates
  /// removed), e.g. the raw-trade archive.
  std::vector<caf::actor> trade_sinks;
  /// Receivers of forming bars (`std::vector<messages::bar>` with
  /// closed = false, every timeframe) and their peek indicators
  /// (`std::vector<messages::indicator_snapshot>`, closed = false), e.g. the
  /// live WebSocket broadcaster and the cache.
  std::vector<caf::actor> forming_sinks;
  /// Receivers of the feature vectors of closed bars and revisions
  /// (`std::vector<messages::feature_vector>`), e.g. storage.
  std::vector<caf::actor> feature_sinks;
  /// How often forming bars are published, for the instruments that got
  /// trades since the previous time (0: never).
  std::int64_t forming_interval_ms = 1000;
  /// Wall clock in ms since the epoch; tests inject their own.
  std::function<std::int64_t()> now_ms;
  /// State kept across incarnations (see processing_shard_memory); empty:
  /// the shard keeps its own. A shard with a memory must get its
  /// `trade_batch`, `candle_batch` and `feed_status` from one sender only
  /// (its supervisor), which counts them.
  std::shared_ptr<processing_shard_memory> memory;
};

/// Spawns one processing shard: for every instrument it receives trades of
/// (`trade_batch`), a bar_aggregator, one indicator_series and one
/// feature_series per timeframe and a quality_checker; closed 1m candles of
/// polled sources (`candle_batch`) go to a candle_rollup, which passes them on
/// and builds the higher timeframes. `feed_status` marks feeds up or down
/// (empty minutes of a down feed get no bar). A timer armed for the earliest
/// due time of any instrument (bar end + grace) closes bars. Closed bars, their
/// indicator snapshots and periodic quality reports go to the sinks, their
/// feature vectors to the feature sinks; bars_completed_total,
/// bar_completion_duration_seconds (from the bar's due time, or from the
/// arrival of the input for revisions and polled candles, to the closed-bar
/// message), indicator_calculation_duration_seconds, features_calculated_total,
/// feature_calculation_duration_seconds, data_quality_score,
/// data_quality_checks_failed_total, price_anomalies_detected_total,
/// volume_anomalies_detected_total (all created at 0 by an instrument's first
/// flush) and data_freshness_seconds (seconds since the instrument's newest
/// trade or candle arrived) go to the metrics actor once per flush interval.
caf::actor spawn_processing_shard(
  caf::actor_system& sys, processing_options opts);

/// Spawns a processing shard as a child of `parent` (same behaviour).
caf::actor spawn_processing_shard(
  caf::local_actor* parent, processing_options opts);

} // namespace csp::actors
