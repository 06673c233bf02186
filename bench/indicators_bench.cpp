// Indicator cost per bar: indicator_calculator::update for one closed bar
// (all 19 indicators) and peek for a forming bar. Target: <= 1 us per bar.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "actors/indicators.hpp"
#include "bench/random_bars.hpp"

namespace {

using csp::actors::indicator_calculator;
using csp::actors::ohlcv;

std::vector<ohlcv> make_bars(std::size_t n) {
  return csp::bench::make_random_bars(n);
}

constexpr std::size_t series_size = 4096; // a power of two

/// update() of one closed bar on a warmed-up calculator (every indicator
/// past its first valid index).
void bm_update(benchmark::State& state) {
  auto bars = make_bars(series_size);
  indicator_calculator calc;
  for (std::size_t i = 0; i < 300; ++i)
    calc.update(bars[i]);
  std::size_t i = 300;
  for (auto _ : state) {
    auto values = calc.update(bars[i++ & (series_size - 1)]);
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_update);

/// peek() of a forming bar on a warmed-up calculator.
void bm_peek(benchmark::State& state) {
  auto bars = make_bars(series_size);
  indicator_calculator calc;
  for (std::size_t i = 0; i < 300; ++i)
    calc.update(bars[i]);
  std::size_t i = 300;
  for (auto _ : state) {
    auto values = calc.peek(bars[i++ & (series_size - 1)]);
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_peek);

/// update() from a cold calculator through the warm-up phase: the whole
/// series of 4096 bars per iteration.
void bm_update_series(benchmark::State& state) {
  auto bars = make_bars(series_size);
  for (auto _ : state) {
    indicator_calculator calc;
    for (const auto& b : bars) {
      auto values = calc.update(b);
      benchmark::DoNotOptimize(values);
    }
  }
  state.SetItemsProcessed(
    state.iterations() * static_cast<std::int64_t>(series_size));
}
BENCHMARK(bm_update_series);

} // namespace

BENCHMARK_MAIN();
