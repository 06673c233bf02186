#include "monitoring/metrics_catalogue.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace csp::monitoring {

namespace {

// Bar completion, measured from the bar's due time (end boundary plus
// bars.grace_ms; the arrival of the input for revisions and polled candles)
// to its closed-bar message: the close timer's slack plus the indicators.
// Target < 100 ms, alert > 200 ms: fine buckets up to the alert, coarse
// ones above for a stalled shard.
std::vector<double> bar_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2,
    0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0};
}

// Indicators and features: target < 200 ms, one update takes microseconds.
std::vector<double> compute_buckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.2, 0.5, 1.0};
}

// Circuit-breaker recovery, from leaving closed to closed again: at least
// one open timeout (60 s by default, doubled per half-open failure up to
// 5 min) plus the half-open probes; seconds to an hour.
std::vector<double> recovery_buckets() {
  return {1.0, 5.0, 10.0, 30.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 900.0,
    1800.0, 3600.0};
}

// API requests: target < 100 ms; the p95 alert fires above 500 ms.
std::vector<double> http_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0};
}

// Database queries: target < 50 ms.
std::vector<double> db_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5};
}

metric_spec counter(std::string_view name, std::string_view help,
  std::vector<std::string_view> labels) {
  return {name, metric_type::counter, help, std::move(labels), {},
    metric_source::updates};
}

metric_spec gauge(std::string_view name, std::string_view help,
  std::vector<std::string_view> labels) {
  return {name, metric_type::gauge, help, std::move(labels), {},
    metric_source::updates};
}

metric_spec histogram(std::string_view name, std::string_view help,
  std::vector<std::string_view> labels, std::vector<double> buckets) {
  return {name, metric_type::histogram, help, std::move(labels),
    std::move(buckets), metric_source::updates};
}

metric_spec process(
  std::string_view name, metric_type type, std::string_view help) {
  return {name, type, help, {}, {}, metric_source::process};
}

