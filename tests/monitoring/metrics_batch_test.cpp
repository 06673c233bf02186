#define CAF_SUITE metrics_batch
#include "caf/test/unit_test.hpp"

#include <string>

#include "monitoring/metrics_batch.hpp"

using csp::messages::metric_entry;
using csp::messages::metric_kind;
using csp::monitoring::metric_batch;

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

const metric_entry* find(const std::vector<metric_entry>& xs, metric_kind k,
  const std::string& name, const pairs& labels) {
  for (const auto& x : xs)
    if (x.kind == k && x.name == name && x.labels == labels)
      return &x;
  return nullptr;
}

} // namespace

CAF_TEST(series are interned by kind name and labels) {
  metric_batch b;
  std::string sym = "BTCUSDT";
  auto a = b.counter(
    "trades_received_total", {{"exchange", "binance"}, {"symbol", sym}});
  auto a2 = b.counter(
    "trades_received_total", {{"exchange", "binance"}, {"symbol", "BTCUSDT"}});
  auto c = b.counter(
    "trades_received_total", {{"exchange", "binance"}, {"symbol", "ETHUSDT"}});
  auto g = b.gauge("data_quality_score", {{"symbol", sym}});
  auto d = b.gauge_delta("data_quality_score", {{"symbol", sym}});
  CAF_CHECK_EQUAL(a, a2);
  CAF_CHECK_NOT_EQUAL(a, c);
  CAF_CHECK_NOT_EQUAL(g, d);
  CAF_CHECK_EQUAL(b.series_count(), 4u);
  CAF_CHECK(b.empty());
}

CAF_TEST(take sums adds keeps last set and lists observations) {
  metric_batch b;
  auto trades = b.counter(
    "trades_received_total", {{"exchange", "binance"}, {"symbol", "BTCUSDT"}});
  auto idle = b.counter(
    "trades_received_total", {{"exchange", "binance"}, {"symbol", "ETHUSDT"}});
  auto score = b.gauge("data_quality_score", {{"symbol", "BTCUSDT"}});
  auto inflight = b.gauge_delta(
    "http_requests_in_progress", {{"endpoint", "/api/v1/bars"}});
  auto dur
    = b.histogram("bar_completion_duration_seconds", {{"timeframe", "1m"}});
  for (int i = 0; i < 1000; ++i)
    b.add(trades);
  b.add(trades, 0.5);
  b.set(score, 90.0);
  b.set(score, 85.0);
  b.add(inflight, 3.0);
  b.add(inflight, -1.0);
  b.observe(dur, 0.001);
  b.observe(dur, 0.002);
  CAF_CHECK(!b.empty());
  auto u = b.take();
  CAF_CHECK(b.empty());
  // Counter + gauge + gauge delta + two observations; idle not sent.
  CAF_REQUIRE_EQUAL(u.entries.size(), 5u);
  auto* t = find(u.entries, metric_kind::counter_add, "trades_received_total",
    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}});
  CAF_REQUIRE(t != nullptr);
  CAF_CHECK_EQUAL(t->value, 1000.5);
  CAF_CHECK(find(u.entries, metric_kind::counter_add, "trades_received_total",
              {{"exchange", "binance"}, {"symbol", "ETHUSDT"}})
    == nullptr);
  auto* s = find(u.entries, metric_kind::gauge_set, "data_quality_score",
    {{"symbol", "BTCUSDT"}});
  CAF_REQUIRE(s != nullptr);
  CAF_CHECK_EQUAL(s->value, 85.0);
  auto* f = find(u.entries, metric_kind::gauge_add, "http_requests_in_progress",
    {{"endpoint", "/api/v1/bars"}});
  CAF_REQUIRE(f != nullptr);
  CAF_CHECK_EQUAL(f->value, 2.0);
  std::vector<double> observed;
  for (const auto& e : u.entries)
    if (e.kind == metric_kind::histogram_observe) {
      CAF_CHECK_EQUAL(e.name, "bar_completion_duration_seconds");
      observed.push_back(e.value);
    }
  CAF_CHECK_EQUAL(observed, (std::vector<double>{0.001, 0.002}));
  // The next tick starts from zero for adds; an untouched gauge is not
  // re-sent.
  b.add(trades, 2.0);
  b.add(idle);
  auto u2 = b.take();
  CAF_REQUIRE_EQUAL(u2.entries.size(), 2u);
  CAF_CHECK_EQUAL(
    find(u2.entries, metric_kind::counter_add, "trades_received_total",
      {{"exchange", "binance"}, {"symbol", "BTCUSDT"}})
      ->value,
    2.0);
  CAF_CHECK(b.take().entries.empty());
}
