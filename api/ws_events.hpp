#pragma once

// The data events the WebSocket endpoint pushes: native snapshots and bar
// updates, Binance kline events and the combined-stream wrapper. Pure
// functions, no CAF. docs/API.md describes them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/bar.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/timeframe.hpp"

namespace csp::api {

/// `{"type":"snapshot","exchange":..,"symbol":..,"timeframe":..,"bars":[..]}`:
/// the closed bars ordered by open time (oldest first), then `forming` when
/// not null, each a bar with indicators (append_bar_with_indicators) whose
/// snapshot is found in `indicators` by open time (indicator_lookup).
std::string native_snapshot(std::string_view exchange, std::string_view symbol,
  messages::timeframe tf, const std::vector<messages::bar>& closed,
  const messages::bar* forming,
  const std::vector<messages::indicator_snapshot>& indicators);

/// `{"type":"bar","exchange":..,"symbol":..,"timeframe":..,"bar":..}` with
/// the bar with indicators (`"indicators":null` when `x` is null).
std::string native_bar_update(
  const messages::bar& b, const messages::indicator_snapshot* x);

/// Binance's kline event for `b`:
/// `{"e":"kline","E":event_ms,"s":..,"k":{"t","T","s","i","f","L","o","c",
/// "h","l","v","n","x","q","V","Q","B"}}`, prices and volumes with 8
/// decimals, "B" always "0".
std::string binance_kline_event(const messages::bar& b, std::int64_t event_ms);

/// Binance's combined-stream wrapper `{"stream":..,"data":<data_json>}`;
/// `data_json` is inserted as is.
std::string binance_combined(
  std::string_view stream, std::string_view data_json);

} // namespace csp::api
