#define CAF_SUITE processing_shard
#define FAIL(msg) CAF_FAIL(msg)
#include "caf/test/dsl.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "actors/processing_shard.hpp"
#include "messages/type_ids.hpp"
#include "tests/actors/actor_test_support.hpp"

using namespace csp;
using namespace csp::messages;

namespace {

constexpr int64_t t0 = 1705312800000; // 2024-01-15T10:00:00Z
constexpr int64_t minute = 60000;

struct shard_config : caf::actor_system_config {
  shard_config() { register_types(*this); }
};

using csp::test_support::make_trade;
using csp::test_support::received;
using csp::test_support::recorder;

struct fixture : test_coordinator_fixture<shard_config> {
  std::shared_ptr<received> out = std::make_shared<received>();
  std::shared_ptr<int64_t> clock = std::make_shared<int64_t>(t0);
  std::shared_ptr<received> forming_out = std::make_shared<received>();
  std::shared_ptr<received> feature_out = std::make_shared<received>();
  caf::actor sink;
  caf::actor forming;
  caf::actor feature_sink;
  caf::actor shard;

  fixture() {
    sink = sys.spawn(recorder, out);
    forming = sys.spawn(recorder, forming_out);
    feature_sink = sys.spawn(recorder, feature_out);
    spawn_shard(250);
  }

  void spawn_shard(int64_t tick_ms) {
    actors::processing_options opts;
    opts.tick_ms = tick_ms;
    opts.metrics_flush_ms = 1000;
    opts.quality_report_ms = 1000;
    opts.metrics = sink;
    opts.sinks = {sink};
    opts.trade_sinks = {sink};
    opts.forming_sinks = {forming};
    opts.forming_interval_ms = 500;
    opts.feature_sinks = {feature_sink};
    auto c = clock;
    opts.now_ms = [c] { return *c; };
    shard = actors::spawn_processing_shard(sys, std::move(opts));
    // sched.run(), not run(): the shard's timer re-arms itself forever.
    sched.run();
  }

