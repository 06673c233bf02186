// Feature cost per bar: feature_calculator::update for one closed bar (all
// 15 features, given its indicator values), the indicator update it rides
// on, and feature_series replaying a revision of the newest bar. Target:
// the indicators' (<= 1 us per bar, < 200 ms per calculation documented).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "actors/feature_calculator.hpp"
#include "bench/random_bars.hpp"

namespace {

using csp::actors::feature_calculator;
using csp::actors::feature_series;
using csp::actors::indicator_calculator;
using csp::actors::indicator_series;
using csp::actors::ohlcv;

/// A random walk of one-minute bars with their indicator values.
struct series_data {
  std::vector<ohlcv> bars;
  std::vector<indicator_calculator::values> inds;
};

series_data make_series(std::size_t n) {
  series_data out;
  out.bars = csp::bench::make_random_bars(n);
  indicator_calculator calc;
  for (const auto& b : out.bars)
    out.inds.push_back(calc.update(b));
  return out;
}

constexpr std::size_t series_size = 4096; // a power of two

/// update() of one closed bar on a warmed-up calculator.
void bm_feature_update(benchmark::State& state) {
  auto data = make_series(series_size);
  feature_calculator calc;
  for (std::size_t i = 0; i < 300; ++i)
    calc.update(data.bars[i], data.inds[i]);
  std::size_t i = 300;
  for (auto _ : state) {
    auto k = i++ & (series_size - 1);
    auto values = calc.update(data.bars[k], data.inds[k]);
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_feature_update);

/// The indicators of one closed bar, for the ratio in the same run.
void bm_indicator_update(benchmark::State& state) {
  auto data = make_series(series_size);
  indicator_calculator calc;
  for (std::size_t i = 0; i < 300; ++i)
    calc.update(data.bars[i]);
  std::size_t i = 300;
  for (auto _ : state) {
    auto values = calc.update(data.bars[i++ & (series_size - 1)]);
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_indicator_update);

/// What the processing shard does per closed bar: indicator_series then
/// feature_series (history 8: 5 minutes of lateness on 1m bars), new bars.
void bm_series_new_bar(benchmark::State& state) {
  auto data = make_series(series_size);
  indicator_series inds(8);
  feature_series feats(8);
  indicator_series::output ind_out;
  feature_series::output out;
  std::int64_t t = data.bars.back().open_time_ms;
  std::size_t i = 0;
  for (auto _ : state) {
    auto b = data.bars[i++ & (series_size - 1)];
    b.open_time_ms = (t += 60000);
    ind_out.clear();
    out.clear();
    inds.on_bar(b, ind_out);
    feats.on_bar(b, ind_out, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_series_new_bar);

/// A revision of the bar 4 back from the newest: both series replay 5 bars.
void bm_series_revision(benchmark::State& state) {
  auto data = make_series(series_size);
  indicator_series inds(8);
  feature_series feats(8);
  indicator_series::output ind_out;
  feature_series::output out;
  for (std::size_t i = 0; i < 300; ++i) {
    ind_out.clear();
    inds.on_bar(data.bars[i], ind_out);
    feats.on_bar(data.bars[i], ind_out, out);
  }
  auto revised = data.bars[295];
  std::size_t i = 0;
  for (auto _ : state) {
    revised.close = data.bars[i++ & (series_size - 1)].close;
    ind_out.clear();
    out.clear();
    inds.on_bar(revised, ind_out);
    feats.on_bar(revised, ind_out, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_series_revision);

} // namespace

BENCHMARK_MAIN();
