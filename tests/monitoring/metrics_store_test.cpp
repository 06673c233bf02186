#define CAF_SUITE metrics_store
#include "caf/test/unit_test.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

#include <prometheus/registry.h>

#include "messages/metric_update.hpp"
#include "monitoring/metrics_store.hpp"
#include "tests/monitoring/exposition_parser.hpp"

using csp::messages::metric_entry;
using csp::messages::metric_kind;
using csp::messages::metric_update;
using csp::monitoring::metrics_store;
using csp::monitoring::update_error;
using labels = std::map<std::string, std::string>;

namespace {

metric_entry entry(metric_kind kind, std::string name,
  std::vector<std::pair<std::string, std::string>> ls, double value) {
  return metric_entry{kind, std::move(name), std::move(ls), value};
}

csp::test::exposition scrape(const metrics_store& store) {
  auto text = store.serialize();
  auto parsed = csp::test::parse_exposition(text);
  CAF_REQUIRE_EQUAL(parsed.error, "");
  return parsed;
}

double errors(const csp::test::exposition& x, const std::string& reason) {
  return x.value("metrics_update_errors_total", {{"reason", reason}})
    .value_or(-1.0);
}

} // namespace

CAF_TEST(a batch changes exactly the addressed series) {
  metrics_store store{csp::monitoring::make_metrics_registry()};
  metric_update u;
  u.entries.push_back(entry(metric_kind::counter_add, "trades_received_total",
    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}, 3.0));
  u.entries.push_back(entry(metric_kind::counter_add, "trades_received_total",
    {{"symbol", "ETHUSDT"}, {"exchange", "binance"}}, 2.0));
  u.entries.push_back(entry(metric_kind::counter_add, "trades_received_total",
    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}, 4.0));
  u.entries.push_back(entry(metric_kind::gauge_set, "collector_health_status",
    {{"exchange", "binance"}}, 1.0));
  u.entries.push_back(entry(metric_kind::gauge_set, "data_quality_score",
    {{"symbol", "BTCUSDT"}}, 97.5));
  u.entries.push_back(entry(metric_kind::gauge_add, "data_quality_score",
    {{"symbol", "BTCUSDT"}}, -2.5));
  auto res = store.apply(u);
  CAF_CHECK_EQUAL(res.applied, 6u);
  CAF_CHECK_EQUAL(res.rejected, 0u);
  auto x = scrape(store);
  CAF_CHECK_EQUAL(x.value("trades_received_total",
                    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}),
    7.0);
  CAF_CHECK_EQUAL(x.value("trades_received_total",
                    {{"exchange", "binance"}, {"symbol", "ETHUSDT"}}),
    2.0);
  CAF_CHECK_EQUAL(x.count("trades_received_total"), 2u);
  CAF_CHECK_EQUAL(
    x.value("collector_health_status", {{"exchange", "binance"}}), 1.0);
  CAF_CHECK_EQUAL(x.value("data_quality_score", {{"symbol", "BTCUSDT"}}), 95.0);
  CAF_CHECK_EQUAL(x.types["trades_received_total"], "counter");
  CAF_CHECK_EQUAL(x.types["data_quality_score"], "gauge");
  // Families without a series are not exported.
  CAF_CHECK_EQUAL(x.types.count("bar_completion_duration_seconds"), 0u);
  // Untouched families have no series; the only other samples are the
  // self-metric (all zero) and the process metrics.
  for (const auto& s : x.samples) {
    if (s.name == "trades_received_total" || s.name == "collector_health_status"
      || s.name == "data_quality_score" || s.name.rfind("process_", 0) == 0)
      continue;
    CAF_CHECK_EQUAL(s.name, "metrics_update_errors_total");
    CAF_CHECK_EQUAL(s.value, 0.0);
  }
  // Keys are the labels as sent: BTC, ETH (other order), health, score.
  CAF_CHECK_EQUAL(store.cached_series(), 4u);
}