std::vector<metric_spec> make_catalogue() {
  std::vector<metric_spec> xs;
  // -- collectors ------------------------------------------------------------
  xs.push_back(counter("trades_received_total",
    "Trades received from an exchange feed.", {"exchange", "symbol"}));
  xs.push_back(counter("collector_errors_total",
    "Collector errors (connect, TLS, stall, close, HTTP "
    "5xx/429, parse).",
    {"exchange", "error_type"}));
  xs.push_back(counter("websocket_reconnections_total",
    "WebSocket reconnections of the exchange collectors.", {"exchange"}));
  xs.push_back(gauge("collector_health_status",
    "Collector health (1 = healthy, 0 = unhealthy).", {"exchange"}));
  xs.push_back(counter("collector_pauses_total",
    "Times a collector stopped reading its WebSocket because storage "
    "asked for back-pressure.",
    {"exchange"}));
  xs.push_back(gauge("data_collection_lag_seconds",
    "Seconds between a trade's exchange time and its "
    "arrival.",
    {"exchange", "symbol"}));
  // -- circuit breakers ------------------------------------------------------
  xs.push_back(gauge("circuit_breaker_state",
    "Circuit state (0 = closed, 1 = open, 2 = half-open).", {"collector"}));
  xs.push_back(counter("circuit_breaker_transitions_total",
    "Circuit-breaker state transitions.",
    {"collector", "from_state", "to_state"}));
  xs.push_back(counter("circuit_breaker_failures_total",
    "Failures recorded by a circuit breaker.", {"collector"}));
  xs.push_back(counter("circuit_breaker_successes_total",
    "Successes recorded by a circuit breaker.", {"collector"}));
  xs.push_back(counter("circuit_breaker_half_open_attempts_total",
    "Times a circuit went half-open to probe a recovery.", {"collector"}));
  xs.push_back(gauge("circuit_breaker_open_duration_seconds",
    "How long the current open or half-open episode has lasted (0 while "
    "closed).",
    {"collector"}));
  xs.push_back(histogram("circuit_breaker_recovery_duration_seconds",
    "Time from a circuit leaving closed to closing again.", {"collector"},
    recovery_buckets()));
  // -- processing ------------------------------------------------------------
  xs.push_back(counter("bars_completed_total", "Bars completed (closed).",
    {"symbol", "timeframe"}));
  xs.push_back(histogram("bar_completion_duration_seconds",
    "Time from a bar's due time to its closed-bar message leaving the "
    "processing shard: the due time is the bar's end boundary plus "
    "bars.grace_ms for a first version built from trades, and the arrival "
    "of the input that caused it for a revision or a bar built from polled "
    "candles. Target < 100 ms, alert > 200 ms.",
    {"timeframe"}, bar_buckets()));
  xs.push_back(histogram("indicator_calculation_duration_seconds",
    "Time to update one indicator for one bar.", {"indicator"},
    compute_buckets()));
  xs.push_back(counter(
    "features_calculated_total", "ML feature vectors calculated.", {"symbol"}));
  xs.push_back(histogram("feature_calculation_duration_seconds",
    "Time to calculate one ML feature vector.", {}, compute_buckets()));
  xs.push_back(gauge("data_quality_score",
    "Data quality score over the sliding window (0-100).", {"symbol"}));
  xs.push_back(counter("data_quality_checks_failed_total",
    "Failed data quality checks.", {"symbol", "check_type"}));
  xs.push_back(counter("price_anomalies_detected_total",
    "Trades that failed the price anomaly check.", {"symbol"}));
  xs.push_back(counter("volume_anomalies_detected_total",
    "Trades that failed the volume anomaly check.", {"symbol"}));
  xs.push_back(gauge("data_freshness_seconds",
    "Seconds since the newest trade or candle of a symbol arrived (grows "
    "while its feed is silent).",
    {"exchange", "symbol"}));
  // -- database --------------------------------------------------------------
  xs.push_back(
    counter("db_queries_total", "Database queries.", {"operation", "table"}));
  xs.push_back(histogram("db_query_duration_seconds",
    "Database query execution time.", {"operation", "table"}, db_buckets()));
  xs.push_back(
    gauge("db_connection_pool_size", "Connections in the database pool.", {}));
  xs.push_back(gauge("db_connection_pool_available",
    "Idle connections in the database pool.", {}));
  xs.push_back(counter(
    "db_errors_total", "Database errors.", {"operation", "error_type"}));
  xs.push_back(gauge("storage_backpressure_active",
    "1 while storage asks the collectors to pause (rows in flight above "
    "database.max_inflight_rows until they fall to half of it), else 0.",
    {}));
  // -- cache -----------------------------------------------------------------
  xs.push_back(counter("cache_hits_total", "Cache hits.", {"key_pattern"}));
  xs.push_back(counter("cache_misses_total", "Cache misses.", {"key_pattern"}));
  xs.push_back(
    counter("cache_operations_total", "Cache operations.", {"operation"}));
  xs.push_back(
    gauge("cache_memory_bytes", "Memory used by the cache in bytes.", {}));
  xs.push_back(counter("cache_evictions_total", "Cache evictions.", {}));
  // -- API -------------------------------------------------------------------
  xs.push_back(counter("http_requests_total", "HTTP requests served.",
    {"method", "endpoint", "status"}));
  xs.push_back(histogram("http_request_duration_seconds",
    "HTTP request duration.", {"method", "endpoint"}, http_buckets()));
  xs.push_back(gauge(
    "http_requests_in_progress", "HTTP requests being served.", {"endpoint"}));
  xs.push_back(
    gauge("websocket_connections", "Open client WebSocket connections.", {}));
  xs.push_back(counter("websocket_messages_sent_total",
    "Messages sent to WebSocket clients.", {"symbol"}));
  xs.push_back(counter("rate_limit_exceeded_total",
    "Requests rejected by the rate limiter.", {"endpoint"}));
  // -- process ---------------------------------------------------------------
  xs.push_back(process("process_resident_memory_bytes", metric_type::gauge,
    "Resident memory size in bytes."));
  xs.push_back(process("process_cpu_seconds_total", metric_type::counter,
    "User and system CPU time spent in seconds."));
  xs.push_back(process("process_start_time_seconds", metric_type::gauge,
    "Start time of the process since the epoch in "
    "seconds."));
  xs.push_back(
    process("process_open_fds", metric_type::gauge, "Open file descriptors."));
  // -- the metrics actor itself ----------------------------------------------
  xs.push_back(counter("metrics_update_errors_total",
    "Rejected metric updates (unknown_metric, "
    "wrong_labels, wrong_kind, negative_counter, "
    "non_finite, read_only).",
    {"reason"}));
  return xs;
}

} // namespace

