#include <cstring>
#include <iostream>
#include <string>

#include "app/commands.hpp"

namespace {

constexpr const char* usage = R"(usage: csp <command> [options]

commands:
  bars        --timeframe TF --input FILE|- [--allowed-lateness-ms N]
              Binance trade events (JSON lines) to OHLCV bars (CSV).
  indicators  --input FILE|-
              Bars (CSV open_time,open,high,low,close,volume) to indicators.
  run         [--config FILE] [overrides, see csp run --help]
              Runs a platform node: collectors, processing, storage, metrics.
  migrate     [--config FILE] [--mode auto|plain|timescale]
              Applies the pending PostgreSQL schema migrations.
  backfill    --exchange binance --symbol S --start-date D --end-date D
              --timeframe TF (--rest-url URL | --live)
              Historical klines into PostgreSQL, with indicators; resumable.
  help        This text.
)";

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  std::string cmd = argv[1];
  csp::app::arg_list args(argv + 2, argv + argc);
  if (cmd == "bars")
    return csp::app::run_bars(args);
  if (cmd == "indicators")
    return csp::app::run_indicators(args);
  if (cmd == "run")
    return csp::app::run_node(args);
  if (cmd == "migrate")
    return csp::app::run_migrate(args);
  if (cmd == "backfill")
    return csp::app::run_backfill(args);
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::cout << usage;
    return 0;
  }
  std::cerr << "csp: unknown command '" << cmd << "'\n" << usage;
  return 2;
}