CAF_TEST(counters never decrease) {
  metrics_store store{csp::monitoring::make_metrics_registry()};
  auto add = [&](double v) {
    return store.apply(entry(metric_kind::counter_add, "bars_completed_total",
      {{"symbol", "BTCUSDT"}, {"timeframe", "1m"}}, v));
  };
  CAF_CHECK_EQUAL(add(5.0), update_error::none);
  CAF_CHECK_EQUAL(add(-1.0), update_error::negative_counter);
  CAF_CHECK_EQUAL(
    add(std::numeric_limits<double>::quiet_NaN()), update_error::non_finite);
  CAF_CHECK_EQUAL(
    add(std::numeric_limits<double>::infinity()), update_error::non_finite);
  // A counter cannot be set either.
  CAF_CHECK_EQUAL(
    store.apply(entry(metric_kind::gauge_set, "bars_completed_total",
      {{"symbol", "BTCUSDT"}, {"timeframe", "1m"}}, 0.0)),
    update_error::wrong_kind);
  auto x = scrape(store);
  CAF_CHECK_EQUAL(x.value("bars_completed_total",
                    {{"symbol", "BTCUSDT"}, {"timeframe", "1m"}}),
    5.0);
  CAF_CHECK_EQUAL(errors(x, "negative_counter"), 1.0);
  CAF_CHECK_EQUAL(errors(x, "non_finite"), 2.0);
  CAF_CHECK_EQUAL(errors(x, "wrong_kind"), 1.0);
}

CAF_TEST(wrong label sets and names are rejected and counted) {
  metrics_store store{csp::monitoring::make_metrics_registry()};
  metric_update u;
  // Missing label.
  u.entries.push_back(entry(metric_kind::counter_add, "trades_received_total",
    {{"exchange", "binance"}}, 1.0));
  // Extra label.
  u.entries.push_back(entry(metric_kind::counter_add, "trades_received_total",
    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}, {"side", "buy"}}, 1.0));
  // Misspelt label.
  u.entries.push_back(entry(metric_kind::counter_add, "trades_received_total",
    {{"exchange", "binance"}, {"symbo", "BTCUSDT"}}, 1.0));
  // Repeated label.
  u.entries.push_back(entry(metric_kind::counter_add, "trades_received_total",
    {{"exchange", "binance"}, {"exchange", "x"}}, 1.0));
  // Unknown metric.
  u.entries.push_back(
    entry(metric_kind::counter_add, "trades_recieved_total", {}, 1.0));
  // Process metrics are read-only.
  u.entries.push_back(
    entry(metric_kind::gauge_set, "process_resident_memory_bytes", {}, 1.0));
  // A valid entry after the bad ones is still applied.
  u.entries.push_back(entry(metric_kind::counter_add, "trades_received_total",
    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}, 1.0));
  auto res = store.apply(u);
  CAF_CHECK_EQUAL(res.applied, 1u);
  CAF_CHECK_EQUAL(res.rejected, 6u);
  auto x = scrape(store);
  CAF_CHECK_EQUAL(errors(x, "wrong_labels"), 4.0);
  CAF_CHECK_EQUAL(errors(x, "unknown_metric"), 1.0);
  CAF_CHECK_EQUAL(errors(x, "read_only"), 1.0);
  CAF_CHECK_EQUAL(x.count("trades_received_total"), 1u);
  CAF_CHECK_EQUAL(x.value("trades_received_total",
                    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}),
    1.0);
  CAF_CHECK(!x.value("trades_recieved_total"));
}

