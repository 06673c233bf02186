// The cost of a JSON log line through the daily file sink against spdlog's
// plain file sink (the same formatter), and of gzipping a finished day's
// file (done on the sink's own thread). Results in BENCHMARKS.md.

#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <unistd.h>

#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>

#include "monitoring/daily_file_sink.hpp"
#include "monitoring/log_files.hpp"
#include "monitoring/logging.hpp"

namespace fs = std::filesystem;
using csp::config::log_level;
using namespace csp::monitoring;

namespace {

fs::path scratch(const char* name) {
  auto dir = fs::temp_directory_path()
    / (std::string{"csp_log_bench_"} + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// Logs the seed's example event until the benchmark stops.
void log_lines(benchmark::State& state, spdlog::logger& logger) {
  std::int64_t n = 0;
  for (auto _ : state) {
    log_event(logger, log_level::info, "Trade received",
      {{"symbol", "BTCUSDT"}, {"price", 50000.0 + static_cast<double>(n)},
        {"volume", 1.5}, {"exchange", "binance"}});
    ++n;
  }
  logger.flush();
  state.SetItemsProcessed(state.iterations());
}

void BM_log_line_daily_sink(benchmark::State& state) {
  auto dir = scratch("daily");
  {
    daily_file_options opts;
    opts.dir = dir.string();
    auto sink = std::make_shared<daily_file_sink>(opts);
    sink->set_formatter(make_json_formatter());
    spdlog::logger logger{"collectors.binance", sink};
    log_lines(state, logger);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_log_line_daily_sink);

void BM_log_line_basic_file_sink(benchmark::State& state) {
  auto dir = scratch("basic");
  {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(
      (dir / "app.log").string());
    sink->set_formatter(make_json_formatter());
    spdlog::logger logger{"collectors.binance", sink};
    log_lines(state, logger);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_log_line_basic_file_sink);

/// gzip_file on a day file of state.range(0) MiB of JSON lines.
void BM_gzip_day_file(benchmark::State& state) {
  auto dir = scratch("gzip");
  auto src = (dir / "app_2024-01-15.log").string();
  std::string line
    = R"({"timestamp":"2024-01-15T10:30:45.123Z","level":"INFO",)"
      R"("logger":"collectors.binance","message":"Trade )"
      R"(received","symbol":"BTCUSDT","price":50000.0,)"
      R"("volume":1.5,"exchange":"binance","n":)";
  std::string content;
  const auto bytes = static_cast<std::size_t>(state.range(0)) << 20;
  for (std::size_t i = 0; content.size() < bytes; ++i)
    content += line + std::to_string(i) + "}\n";
  for (auto _ : state) {
    state.PauseTiming();
    std::ofstream{src, std::ios::binary | std::ios::trunc} << content;
    state.ResumeTiming();
    auto err = gzip_file(src, src + ".gz");
    if (!err.empty())
      state.SkipWithError(err.c_str());
  }
  state.SetBytesProcessed(
    state.iterations() * static_cast<std::int64_t>(content.size()));
  state.counters["ratio"] = static_cast<double>(content.size())
    / static_cast<double>(fs::file_size(src + ".gz"));
  fs::remove_all(dir);
}
BENCHMARK(BM_gzip_day_file)->Arg(16)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
