#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/bar.hpp"

namespace csp::actors {

/// The 1m candles of one Yahoo chart answer.
struct chart_result {
  /// False when the body is not a usable chart answer; see error.
  bool ok = false;
  /// "malformed_json", "chart_error: <code>", "unexpected_shape", ...
  std::string error;
  /// Candles in time order, one per minute (later entries of the same
  /// minute win), with `closed` set for minutes that ended by now_ms.
  std::vector<messages::bar> candles;
};

/// Parses `/v8/finance/chart/{symbol}?interval=1m` JSON into 1m bars of
/// `exchange`/`symbol`. Entries whose open, high, low or close is null
/// (Yahoo emits those for minutes without trades) are skipped; a null
/// volume counts as 0. Prices are rounded to 8 decimals; the chart carries
/// no quote volume, trade count or trade ids (left 0 and -1).
chart_result parse_yahoo_chart(std::string_view body, std::string_view exchange,
  std::string_view symbol, std::int64_t now_ms);

} // namespace csp::actors
