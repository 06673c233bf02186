// Bar aggregation throughput: trades through one bar_aggregator (one core).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "actors/bar_aggregator.hpp"

namespace {

using namespace csp::actors;
using namespace csp::messages;

struct counting_sink : bar_sink {
  std::int64_t bars = 0;
  void on_bar(const bar&) override { ++bars; }
  void on_late_trade(const trade&) override {}
};

/// A realistic stream: 1M trades, ~20 per second, sequential ids, random
/// walk prices, 1% of trades out of order by up to a second.
std::vector<trade> make_stream(std::size_t n) {
  std::mt19937_64 rng(42);
  std::vector<trade> ts;
  ts.reserve(n);
  std::int64_t t = 1705312800000;
  std::int64_t price = 4200000000000;
  for (std::size_t i = 0; i < n; ++i) {
    t += static_cast<std::int64_t>(rng() % 100);
    price += static_cast<std::int64_t>(rng() % 2001) - 1000;
    trade tr;
    tr.id = static_cast<std::int64_t>(i) + 1;
    tr.price.units = price;
    tr.quantity.units = static_cast<std::int64_t>(rng() % 100000000) + 1;
    tr.trade_time_ms = t;
    tr.event_time_ms = t;
    tr.buyer_is_maker = (rng() & 1) != 0;
    ts.push_back(tr);
  }
  for (std::size_t i = 0; i + 1 < n; i += 100)
    std::swap(ts[i], ts[i + 1]);
  return ts;
}

void bm_bar_aggregation(benchmark::State& state) {
  auto stream = make_stream(1'000'000);
  std::int64_t total = 0;
  for (auto _ : state) {
    counting_sink sink;
    bar_aggregator agg("binance", "BTCUSDT", bar_aggregator_config{}, sink);
    agg.add(stream);
    agg.flush();
    benchmark::DoNotOptimize(sink.bars);
    total += static_cast<std::int64_t>(stream.size());
  }
  state.SetItemsProcessed(total);
}
BENCHMARK(bm_bar_aggregation)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