  ~fixture() {
    anon_send_exit(shard, caf::exit_reason::user_shutdown);
    anon_send_exit(sink, caf::exit_reason::user_shutdown);
    anon_send_exit(forming, caf::exit_reason::user_shutdown);
    anon_send_exit(feature_sink, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void send_trades(std::vector<trade> ts) {
    self->send(shard, trade_batch{"binance", "BTCUSDT", std::move(ts)});
    run_once_all();
  }

  /// Processes every ready message without firing a timer.
  void run_once_all() { sched.run(); }

  /// Moves the wall clock and fires the shard's timer once.
  void tick_at(int64_t now) {
    *clock = now;
    sched.trigger_timeout();
    run_once_all();
  }

  /// Values of every entry named `name`, in the order sent.
  std::vector<double> values_of(const std::string& name) {
    std::vector<double> xs;
    for (auto& e : out->metrics)
      if (e.name == name)
        xs.push_back(e.value);
    return xs;
  }

  /// Four ticks 250 ms apart from `from`: the fourth flushes metrics.
  void flush_ticks(int64_t from) {
    for (int64_t i = 0; i < 4; ++i)
      tick_at(from + i * 250);
  }

  double metric(const std::string& name, const std::string& label_value) {
    double sum = 0;
    for (auto& e : out->metrics)
      if (e.name == name)
        for (auto& l : e.labels)
          if (l.second == label_value)
            sum += e.value;
    return sum;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(processing_shard_tests, fixture)

CAF_TEST(a closed minute reaches the sinks with its indicators) {
  send_trades({make_trade(1, 4200000000000, t0 + 1000),
    make_trade(2, 4210000000000, t0 + 20000)});
  CAF_CHECK(out->bars.empty());
  // The timer closes the bar once the clock passes 10:01 plus the grace.
  tick_at(t0 + minute + 1000);
  CAF_CHECK(out->bars.empty());
  tick_at(t0 + minute + 2500);
  CAF_REQUIRE_EQUAL(out->bars.size(), 1u);
  auto& b = out->bars[0];
  CAF_CHECK(b.tf == timeframe::m1);
  CAF_CHECK_EQUAL(b.symbol, "BTCUSDT");
  CAF_CHECK_EQUAL(b.open_time_ms, t0);
  CAF_CHECK_EQUAL(b.trade_count, 2);
  CAF_CHECK_EQUAL(to_string(b.close), "42100");
  CAF_REQUIRE_EQUAL(out->snapshots.size(), 1u);
  auto& s = out->snapshots[0];
  CAF_CHECK_EQUAL(s.open_time_ms, t0);
  CAF_CHECK(s.closed);
  // One bar: SMA 20 is still null, VWAP is the typical price.
  CAF_CHECK(indicator_snapshot::is_null(s.get(indicator::sma_20)));
  CAF_CHECK_EQUAL(s.get(indicator::vwap), (42100.0 + 42000.0 + 42100.0) / 3);
}

CAF_TEST(metrics count completed bars and their latency) {
  send_trades({make_trade(1, 4200000000000, t0 + 1000)});
  // A trade at 10:01:02.5 (received at once) keeps the feed fresh and, as
  // the newest trade time passes the boundary plus grace, closes 10:00
  // 2.5 s after its boundary.
  *clock = t0 + minute + 2500;
  send_trades({make_trade(2, 4200000000000, t0 + minute + 2500)});
  // Four ticks per flush: the fourth tick after start flushes.
  tick_at(t0 + minute + 2500);
  tick_at(t0 + minute + 2750);
  tick_at(t0 + minute + 3000);
  tick_at(t0 + minute + 3250);
  CAF_CHECK_EQUAL(metric("bars_completed_total", "1m"), 1.0);
  bool seen = false;
  for (auto& e : out->metrics)
    if (e.name == "bar_completion_duration_seconds") {
      seen = true;
      CAF_CHECK(e.kind == metric_kind::histogram_observe);
      // From the due time (boundary + 2 s grace) to the message.
      CAF_CHECK_EQUAL(e.value, 0.5);
    }
  CAF_CHECK(seen);
  CAF_CHECK_EQUAL(metric("data_quality_score", "BTCUSDT"), 100.0);
  CAF_CHECK(!out->reports.empty());
}

CAF_TEST(empty minutes of a down feed get no bar) {
  send_trades({make_trade(1, 4200000000000, t0 + 1000)});
  tick_at(t0 + minute + 2500);
  CAF_REQUIRE_EQUAL(out->bars.size(), 1u);
  self->send(
    shard, feed_status{"binance", {"BTCUSDT"}, false, t0 + minute, "test"});
  run_once_all();
  tick_at(t0 + 3 * minute + 2500);
  CAF_CHECK_EQUAL(out->bars.size(), 1u);
  self->send(
    shard, feed_status{"binance", {"BTCUSDT"}, true, t0 + minute, "test"});
  run_once_all();
  tick_at(t0 + 4 * minute + 2500);
  // 10:03 closed while healthy: a zero-volume bar at the last close.
  std::vector<bar> m1;
  for (auto& b : out->bars)
    if (b.tf == timeframe::m1)
      m1.push_back(b);
  CAF_REQUIRE_EQUAL(m1.size(), 2u);
  CAF_CHECK_EQUAL(m1[1].open_time_ms, t0 + 3 * minute);
  CAF_CHECK_EQUAL(m1[1].trade_count, 0);
}

CAF_TEST(a revision re - emits the bar and its indicator values) {
  send_trades({make_trade(1, 4200000000000, t0 + 1000)});
  tick_at(t0 + minute + 2500);
  CAF_REQUIRE_EQUAL(out->bars.size(), 1u);
  send_trades({make_trade(2, 4300000000000, t0 + 30000)});
  CAF_REQUIRE_EQUAL(out->bars.size(), 2u);
  CAF_CHECK_EQUAL(out->bars[1].revision, 1);
  CAF_CHECK_EQUAL(to_string(out->bars[1].close), "43000");
  CAF_REQUIRE_EQUAL(out->snapshots.size(), 2u);
  CAF_CHECK_EQUAL(out->snapshots[1].open_time_ms, t0);
  CAF_CHECK_NOT_EQUAL(out->snapshots[1].get(indicator::vwap),
    out->snapshots[0].get(indicator::vwap));
}

CAF_TEST(trade sinks get the accepted trades without duplicates) {
  send_trades({make_trade(1, 100, t0 + 1000), make_trade(2, 101, t0 + 2000),
    make_trade(1, 100, t0 + 1000)});
  send_trades({make_trade(2, 101, t0 + 2000), make_trade(3, 102, t0 + 3000)});
  CAF_REQUIRE_EQUAL(out->trades.size(), 2u);
  std::vector<int64_t> ids;
  for (const auto& b : out->trades) {
    CAF_CHECK_EQUAL(b.exchange, "binance");
    CAF_CHECK_EQUAL(b.symbol, "BTCUSDT");
    for (const auto& t : b.trades)
      ids.push_back(t.id);
  }
  CAF_CHECK_EQUAL(ids, (std::vector<int64_t>{1, 2, 3}));
}

CAF_TEST(forming bars and peek indicators are published while trades come) {
  send_trades({make_trade(1, 4200000000000, t0 + 1000),
    make_trade(2, 4210000000000, t0 + 2000)});
  // Every other tick (500 ms at 250 ms ticks) publishes.
  tick_at(t0 + 2250);
  tick_at(t0 + 2500);
  CAF_REQUIRE_EQUAL(forming_out->bars.size(), messages::all_timeframes.size());
  CAF_REQUIRE_EQUAL(
    forming_out->snapshots.size(), messages::all_timeframes.size());
  for (std::size_t i = 0; i < forming_out->bars.size(); ++i) {
    const auto& b = forming_out->bars[i];
    const auto& s = forming_out->snapshots[i];
    CAF_CHECK(!b.closed);
    CAF_CHECK(!s.closed);
    CAF_CHECK(b.tf == s.tf);
    CAF_CHECK_EQUAL(b.open_time_ms, s.open_time_ms);
    CAF_CHECK_EQUAL(b.trade_count, 2);
    CAF_CHECK_EQUAL(to_string(b.open), "42000");
    CAF_CHECK_EQUAL(to_string(b.close), "42100");
    // The peek VWAP of the forming bar is its typical price.
    CAF_CHECK_EQUAL(s.get(indicator::vwap), (42100.0 + 42000.0 + 42100.0) / 3);
  }
  // Nothing new: nothing published; forming bars never reach the sinks.
  tick_at(t0 + 2750);
  tick_at(t0 + 3000);
  CAF_CHECK_EQUAL(forming_out->bars.size(), messages::all_timeframes.size());
  CAF_CHECK(out->bars.empty());
  // A new trade: the next publication shows it.
  send_trades({make_trade(3, 4190000000000, t0 + 3100)});
  tick_at(t0 + 3250);
  tick_at(t0 + 3500);
  CAF_REQUIRE_EQUAL(
    forming_out->bars.size(), 2 * messages::all_timeframes.size());
  CAF_CHECK_EQUAL(to_string(forming_out->bars.back().low), "41900");
  CAF_CHECK_EQUAL(forming_out->bars.back().trade_count, 3);
}

CAF_TEST(bars close on a timer armed for their due time) {
  // A housekeeping tick far away: only the close timer can close the bar.
  anon_send_exit(shard, caf::exit_reason::user_shutdown);
  sched.run();
  spawn_shard(3'600'000);
  send_trades({make_trade(1, 4200000000000, t0 + 1000)});
  using std::chrono::milliseconds;
  // Due at 10:01 plus the 2 s grace.
  *clock = t0 + minute + 1999;
  sched.clock().advance_time(milliseconds{minute + 1999});
  run_once_all();
  CAF_CHECK(out->bars.empty());
  *clock = t0 + minute + 2000;
  sched.clock().advance_time(milliseconds{1});
  run_once_all();
  CAF_REQUIRE_EQUAL(out->bars.size(), 1u);
  CAF_CHECK_EQUAL(out->bars[0].open_time_ms, t0);
  // The next minute (zero volume) is due a minute later.
  *clock = t0 + 2 * minute + 2000;
  sched.clock().advance_time(milliseconds{minute});
  run_once_all();
  CAF_REQUIRE_EQUAL(out->bars.size(), 2u);
  CAF_CHECK_EQUAL(out->bars[1].open_time_ms, t0 + minute);
  // Closed exactly at their due time: completion 0 s, flushed on the tick.
  sched.clock().advance_time(milliseconds{3'600'000});
  run_once_all();
  int seen = 0;
  for (auto& e : out->metrics)
    if (e.name == "bar_completion_duration_seconds") {
      ++seen;
      CAF_CHECK_EQUAL(e.value, 0.0);
    }
  CAF_CHECK_EQUAL(seen, 2);
}

CAF_TEST(polled candles build the higher timeframes with indicators) {
  candle_batch cb{"yahoo", "AAPL", {}};
  for (int64_t i = 0; i < 5; ++i) {
    bar c;
    c.exchange = "yahoo";
    c.symbol = "AAPL";
    c.tf = timeframe::m1;
    c.open_time_ms = t0 + i * minute;
    c.close_time_ms = c.open_time_ms + minute - 1;
    c.open.units = (100 + i) * 100000000;
    c.high.units = (102 + i) * 100000000;
    c.low.units = (99 + i) * 100000000;
    c.close.units = (101 + i) * 100000000;
    c.volume.units = int64_t{1000} * 100000000;
    c.trade_count = 10;
    c.closed = true;
    cb.candles.push_back(c);
  }
  self->send(shard, cb);
  run_once_all();
  std::vector<bar> m1;
  std::vector<bar> m5;
  for (auto& b : out->bars)
    (b.tf == timeframe::m1 ? m1 : m5).push_back(b);
  CAF_CHECK_EQUAL(m1.size(), 5u);
  CAF_REQUIRE_EQUAL(m5.size(), 1u);
  CAF_CHECK(m5[0].tf == timeframe::m5);
  CAF_CHECK_EQUAL(to_string(m5[0].open), "100");
  CAF_CHECK_EQUAL(to_string(m5[0].high), "106");
  CAF_CHECK_EQUAL(to_string(m5[0].low), "99");
  CAF_CHECK_EQUAL(to_string(m5[0].close), "105");
  CAF_CHECK_EQUAL(m5[0].trade_count, 50);
  // One snapshot per bar; the 5m series has its own first bar: its VWAP is
  // that bar's typical price.
  CAF_REQUIRE_EQUAL(out->snapshots.size(), 6u);
  const auto& s = out->snapshots.back();
  CAF_CHECK(s.tf == timeframe::m5);
  CAF_CHECK_EQUAL(s.get(indicator::vwap), (106.0 + 99.0 + 105.0) / 3);
}

CAF_TEST(closed bars and revisions get feature vectors in the feature sinks) {
  send_trades({make_trade(1, 4200000000000, t0 + 1000),
    make_trade(2, 4210000000000, t0 + 20000)});
  tick_at(t0 + minute + 2500);
  CAF_REQUIRE_EQUAL(feature_out->features.size(), 1u);
  auto& fv = feature_out->features[0];
  CAF_CHECK_EQUAL(fv.exchange, "binance");
  CAF_CHECK_EQUAL(fv.symbol, "BTCUSDT");
  CAF_CHECK(fv.tf == timeframe::m1);
  CAF_CHECK_EQUAL(fv.open_time_ms, t0);
  CAF_CHECK(fv.closed);
  // (high - low) / close of the bar 42000..42100; no history for returns.
  CAF_CHECK_EQUAL(fv.get(feature::range_pct), (42100.0 - 42000.0) / 42100.0);
  CAF_CHECK(std::isnan(fv.get(feature::log_return_1)));
  // Features go to the feature sinks only.
  CAF_CHECK(out->features.empty());
  // A revision of the closed minute (a later trade, the new close): its
  // features again, recomputed.
  send_trades({make_trade(3, 4150000000000, t0 + 30000)});
  CAF_REQUIRE_EQUAL(feature_out->features.size(), 2u);
  CAF_CHECK_EQUAL(feature_out->features[1].open_time_ms, t0);
  CAF_CHECK_EQUAL(feature_out->features[1].get(feature::range_pct),
    (42100.0 - 41500.0) / 41500.0);
  flush_ticks(t0 + minute + 2750);
  CAF_CHECK_EQUAL(metric("features_calculated_total", "BTCUSDT"), 2.0);
  auto took = values_of("feature_calculation_duration_seconds");
  CAF_CHECK_EQUAL(took.size(), 2u);
  for (auto x : took)
    CAF_CHECK(x >= 0.0 && x < 1.0);
}

CAF_TEST(data freshness grows while no trade arrives) {
  *clock = t0 + 1000;
  send_trades({make_trade(1, 4200000000000, t0 + 1000)});
  flush_ticks(t0 + 1000);
  flush_ticks(t0 + 2000);
  // The feed went silent: the gauge keeps growing on every flush.
  flush_ticks(t0 + 10000);
  CAF_CHECK_EQUAL(values_of("data_freshness_seconds"),
    (std::vector<double>{0.75, 1.75, 9.75}));
  // A trade resets it.
  *clock = t0 + 12000;
  send_trades({make_trade(2, 4200000000000, t0 + 12000)});
  flush_ticks(t0 + 12000);
  CAF_CHECK_EQUAL(values_of("data_freshness_seconds").back(), 0.75);
}

CAF_TEST(price anomalies are counted per symbol and the counters start at 0) {
  std::vector<trade> ts;
  for (int64_t i = 1; i <= 30; ++i)
    ts.push_back(make_trade(i, 4200000000000, t0 + i * 100));
  send_trades(std::move(ts));
  flush_ticks(t0 + 3000);
  // Both anomaly series exist before any anomaly.
  CAF_CHECK_EQUAL(
    values_of("price_anomalies_detected_total"), (std::vector<double>{0}));
  CAF_CHECK_EQUAL(
    values_of("volume_anomalies_detected_total"), (std::vector<double>{0}));
  // 20% above the mean of the window: a price anomaly.
  send_trades({make_trade(31, 5040000000000, t0 + 3100)});
  flush_ticks(t0 + 4000);
  CAF_CHECK_EQUAL(metric("price_anomalies_detected_total", "BTCUSDT"), 1.0);
  CAF_CHECK_EQUAL(metric("volume_anomalies_detected_total", "BTCUSDT"), 0.0);
}

CAF_TEST_FIXTURE_SCOPE_END()