const std::vector<metric_spec>& metric_catalogue() {
  static const std::vector<metric_spec> catalogue = make_catalogue();
  return catalogue;
}

const metric_spec* find_metric(std::string_view name) noexcept {
  for (const auto& spec : metric_catalogue())
    if (spec.name == name)
      return &spec;
  return nullptr;
}

std::ptrdiff_t label_index(
  const metric_spec& spec, std::string_view label) noexcept {
  for (size_t i = 0; i < spec.labels.size(); ++i)
    if (spec.labels[i] == label)
      return static_cast<std::ptrdiff_t>(i);
  return -1;
}

std::string format_bound(double bound) {
  char buf[32];
  if (bound == std::floor(bound) && std::fabs(bound) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", bound);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, bound);
    if (std::strtod(buf, nullptr) == bound)
      break;
  }
  return buf;
}

std::string render_metrics_table() {
  std::string out;
  out += "| Metric | Type | Labels | Help | Buckets (seconds) |\n";
  out += "|---|---|---|---|---|\n";
  for (const auto& spec : metric_catalogue()) {
    out += "| `";
    out += spec.name;
    out += "` | ";
    out += to_string(spec.type);
    out += " | ";
    if (spec.labels.empty())
      out += "-";
    for (size_t i = 0; i < spec.labels.size(); ++i) {
      if (i > 0)
        out += ", ";
      out += '`';
      out += spec.labels[i];
      out += '`';
    }
    out += " | ";
    out += spec.help;
    if (spec.source == metric_source::process)
      out += " (read from /proc/self on each scrape)";
    out += " | ";
    if (spec.buckets.empty())
      out += "-";
    for (size_t i = 0; i < spec.buckets.size(); ++i) {
      if (i > 0)
        out += ", ";
      out += format_bound(spec.buckets[i]);
    }
    out += " |\n";
  }
  return out;
}

namespace {

// Position just after the begin marker's line and at the start of the end
// marker, or npos when either is missing.
std::pair<size_t, size_t> table_span(std::string_view document) {
  constexpr auto npos = std::string_view::npos;
  auto begin = document.find(metrics_table_begin);
  if (begin == npos)
    return {npos, npos};
  auto first = document.find('\n', begin);
  if (first == npos)
    return {npos, npos};
  ++first;
  auto end = document.find(metrics_table_end, first);
  if (end == npos)
    return {npos, npos};
  return {first, end};
}

} // namespace

std::string extract_metrics_table(std::string_view document) {
  auto [first, last] = table_span(document);
  if (first == std::string_view::npos)
    return {};
  return std::string{document.substr(first, last - first)};
}

std::string replace_metrics_table(
  std::string_view document, std::string_view table) {
  auto [first, last] = table_span(document);
  if (first == std::string_view::npos)
    return {};
  std::string out{document.substr(0, first)};
  out += table;
  out += document.substr(last);
  return out;
}

} // namespace csp::monitoring
