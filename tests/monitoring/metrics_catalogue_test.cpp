#define CAF_SUITE metrics_catalogue
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "monitoring/metrics_catalogue.hpp"

using namespace csp::monitoring;

namespace {

struct expected_metric {
  std::string name;
  metric_type type;
  std::vector<std::string_view> labels;
};

} // namespace

CAF_TEST(the catalogue holds the live ingest series with the seed labels) {
  // From the contract (monitoring seed names and labels).
  std::vector<expected_metric> expected{
    {"trades_received_total", metric_type::counter, {"exchange", "symbol"}},
    {"collector_errors_total", metric_type::counter,
      {"exchange", "error_type"}},
    {"websocket_reconnections_total", metric_type::counter, {"exchange"}},
    {"collector_health_status", metric_type::gauge, {"exchange"}},
    {"data_collection_lag_seconds", metric_type::gauge, {"exchange", "symbol"}},
    {"circuit_breaker_state", metric_type::gauge, {"collector"}},
    {"circuit_breaker_transitions_total", metric_type::counter,
      {"collector", "from_state", "to_state"}},
    {"circuit_breaker_failures_total", metric_type::counter, {"collector"}},
    {"circuit_breaker_successes_total", metric_type::counter, {"collector"}},
    {"bars_completed_total", metric_type::counter, {"symbol", "timeframe"}},
    {"bar_completion_duration_seconds", metric_type::histogram, {"timeframe"}},
    {"indicator_calculation_duration_seconds", metric_type::histogram,
      {"indicator"}},
    {"data_quality_score", metric_type::gauge, {"symbol"}},
    {"data_quality_checks_failed_total", metric_type::counter,
      {"symbol", "check_type"}},
    {"process_resident_memory_bytes", metric_type::gauge, {}},
    {"process_cpu_seconds_total", metric_type::counter, {}},
  };
  for (const auto& x : expected) {
    auto* spec = find_metric(x.name);
    CAF_REQUIRE(spec != nullptr);
    CAF_CHECK(spec->type == x.type);
    CAF_CHECK_EQUAL(spec->labels, x.labels);
  }
}

CAF_TEST(the dashboard series have their types labels and buckets) {
  // From the issue: series the seed's dashboards need beyond its tables.
  std::vector<expected_metric> expected{
    {"price_anomalies_detected_total", metric_type::counter, {"symbol"}},
    {"volume_anomalies_detected_total", metric_type::counter, {"symbol"}},
    {"data_freshness_seconds", metric_type::gauge, {"exchange", "symbol"}},
    {"circuit_breaker_half_open_attempts_total", metric_type::counter,
      {"collector"}},
    {"circuit_breaker_open_duration_seconds", metric_type::gauge,
      {"collector"}},
    {"circuit_breaker_recovery_duration_seconds", metric_type::histogram,
      {"collector"}},
    {"features_calculated_total", metric_type::counter, {"symbol"}},
    {"feature_calculation_duration_seconds", metric_type::histogram, {}},
  };
  for (const auto& x : expected) {
    CAF_MESSAGE(x.name);
    auto* spec = find_metric(x.name);
    CAF_REQUIRE(spec != nullptr);
    CAF_CHECK(spec->type == x.type);
    CAF_CHECK_EQUAL(spec->labels, x.labels);
  }
  // Recovery takes seconds to an hour: the buckets must span that range.
  auto& recovery
    = find_metric("circuit_breaker_recovery_duration_seconds")->buckets;
  CAF_REQUIRE(!recovery.empty());
  CAF_CHECK_LESS_OR_EQUAL(recovery.front(), 1.0);
  CAF_CHECK_GREATER_OR_EQUAL(recovery.back(), 3600.0);
}

CAF_TEST(every seed table metric is catalogued with a valid name) {
  // Every metric of the monitoring seed's tables.
  std::vector<std::string> seed{"features_calculated_total",
    "feature_calculation_duration_seconds", "db_queries_total",
    "db_query_duration_seconds", "db_connection_pool_size",
    "db_connection_pool_available", "db_errors_total", "cache_hits_total",
    "cache_misses_total", "cache_operations_total", "cache_memory_bytes",
    "cache_evictions_total", "http_requests_total",
    "http_request_duration_seconds", "http_requests_in_progress",
    "websocket_connections", "websocket_messages_sent_total",
    "rate_limit_exceeded_total"};
  for (const auto& name : seed)
    CAF_CHECK(find_metric(name) != nullptr);
  std::set<std::string_view> names;
  for (const auto& spec : metric_catalogue()) {
    CAF_CHECK(names.insert(spec.name).second);
    CAF_CHECK(!spec.help.empty());
    // Counters end in _total; nothing else does.
    bool total = spec.name.size() > 6
      && spec.name.substr(spec.name.size() - 6) == "_total";
    CAF_CHECK_EQUAL(total, spec.type == metric_type::counter);
    CAF_CHECK_EQUAL(spec.buckets.empty(), spec.type != metric_type::histogram);
    std::set<std::string_view> ls(spec.labels.begin(), spec.labels.end());
    CAF_CHECK_EQUAL(ls.size(), spec.labels.size());
    CAF_CHECK(ls.count("le") == 0);
  }
}

