// Rows per second into PostgreSQL through the writers' path (encode, COPY,
// upsert), against the server in DB_HOST/DB_PORT/DB_USER/DB_PASSWORD and
// the database CSP_BENCH_DB (migrated; bench/storage_bench.sh sets it all
// up and compares with psql's \copy of the same rows). With
// CSP_BENCH_DUMP_DIR set, the rows written are also saved there, in COPY
// text (candles.copy, trades.copy) and binary (candles.bin, trades.bin), for
// that comparison. CSP_BENCH_FORMAT=text makes the writers encode COPY text
// (as before binary COPY) instead of binary.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "storage/copy_batch.hpp"
#include "storage/pg_store.hpp"

using namespace csp;
using namespace csp::messages;

namespace {

constexpr std::int64_t base_ms = 1764028800000; // 2025-11-25T00:00:00Z
constexpr std::int64_t minute = 60'000;

storage::pg_settings bench_settings() {
  auto loaded = config::parse_config("{}", config::process_environment());
  auto s = storage::pg_settings_from(loaded.config->database);
  if (const char* db = std::getenv("CSP_BENCH_DB"))
    s.dbname = db;
  return s;
}

/// One connection per benchmark thread (the writers' pool has one per
/// writer).
storage::pg_store& store() {
  thread_local storage::pg_store s{bench_settings()};
  return s;
}

std::string dump_path(const char* name) {
  const char* dir = std::getenv("CSP_BENCH_DUMP_DIR");
  return dir == nullptr ? std::string{} : std::string{dir} + "/" + name;
}

storage::copy_format bench_format() {
  const char* f = std::getenv("CSP_BENCH_FORMAT");
  return f != nullptr && std::string{f} == "text"
    ? storage::copy_format::text
    : storage::copy_format::binary;
}

/// The dumps of one benchmark's rows, text and binary (single-threaded
/// runs only; the binary file gets its header first and trailer last).
class row_dump {
public:
  row_dump(const char* table, const benchmark::State& state) {
    auto text = dump_path((std::string{table} + ".copy").c_str());
    if (text.empty() || state.threads() != 1)
      return;
    text_.open(text, std::ios::binary | std::ios::trunc);
    binary_.open(dump_path((std::string{table} + ".bin").c_str()),
      std::ios::binary | std::ios::trunc);
    binary_ << storage::binary_copy_header();
  }

  ~row_dump() {
    if (binary_.is_open())
      binary_ << storage::binary_copy_trailer();
  }

  row_dump(const row_dump&) = delete;
  row_dump& operator=(const row_dump&) = delete;

  bool open() const { return text_.is_open(); }

