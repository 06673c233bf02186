// Parsing Binance combined-stream trade frames: the production parser
// (binance_parser::parse, canonical-trade scanner with simdjson for the
// rest), its general simdjson DOM path alone and nlohmann_json
// (parse_trade_line_nlohmann), with simdjson's bare validating parse as the
// floor.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <simdjson.h>

#include "actors/binance_parser.hpp"

namespace {

/// Builds `count` frames as the collector receives them from
/// /stream?streams=...: combined-stream wrapper, varied symbols, prices,
/// quantities and ids, with the "b"/"a" fields some feeds still send.
std::vector<std::string> make_frames(std::size_t count) {
  static const char* symbols[] = {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT",
    "XRPUSDT", "DOGEUSDT", "ADAUSDT", "ETHBTC", "1000SATSUSDT", "AVAXUSDT"};
  std::mt19937_64 rng{7};
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>{lo, hi}(rng);
  };
  std::vector<std::string> out;
  out.reserve(count);
  std::int64_t time_ms = 1'717'200'000'000;
  std::int64_t trade_id = 3'600'000'000;
  char buf[512];
  for (std::size_t i = 0; i < count; ++i) {
    const char* symbol = symbols[pick(0, 9)];
    std::string stream = symbol;
    for (auto& c : stream)
      if (c >= 'A' && c <= 'Z')
        c = static_cast<char>(c - 'A' + 'a');
    time_ms += pick(0, 3);
    trade_id += pick(1, 5);
    auto price = pick(1, 7'000'000'000'000LL); // up to 70000.00000000
    auto qty = pick(1, 500'000'000'000LL);     // up to 5000.00000000
    auto n = std::snprintf(buf, sizeof(buf),
      R"({"stream":"%s@trade","data":{"e":"trade","E":%lld,"s":"%s",)"
      R"("t":%lld,"p":"%lld.%08lld","q":"%lld.%08lld","b":%lld,"a":%lld,)"
      R"("T":%lld,"m":%s,"M":true}})",
      stream.c_str(), static_cast<long long>(time_ms + 1), symbol,
      static_cast<long long>(trade_id),
      static_cast<long long>(price / 100'000'000),
      static_cast<long long>(price % 100'000'000),
      static_cast<long long>(qty / 100'000'000),
      static_cast<long long>(qty % 100'000'000),
      static_cast<long long>(trade_id * 2 + 1),
      static_cast<long long>(trade_id * 2), static_cast<long long>(time_ms),
      pick(0, 1) == 1 ? "true" : "false");
    out.emplace_back(buf, static_cast<std::size_t>(n));
  }
  return out;
}

const std::vector<std::string>& frames() {
  static const auto result = make_frames(10'000);
  return result;
}

std::int64_t total_bytes(const std::vector<std::string>& batch) {
  std::int64_t sum = 0;
  for (const auto& frame : batch)
    sum += static_cast<std::int64_t>(frame.size());
  return sum;
}

/// The same frames with one more member at the end of the event, so the
/// fast path reads all of each frame before handing it to the general path
/// (its worst case).
const std::vector<std::string>& extended_frames() {
  static const auto result = [] {
    auto out = frames();
    for (auto& frame : out)
      frame.insert(frame.size() - 2, R"(,"X":"MARKET")");
    return out;
  }();
  return result;
}

/// Runs `parse` over every frame of `batch` per iteration and reports
/// frames (items) and bytes per second. Checks first that every frame
/// parses as a trade.
template <class Parse>
void run_parser(
  benchmark::State& state, const std::vector<std::string>& batch, Parse parse) {
  for (const auto& frame : batch) {
    if (parse(frame).status != csp::actors::parse_status::trade) {
      state.SkipWithError("a generated frame did not parse as a trade");
      return;
    }
  }
  std::int64_t checksum = 0;
  for (auto _ : state) {
    for (const auto& frame : batch) {
      auto res = parse(frame);
      checksum += res.trade.price.units;
      benchmark::DoNotOptimize(res);
    }
  }
  benchmark::DoNotOptimize(checksum);
  auto iterations = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(iterations * static_cast<std::int64_t>(batch.size()));
  state.SetBytesProcessed(iterations * total_bytes(batch));
}

/// The production path: canonical-trade scanner, simdjson for the rest.
void bm_parse_fast(benchmark::State& state) {
  csp::actors::binance_parser parser;
  run_parser(state, frames(),
    [&](const std::string& frame) { return parser.parse(frame); });
}
BENCHMARK(bm_parse_fast);

/// The general path alone: simdjson's validating DOM plus field extraction.
void bm_parse_simdjson(benchmark::State& state) {
  csp::actors::binance_parser parser;
  run_parser(state, frames(),
    [&](const std::string& frame) { return parser.parse_general(frame); });
}
BENCHMARK(bm_parse_simdjson);

/// The floor of the general path: simdjson's validating DOM parse of the
/// same frames with no field extraction at all, measured in the same run
/// for a ratio.
void bm_simdjson_dom_floor(benchmark::State& state) {
  const auto& batch = frames();
  simdjson::dom::parser parser;
  std::vector<char> padded(4096);
  std::int64_t elements = 0;
  for (auto _ : state) {
    for (const auto& frame : batch) {
      std::memcpy(padded.data(), frame.data(), frame.size());
      std::memset(padded.data() + frame.size(), 0, simdjson::SIMDJSON_PADDING);
      simdjson::dom::element doc;
      if (parser
            .parse(reinterpret_cast<const std::uint8_t*>(padded.data()),
              frame.size(), false)
            .get(doc)
        == simdjson::SUCCESS)
        ++elements;
    }
  }
  benchmark::DoNotOptimize(elements);
  auto iterations = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(iterations * static_cast<std::int64_t>(batch.size()));
  state.SetBytesProcessed(iterations * total_bytes(batch));
}
BENCHMARK(bm_simdjson_dom_floor);

void bm_parse_nlohmann(benchmark::State& state) {
  run_parser(state, frames(), [](const std::string& frame) {
    return csp::actors::parse_trade_line_nlohmann(frame);
  });
}
BENCHMARK(bm_parse_nlohmann);

/// Frames the fast path reads to the end and then declines: its cost on
/// top of the general path (compare with bm_parse_simdjson_extended).
void bm_parse_fast_extended(benchmark::State& state) {
  csp::actors::binance_parser parser;
  run_parser(state, extended_frames(),
    [&](const std::string& frame) { return parser.parse(frame); });
}
BENCHMARK(bm_parse_fast_extended);

void bm_parse_simdjson_extended(benchmark::State& state) {
  csp::actors::binance_parser parser;
  run_parser(state, extended_frames(),
    [&](const std::string& frame) { return parser.parse_general(frame); });
}
BENCHMARK(bm_parse_simdjson_extended);

} // namespace

BENCHMARK_MAIN();