CAF_TEST(bar completion buckets resolve the 100 ms target) {
  // Measured from the bar's due time (boundary + grace): the seed's target
  // is < 100 ms and its alert > 200 ms, so both are bucket bounds, with
  // several bounds below the target and a few seconds above the alert.
  auto* spec = find_metric("bar_completion_duration_seconds");
  CAF_REQUIRE(spec != nullptr);
  const auto& b = spec->buckets;
  auto has
    = [&](double x) { return std::find(b.begin(), b.end(), x) != b.end(); };
  CAF_CHECK(has(0.1));
  CAF_CHECK(has(0.2));
  size_t below_target = 0;
  for (auto x : b)
    if (x < 0.1)
      ++below_target;
  CAF_CHECK_GREATER_OR_EQUAL(below_target, 5u);
  CAF_CHECK_LESS_OR_EQUAL(b.front(), 0.001);
  CAF_CHECK_GREATER_OR_EQUAL(b.back(), 10.0);
  for (size_t i = 1; i < b.size(); ++i)
    CAF_CHECK_LESS(b[i - 1], b[i]);
}

CAF_TEST(histogram buckets resolve sub - millisecond and hit the targets) {
  // Targets from the monitoring seed.
  std::vector<std::pair<std::string, double>> targets{
    {"indicator_calculation_duration_seconds", 0.2},
    {"feature_calculation_duration_seconds", 0.2},
    {"http_request_duration_seconds", 0.1},
    {"db_query_duration_seconds", 0.05}};
  for (const auto& [name, target] : targets) {
    auto* spec = find_metric(name);
    CAF_REQUIRE(spec != nullptr);
    const auto& b = spec->buckets;
    CAF_REQUIRE(!b.empty());
    CAF_CHECK_LESS_OR_EQUAL(b.front(), 0.0005);
    size_t below_ms = 0;
    for (auto x : b)
      if (x < 0.001)
        ++below_ms;
    CAF_CHECK_GREATER_OR_EQUAL(below_ms, 2u);
    for (size_t i = 1; i < b.size(); ++i)
      CAF_CHECK_LESS(b[i - 1], b[i]);
    bool has_target = false;
    for (auto x : b)
      has_target = has_target || x == target;
    CAF_CHECK(has_target);
    CAF_CHECK_GREATER_OR_EQUAL(b.back(), 1.0);
  }
}

CAF_TEST(format_bound writes the shortest exact form) {
  CAF_CHECK_EQUAL(format_bound(0.0005), "0.0005");
  CAF_CHECK_EQUAL(format_bound(0.00025), "0.00025");
  CAF_CHECK_EQUAL(format_bound(1.0), "1");
  CAF_CHECK_EQUAL(format_bound(2.5), "2.5");
  CAF_CHECK_EQUAL(format_bound(10.0), "10");
  CAF_CHECK_EQUAL(format_bound(300.0), "300");
}

CAF_TEST(the table renders one row per family) {
  auto table = render_metrics_table();
  CAF_CHECK_EQUAL(table.substr(0, table.find('\n')),
    "| Metric | Type | Labels | Help | Buckets (seconds) |");
  size_t lines = 0;
  for (auto c : table)
    lines += c == '\n' ? 1 : 0;
  CAF_CHECK_EQUAL(lines, metric_catalogue().size() + 2);
  CAF_CHECK_NOT_EQUAL(
    table.find("| `circuit_breaker_transitions_total` | counter | "
               "`collector`, `from_state`, `to_state` | "),
    std::string::npos);
  CAF_CHECK_NOT_EQUAL(table.find("| `db_connection_pool_size` | gauge | - | "),
    std::string::npos);
  CAF_CHECK_NOT_EQUAL(
    table.find(" | 0.0001, 0.00025, 0.0005, 0.001, "), std::string::npos);
}

CAF_TEST(table markers are found and replaced) {
  std::string doc = "intro\n" + std::string{metrics_table_begin} + "\nold\n"
    + std::string{metrics_table_end} + "\nend\n";
  CAF_CHECK_EQUAL(extract_metrics_table(doc), "old\n");
  CAF_CHECK_EQUAL(replace_metrics_table(doc, "new\n"),
    "intro\n" + std::string{metrics_table_begin} + "\nnew\n"
      + std::string{metrics_table_end} + "\nend\n");
  CAF_CHECK_EQUAL(extract_metrics_table("no markers"), "");
  CAF_CHECK_EQUAL(replace_metrics_table("no markers", "x"), "");
}
