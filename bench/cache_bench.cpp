// Latency of the API's read path on a cache hit: 500 bars from Redis on
// loopback (one round trip, ZREVRANGEBYSCORE + ZRANGE, then decoding the
// JSON members), with the parts measured alone for comparison. Needs a
// Redis server: REDIS_URL, default redis://127.0.0.1:6379. Reports the
// p50/p99/max latency of every iteration of the final run as counters.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

#include "storage/bar_reader.hpp"
#include "storage/cache_layout.hpp"
#include "storage/redis_client.hpp"

namespace {

using namespace csp;

constexpr std::int64_t t0 = 1705312800000;
constexpr std::int64_t minute = 60000;

storage::redis_options bench_redis() {
  const char* env = std::getenv("REDIS_URL");
  std::string url
    = env != nullptr && *env != '\0' ? env : "redis://127.0.0.1:6379";
  std::string error;
  auto opts = storage::redis_options_from_url(url, error);
  if (!opts) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  return *opts;
}

std::string bench_prefix() {
  return "cspbench:" + std::to_string(::getpid()) + ":";
}

/// A realistic BTCUSDT minute bar.
messages::bar make_bar(std::int64_t i) {
  messages::bar b;
  b.exchange = "binance";
  b.symbol = "BTCUSDT";
  b.open_time_ms = t0 + i * minute;
  b.close_time_ms
    = messages::close_time(b.open_time_ms, messages::timeframe::m1);
  b.open.units = 4200012345678 + i * 1000;
  b.high.units = b.open.units + 5012345678;
  b.low.units = b.open.units - 3087654321;
  b.close.units = b.open.units + 123456789;
  b.volume.units = 1234567890123;
  b.quote_volume.units = static_cast<messages::int128>(b.volume.units) * 42000;
  b.taker_buy_volume.units = 617283945061;
  b.taker_buy_quote_volume.units = b.quote_volume.units / 2;
  b.trade_count = 2345;
  b.first_trade_id = 3000000000 + i * 2345;
  b.last_trade_id = b.first_trade_id + 2344;
  b.closed = true;
  return b;
}

/// Fills the cache with 1000 bars (the per-key bound) once per process.
void fill(storage::redis_client& c, const storage::cache_keys& keys) {
  storage::redis_pipeline p;
  std::vector<messages::bar> bars;
  for (std::int64_t i = 0; i < 1000; ++i)
    bars.push_back(make_bar(i));
  storage::add_closed_bars(p, keys, bars);
  if (!c.execute(p)) {
    std::fprintf(stderr, "cannot fill Redis: %s\n", c.last_error().c_str());
    std::exit(1);
  }
}

void clean(storage::redis_client& c, const storage::cache_keys& keys) {
  c.command({"DEL", keys.bars("binance", "BTCUSDT", messages::timeframe::m1)});
}

void report(benchmark::State& state, std::vector<double>& lat_us) {
  if (lat_us.empty())
    return;
  std::sort(lat_us.begin(), lat_us.end());
  auto pct = [&](double p) {
    auto idx = static_cast<std::size_t>(p * static_cast<double>(lat_us.size()));
    return lat_us[std::min(idx, lat_us.size() - 1)];
  };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = lat_us.back();
}

/// The whole read path on a hit: bar_reader::read_bars of 500 bars.
void bm_read_500_bars(benchmark::State& state) {
  auto keys = storage::cache_keys{bench_prefix()};
  storage::redis_client admin{bench_redis()};
  if (!admin.connect()) {
    state.SkipWithError(admin.last_error().c_str());
    return;
  }
  fill(admin, keys);
  storage::bar_reader_options opts;
  opts.prefix = keys.prefix();
  int fallbacks = 0;
  storage::bar_reader reader{
    bench_redis(), opts, [&](const storage::bar_query&) {
      ++fallbacks;
      return std::vector<messages::bar>{};
    }};
  std::vector<double> lat_us;
  lat_us.reserve(100000);
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    auto bars = reader.read_bars("binance", "BTCUSDT", messages::timeframe::m1,
      t0 + 400 * minute, t0 + 999 * minute, 500);
    auto stop = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(bars.data());
    if (bars.size() != 500) {
      state.SkipWithError("expected 500 bars");
      break;
    }
    lat_us.push_back(
      std::chrono::duration<double, std::micro>(stop - start).count());
  }
  if (fallbacks != 0)
    state.SkipWithError("a read missed the cache");
  report(state, lat_us);
  state.SetItemsProcessed(state.iterations() * 500);
  clean(admin, keys);
}
BENCHMARK(bm_read_500_bars)->UseRealTime()->Unit(benchmark::kMicrosecond);

/// The Redis part alone: the same round trip, replies copied, no decoding.
void bm_redis_round_trip_500(benchmark::State& state) {
  auto keys = storage::cache_keys{bench_prefix()};
  storage::redis_client c{bench_redis()};
  if (!c.connect()) {
    state.SkipWithError(c.last_error().c_str());
    return;
  }
  fill(c, keys);
  auto key = keys.bars("binance", "BTCUSDT", messages::timeframe::m1);
  storage::redis_pipeline p;
  p.cmd("ZREVRANGEBYSCORE")
    .arg(key)
    .arg(t0 + 999 * minute)
    .arg(t0 + 400 * minute)
    .arg("LIMIT")
    .arg(std::int64_t{0})
    .arg(std::int64_t{500});
  p.cmd("ZRANGE")
    .arg(key)
    .arg(std::int64_t{0})
    .arg(std::int64_t{0})
    .arg("WITHSCORES");
  std::vector<double> lat_us;
  lat_us.reserve(100000);
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    auto replies = c.execute(p);
    auto stop = std::chrono::steady_clock::now();
    if (!replies || (*replies)[0].elements.size() != 500) {
      state.SkipWithError("round trip failed");
      break;
    }
    lat_us.push_back(
      std::chrono::duration<double, std::micro>(stop - start).count());
  }
  report(state, lat_us);
  clean(c, keys);
}
BENCHMARK(bm_redis_round_trip_500)
  ->UseRealTime()
  ->Unit(benchmark::kMicrosecond);

/// Decoding alone: 500 bar JSON members into messages::bar.
void bm_decode_500_bars(benchmark::State& state) {
  std::vector<std::string> members;
  for (std::int64_t i = 0; i < 500; ++i)
    members.push_back(storage::encode_bar(make_bar(i)));
  std::vector<messages::bar> out(500);
  for (auto _ : state) {
    for (std::size_t i = 0; i < members.size(); ++i)
      if (!storage::decode_bar(members[i], out[i]))
        state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 500);
}
BENCHMARK(bm_decode_500_bars)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
