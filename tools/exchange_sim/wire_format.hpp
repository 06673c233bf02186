#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/exchange_sim/market.hpp"

namespace csp::tools {

/// Appends `units` (1e-8) with exactly 8 fractional digits, as Binance
/// prints prices and quantities ("42000.50000000").
void append_fixed8(std::string& out, messages::int128 units);

/// Appends one Binance trade event (no newline):
/// {"e":"trade","E":..,"s":"BTCUSDT","t":..,"p":"..","q":"..","T":..,
/// "m":..,"M":true}.
void append_trade_event(
  std::string& out, std::string_view symbol, const sim_trade& t);

/// Appends a combined-stream frame {"stream":"btcusdt@trade","data":{..}}.
void append_combined_trade(std::string& out, std::string_view stream,
  std::string_view symbol, const sim_trade& t);

/// Returns Binance's error object {"code":..,"msg":".."}.
std::string binance_error(int code, std::string_view msg);

/// Returns the /api/v3/historicalTrades array.
std::string historical_trades_json(const std::vector<sim_trade>& trades);

/// Returns the /api/v3/klines array of arrays.
std::string klines_json(const std::vector<kline>& klines);

/// Returns /api/v3/exchangeInfo for every symbol (or only `only` >= 0).
std::string exchange_info_json(const market& m, int only, std::int64_t now_ms);

/// Parameters of a chart answer besides the candles.
struct chart_meta {
  std::string symbol;
  std::string range;
  std::int64_t now_ms = 0;
  std::int64_t previous_close_cents = 0;
};

/// Returns Yahoo's chart JSON for 1m `candles`.
std::string chart_json(
  const chart_meta& meta, const std::vector<stock_candle>& candles);

/// Returns Yahoo's chart error shape {"chart":{"result":null,"error":..}}.
std::string chart_error(std::string_view code, std::string_view description);

} // namespace csp::tools