CAF_TEST(histogram buckets are cumulative over the catalogue bounds) {
  metrics_store store{csp::monitoring::make_metrics_registry()};
  // Hand-picked observations: 30 us, 300 us, 3 ms, 80 ms, 300 ms, 5 s.
  std::vector<double> obs{0.00003, 0.0003, 0.003, 0.08, 0.3, 5.0};
  for (auto v : obs)
    CAF_CHECK_EQUAL(store.apply(entry(metric_kind::histogram_observe,
                      "db_query_duration_seconds",
                      {{"operation", "upsert"}, {"table", "candles"}}, v)),
      update_error::none);
  auto x = scrape(store);
  CAF_CHECK_EQUAL(x.types["db_query_duration_seconds"], "histogram");
  // Expected cumulative counts, derived by hand from the documented bounds
  // 0.0001 .. 2.5 (100 us up to 2.5 s).
  std::vector<std::pair<double, double>> expected{{0.0001, 1}, {0.00025, 1},
    {0.0005, 2}, {0.001, 2}, {0.0025, 2}, {0.005, 3}, {0.01, 3}, {0.025, 3},
    {0.05, 3}, {0.1, 4}, {0.25, 4}, {0.5, 5}, {1.0, 5}, {2.5, 5}};
  size_t buckets = 0;
  for (const auto& s : x.samples) {
    if (s.name != "db_query_duration_seconds_bucket")
      continue;
    ++buckets;
    CAF_CHECK_EQUAL(s.labels.at("table"), "candles");
    bool ok = false;
    auto le = csp::test::parse_number(s.labels.at("le"), ok);
    CAF_REQUIRE(ok);
    if (std::isinf(le)) {
      CAF_CHECK_EQUAL(s.value, 6.0);
      continue;
    }
    bool found = false;
    for (const auto& [bound, count] : expected)
      if (bound == le) {
        found = true;
        CAF_CHECK_EQUAL(s.value, count);
      }
    CAF_CHECK(found);
  }
  CAF_CHECK_EQUAL(buckets, expected.size() + 1);
  CAF_CHECK_EQUAL(x.value("db_query_duration_seconds_count",
                    {{"operation", "upsert"}, {"table", "candles"}}),
    6.0);
  auto sum = x.value("db_query_duration_seconds_sum",
    {{"operation", "upsert"}, {"table", "candles"}});
  CAF_REQUIRE(sum);
  CAF_CHECK(std::abs(*sum - 5.38333) < 1e-9);
}

CAF_TEST(a second store on the same registry keeps every value) {
  auto registry = csp::monitoring::make_metrics_registry();
  auto btc = std::vector<std::pair<std::string, std::string>>{
    {"exchange", "binance"}, {"symbol", "BTCUSDT"}};
  {
    metrics_store first{registry};
    first.apply(
      entry(metric_kind::counter_add, "trades_received_total", btc, 10.0));
    first.apply(entry(metric_kind::histogram_observe,
      "indicator_calculation_duration_seconds", {{"indicator", "rsi"}}, 0.002));
    first.apply(entry(metric_kind::counter_add, "nope_total", {}, 1.0));
  }
  metrics_store second{registry};
  second.apply(
    entry(metric_kind::counter_add, "trades_received_total", btc, 5.0));
  second.apply(entry(metric_kind::histogram_observe,
    "indicator_calculation_duration_seconds", {{"indicator", "rsi"}}, 0.004));
  auto x = scrape(second);
  CAF_CHECK_EQUAL(x.value("trades_received_total",
                    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}),
    15.0);
  CAF_CHECK_EQUAL(x.value("indicator_calculation_duration_seconds_count",
                    {{"indicator", "rsi"}}),
    2.0);
  CAF_CHECK_EQUAL(errors(x, "unknown_metric"), 1.0);
  // One family per name: no duplicate # TYPE lines.
  auto text = second.serialize();
  size_t n = 0;
  for (auto pos = text.find("# TYPE trades_received_total ");
       pos != std::string::npos;
       pos = text.find("# TYPE trades_received_total ", pos + 1))
    ++n;
  CAF_CHECK_EQUAL(n, 1u);
}

CAF_TEST(promtool accepts the exposition) {
  metrics_store store{csp::monitoring::make_metrics_registry()};
  metric_update u;
  u.entries.push_back(entry(metric_kind::counter_add, "collector_errors_total",
    {{"exchange", "binance"}, {"error_type", "tls"}}, 1.0));
  u.entries.push_back(
    entry(metric_kind::histogram_observe, "http_request_duration_seconds",
      {{"method", "GET"}, {"endpoint", "/api/v1/bars"}}, 0.004));
  u.entries.push_back(entry(metric_kind::gauge_set, "circuit_breaker_state",
    {{"collector", "binance-0"}}, 1.0));
  u.entries.push_back(entry(metric_kind::counter_add, "nope_total", {}, 1.0));
  store.apply(u);
  auto rc = csp::test::promtool_check(store.serialize());
  if (!rc) {
    CAF_MESSAGE("promtool not on PATH: check skipped");
    std::puts("metrics_store: promtool not on PATH, check skipped");
    return;
  }
  CAF_CHECK_EQUAL(*rc, 0);
}
