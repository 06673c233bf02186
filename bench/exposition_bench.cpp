// The cost of rendering a /metrics scrape of a node with 1,000 symbols
// (about 16,000 series): prometheus-cpp's Registry::Collect and
// TextSerializer (serialize_metrics, what the node served before) against
// metrics_store::serialize (pre-rendered label sets, one buffer), in the
// same run; and gzip of the result. Results in BENCHMARKS.md.

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "api/chart_cache.hpp"
#include "messages/metric_update.hpp"
#include "monitoring/metrics_store.hpp"

using csp::messages::metric_entry;
using csp::messages::metric_kind;
using csp::monitoring::metrics_store;

namespace {

using label_list = std::vector<std::pair<std::string, std::string>>;

/// A store shaped like the node's under the metrics_scrape.sh load: 16
/// series per symbol plus the histograms of the processing, storage and
/// API paths.
metrics_store& loaded_store() {
  static auto store = [] {
    auto owned = std::make_unique<metrics_store>(
      csp::monitoring::make_metrics_registry());
    auto& s = *owned;
    const std::vector<std::string> timeframes{
      "1m", "5m", "15m", "1h", "4h", "1d"};
    const std::vector<std::string> checks{
      "price_anomaly", "volume_anomaly", "stale", "gap", "duplicate"};
    auto add = [&s](metric_kind kind, const char* name, label_list labels,
                 double value) {
      s.apply(metric_entry{kind, name, std::move(labels), value});
    };
    for (int i = 0; i < 1000; ++i) {
      auto sym = "S" + std::to_string(1000 + i).substr(1) + "USDT";
      const double x = 1.0 + i * 0.37;
      add(metric_kind::counter_add, "trades_received_total",
        {{"exchange", "binance"}, {"symbol", sym}}, 12'345.0 + i);
      add(metric_kind::gauge_set, "data_collection_lag_seconds",
        {{"exchange", "binance"}, {"symbol", sym}}, 0.0123 * x);
      add(metric_kind::gauge_set, "data_freshness_seconds",
        {{"exchange", "binance"}, {"symbol", sym}}, 0.41 * x);
      add(metric_kind::gauge_set, "data_quality_score", {{"symbol", sym}},
        100.0 - x / 10.0);
      add(metric_kind::counter_add, "features_calculated_total",
        {{"symbol", sym}}, 77.0 + i);
      for (const auto& tf : timeframes)
        add(metric_kind::counter_add, "bars_completed_total",
          {{"symbol", sym}, {"timeframe", tf}}, 3.0 + i);
      for (const auto& c : checks)
        add(metric_kind::counter_add, "data_quality_checks_failed_total",
          {{"symbol", sym}, {"check_type", c}}, 1.0);
    }
    for (const auto& tf : timeframes)
      for (int k = 0; k < 50; ++k)
        add(metric_kind::histogram_observe, "bar_completion_duration_seconds",
          {{"timeframe", tf}}, 0.001 * k);
    for (int ind = 0; ind < 19; ++ind)
      for (int k = 0; k < 50; ++k)
        add(metric_kind::histogram_observe,
          "indicator_calculation_duration_seconds",
          {{"indicator", "ind" + std::to_string(ind)}}, 1e-5 * k);
    for (const char* table : {"trades", "bars", "features", "quality"})
      for (const char* op : {"insert", "select"})
        add(metric_kind::histogram_observe, "db_query_duration_seconds",
          {{"operation", op}, {"table", table}}, 0.003);
    return owned;
  }();
  return *store;
}

/// Renders with `render` until the benchmark stops; reports the size and,
/// for text, the number of sample lines of the last result.
template <class Render>
void render_loop(benchmark::State& state, Render render) {
  std::string last;
  for (auto _ : state) {
    last = render();
    benchmark::DoNotOptimize(last.data());
  }
  size_t samples = 0;
  const bool text = !last.empty() && last[0] == '#';
  for (size_t pos = 0; text && pos < last.size();) {
    auto eol = last.find('\n', pos);
    samples += last[pos] != '#' ? 1 : 0;
    pos = eol == std::string::npos ? last.size() : eol + 1;
  }
  state.counters["bytes"] = static_cast<double>(last.size());
  if (text)
    state.counters["samples"] = static_cast<double>(samples);
}

void BM_scrape_prometheus_cpp(benchmark::State& state) {
  auto& store = loaded_store();
  render_loop(state,
    [&] { return csp::monitoring::serialize_metrics(*store.registry()); });
}
BENCHMARK(BM_scrape_prometheus_cpp)->Unit(benchmark::kMillisecond);

void BM_scrape_store(benchmark::State& state) {
  auto& store = loaded_store();
  render_loop(state, [&] { return store.serialize(); });
}
BENCHMARK(BM_scrape_store)->Unit(benchmark::kMillisecond);

/// The store's exposition gzipped at zlib level range(0) (-1: default).
void BM_scrape_store_gzip(benchmark::State& state) {
  auto& store = loaded_store();
  const auto level = static_cast<int>(state.range(0));
  render_loop(state, [&] {
    return csp::api::gzip_compress(store.serialize(), level)
      .value_or(std::string{});
  });
}
BENCHMARK(BM_scrape_store_gzip)
  ->Arg(1)
  ->Arg(-1)
  ->ArgName("level")
  ->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