  /// Saves the rows `append(batch)` encodes, in both formats.
  template <class Append>
  void save(storage::table_kind t, Append append) {
    for (auto fmt :
      {storage::copy_format::text, storage::copy_format::binary}) {
      storage::copy_batch b;
      b.table = t;
      b.format = fmt;
      append(b);
      (fmt == storage::copy_format::text ? text_ : binary_) << b.rows;
    }
  }

private:
  std::ofstream text_;
  std::ofstream binary_;
};

/// 100 symbols x (rows / 100) minutes, starting at minute `first_minute`;
/// `tag` keeps the symbols of concurrent threads apart.
std::vector<bar> make_bars(
  std::int64_t rows, std::int64_t first_minute, const std::string& tag) {
  std::vector<bar> out;
  out.reserve(static_cast<std::size_t>(rows));
  auto minutes = rows / 100;
  for (int s = 0; s < 100; ++s)
    for (std::int64_t m = 0; m < minutes; ++m) {
      bar b;
      b.exchange = "binance";
      b.symbol = tag + "SYM" + std::to_string(s) + "USDT";
      b.open_time_ms = base_ms + (first_minute + m) * minute;
      b.close_time_ms = b.open_time_ms + minute - 1;
      auto px = 4'200'000'000'000 + (m * 7919 + s * 104729) % 100'000'000;
      b.open.units = px;
      b.high.units = px + 12'345'678;
      b.low.units = px - 2'345'678;
      b.close.units = px + 1'000'000;
      b.volume.units = 123'456'789 + m;
      b.quote_volume.units = 5'185'185'138'000 + m;
      b.taker_buy_volume.units = 61'728'394;
      b.taker_buy_quote_volume.units = 2'592'592'569'000;
      b.trade_count = 100 + m % 50;
      b.first_trade_id = m * 1000;
      b.last_trade_id = m * 1000 + 99;
      b.closed = true;
      out.push_back(std::move(b));
    }
  return out;
}

void bm_candle_upsert(benchmark::State& state) {
  auto rows = state.range(0);
  std::int64_t next_minute = 0;
  auto tag = "T" + std::to_string(state.threads()) + "N"
    + std::to_string(state.thread_index()) + "X";
  row_dump dump{"candles", state};
  store().connect();
  store().ensure_partitions(base_ms, base_ms + 400 * 86'400'000LL);
  for (auto _ : state) {
    state.PauseTiming();
    auto bars = make_bars(rows, next_minute, tag);
    next_minute += rows / 100;
    state.ResumeTiming();
    storage::copy_batch b;
    b.table = storage::table_kind::candles;
    b.format = bench_format();
    auto newest = storage::newest_revisions(std::move(bars));
    for (const auto& x : newest)
      storage::append_candle(b, x);
    auto n = store().write(b);
    if (n != static_cast<std::size_t>(rows))
      state.SkipWithError("not every candle was inserted");
    if (dump.open()) {
      state.PauseTiming();
      dump.save(b.table, [&](storage::copy_batch& out) {
        for (const auto& x : newest)
          storage::append_candle(out, x);
      });
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

void bm_trade_archive(benchmark::State& state) {
  auto rows = state.range(0);
  std::int64_t next_id = 1;
  auto tag = "T" + std::to_string(state.threads()) + "N"
    + std::to_string(state.thread_index()) + "X";
  row_dump dump{"trades", state};
  store().connect();
  for (auto _ : state) {
    state.PauseTiming();
    // 10 symbols, consecutive ids, one trade per 10 ms per symbol.
    std::vector<trade_batch> batches;
    auto per_symbol = rows / 10;
    for (int s = 0; s < 10; ++s) {
      trade_batch tb{"binance", tag + "SYM" + std::to_string(s) + "USDT", {}};
      tb.trades.reserve(static_cast<std::size_t>(per_symbol));
      for (std::int64_t i = 0; i < per_symbol; ++i) {
        trade t;
        t.id = next_id + i;
        t.price.units = 4'200'000'000'000 + (t.id * 7919) % 100'000'000;
        t.quantity.units = 1'000 + t.id % 100'000;
        t.trade_time_ms = base_ms + t.id * 10;
        t.event_time_ms = t.trade_time_ms + 1;
        t.buyer_is_maker = t.id % 3 == 0;
        tb.trades.push_back(t);
      }
      batches.push_back(std::move(tb));
    }
    next_id += per_symbol;
    state.ResumeTiming();
    storage::copy_batch b;
    b.table = storage::table_kind::trades_by_id;
    b.format = bench_format();
    // As the writers do: the symbol ids are looked up once and kept.
    for (const auto& tb : batches)
      storage::append_trades(b, tb, store().symbol_id(tb.exchange, tb.symbol));
    auto n = store().write(b);
    if (n != static_cast<std::size_t>(rows))
      state.SkipWithError("not every trade was archived");
    if (dump.open()) {
      state.PauseTiming();
      dump.save(b.table, [&](storage::copy_batch& out) {
        for (const auto& tb : batches)
          storage::append_trades(
            out, tb, store().symbol_id(tb.exchange, tb.symbol));
      });
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

} // namespace

// 10 batches each: 200 000 candles and 500 000 trades in all.
BENCHMARK(bm_candle_upsert)
  ->Arg(20'000)
  ->Iterations(10)
  ->Unit(benchmark::kMillisecond)
  ->UseRealTime();
BENCHMARK(bm_trade_archive)
  ->Arg(50'000)
  ->Iterations(10)
  ->Unit(benchmark::kMillisecond)
  ->UseRealTime();
// Two writers at once, as the pool does (rows/s summed over both).
BENCHMARK(bm_candle_upsert)
  ->Arg(20'000)
  ->Iterations(10)
  ->Threads(2)
  ->Unit(benchmark::kMillisecond)
  ->UseRealTime();
BENCHMARK(bm_trade_archive)
  ->Arg(50'000)
  ->Iterations(10)
  ->Threads(2)
  ->Unit(benchmark::kMillisecond)
  ->UseRealTime();

// Four writers on the same server (a larger pool).
BENCHMARK(bm_candle_upsert)
  ->Arg(20'000)
  ->Iterations(10)
  ->Threads(4)
  ->Unit(benchmark::kMillisecond)
  ->UseRealTime();
BENCHMARK(bm_trade_archive)
  ->Arg(50'000)
  ->Iterations(10)
  ->Threads(4)
  ->Unit(benchmark::kMillisecond)
  ->UseRealTime();

BENCHMARK_MAIN();
