#pragma once

// Bodies of the REST API (`/api/v1/...`): klines in Binance's format,
// charts (bars with indicators), CSV exports, errors, symbols and data
// quality. Pure functions, no CAF. docs/API.md describes them.

#include <string>
#include <string_view>
#include <vector>

#include "messages/bar.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/quality_report.hpp"
#include "messages/timeframe.hpp"
#include "storage/pg_store.hpp"

namespace csp::api {

/// Binance's `/api/v3/klines` body: `[[open time, "open", "high", "low",
/// "close", "volume", close time, "quote volume", trade count, "taker buy
/// base volume", "taker buy quote volume", "0"], ...]`, prices and volumes
/// with 8 decimals, in the order given.
std::string klines_json(const std::vector<messages::bar>& bars);

/// `{"exchange":..,"symbol":..,"timeframe":..,"bars":[..]}`, each bar (in
/// the order given) a bar with indicators whose snapshot is matched by
/// open time (`"indicators":null` when there is none).
std::string chart_json(std::string_view exchange, std::string_view symbol,
  messages::timeframe tf, const std::vector<messages::bar>& bars,
  const std::vector<messages::indicator_snapshot>& indicators);

/// The CSV header line: `open_time,close_time,open,high,low,close,volume,
/// quote_volume,trade_count,` and the 19 indicator names, CRLF-terminated.
void append_csv_header(std::string& out);

/// Appends one CSV row (CRLF-terminated): times as ISO-8601 UTC with
/// milliseconds ("2024-01-15T10:00:00.000Z"), prices and volumes as exact
/// decimals, indicators as round-trip numbers, an empty field for null
/// (or for every indicator when `x` is null). Chunked exports call it per
/// bar after append_csv_header.
void append_csv_row(std::string& out, const messages::bar& b,
  const messages::indicator_snapshot* x);

/// An RFC 4180 CSV document: the header, then one row per bar (in the
/// order given) with its indicators matched by open time.
std::string csv_export(const std::vector<messages::bar>& bars,
  const std::vector<messages::indicator_snapshot>& indicators);

/// Appends `ms` since the epoch as ISO-8601 UTC with milliseconds,
/// "YYYY-MM-DDTHH:MM:SS.mmmZ" (years clamped to 0000..9999).
void append_iso8601_ms(std::string& out, std::int64_t ms);

/// `{"error":{"code":..,"message":..}}`; strings escaped, invalid UTF-8
/// replaced by U+FFFD.
std::string error_json(std::string_view code, std::string_view message);

/// `{"exchanges":{"binance":[{"symbol":..,"asset_class":..},...],...}}`:
/// exchanges in name order, symbols in the order given.
std::string symbols_json(const std::vector<storage::symbol_row>& rows);

/// Every field of a quality report: `{"exchange","symbol","time",
/// "window_ms","score","observations","failed_checks":[{"check_type",
/// "failed"}],"recent_issues":[{"check_type","detail","trade_id","time"}]}`;
/// times in ms since the epoch, a trade_id of -1 as null, a score that is
/// not finite as null.
std::string quality_json(const messages::quality_report& report);

} // namespace csp::api
