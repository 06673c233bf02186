#pragma once

#include <string>
#include <vector>

namespace csp::app {

/// Arguments after the command name, e.g. {"--timeframe", "1m", ...}.
using arg_list = std::vector<std::string>;

/// `csp bars`: Binance trade events (JSON lines) to OHLCV bars (CSV).
int run_bars(const arg_list& args);

/// `csp run`: a platform node.
int run_node(const arg_list& args);

/// `csp backfill`: historical klines over REST into PostgreSQL.
int run_backfill(const arg_list& args);

/// `csp migrate`: applies the pending schema migrations.
int run_migrate(const arg_list& args);

/// `csp indicators`: bars (CSV) to indicator values (CSV).
int run_indicators(const arg_list& args);

} // namespace csp::app
