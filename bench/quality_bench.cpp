// Per-event cost of the pure-logic guards: quality checks per trade, circuit
// breaker outcomes, token bucket acquisitions. Counts heap allocations per
// event (operator new is replaced in this program only).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include "actors/circuit_breaker.hpp"
#include "actors/quality_checker.hpp"
#include "actors/token_bucket.hpp"

// GCC flags free() in a replaced operator delete as mismatched once the
// replacement operator new is inlined; the pair is consistent here.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

std::atomic<std::int64_t> allocations{0};

} // namespace

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (auto p = std::malloc(n == 0 ? 1 : n))
    return p;
  throw std::bad_alloc{};
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace csp::actors;
using namespace csp::messages;

/// Clean trades: sequential ids, a random walk price, ~20 trades per second,
/// received 5 ms after the trade.
std::vector<trade> make_stream(std::size_t n) {
  std::mt19937_64 rng(7);
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
    tr.receive_time_ns = (t + 5) * 1000000;
    ts.push_back(tr);
  }
  return ts;
}

void bm_quality_check(benchmark::State& state) {
  auto stream = make_stream(1 << 20);
  quality_checker qc{"binance", "BTCUSDT", quality_checker_config{},
    stream.front().trade_time_ms};
  std::size_t i = 0;
  std::int64_t issues = 0;
  // Warm up the windows so the measured path is the steady state.
  for (std::size_t k = 0; k < 1000; ++k)
    qc.check(stream[i++]);
  auto before = allocations.load();
  for (auto _ : state) {
    issues += qc.check(stream[i]) != 0 ? 1 : 0;
    if (++i == stream.size()) {
      state.PauseTiming();
      // Restart with fresh ids and times after the stream.
      auto shift_id = stream.back().id;
      auto shift_ms
        = stream.back().trade_time_ms - stream.front().trade_time_ms;
      for (auto& t : stream) {
        t.id += shift_id;
        t.trade_time_ms += shift_ms;
        t.receive_time_ns += shift_ms * 1000000;
      }
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs_per_trade"]
    = benchmark::Counter(static_cast<double>(allocations.load() - before)
      / static_cast<double>(state.iterations()));
  state.counters["issue_rate"] = benchmark::Counter(
    static_cast<double>(issues) / static_cast<double>(state.iterations()));
}
BENCHMARK(bm_quality_check);

void bm_circuit_success(benchmark::State& state) {
  circuit_breaker cb{
    "binance-0", circuit_breaker_config{}, [](const circuit_transition&) {}};
  std::int64_t now = 0;
  auto before = allocations.load();
  for (auto _ : state) {
    benchmark::DoNotOptimize(cb.allow_request(++now));
    cb.record_success(now);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs_per_call"]
    = benchmark::Counter(static_cast<double>(allocations.load() - before)
      / static_cast<double>(state.iterations()));
}
BENCHMARK(bm_circuit_success);

void bm_token_bucket(benchmark::State& state) {
  token_bucket tb{token_bucket_config{1200, 20.0}, 0};
  std::int64_t now = 0;
  std::int64_t granted = 0;
  for (auto _ : state) {
    now += 1000000; // 1 ms
    granted += tb.try_acquire(1, now) ? 1 : 0;
  }
  benchmark::DoNotOptimize(granted);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_token_bucket);

} // namespace

BENCHMARK_MAIN();
