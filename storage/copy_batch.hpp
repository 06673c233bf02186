#pragma once

// Rows for PostgreSQL's COPY, encoded once: a copy_batch is what a writer
// sends to the database and, during an outage, what it spools to disk and
// replays later, byte for byte. Rows are encoded in COPY's binary format
// (the writers' path: the server parses no numeric or timestamptz text) or
// in its text format (older spool records, psql comparisons). No CAF here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/bar.hpp"
#include "messages/feature_vector.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/quality_report.hpp"
#include "messages/trade.hpp"

namespace csp::storage {

/// What a copy_batch's rows are: the table they go to and, for trades,
/// how they name their instrument. The numbers are stored in spool records.
enum class table_kind : std::uint8_t {
  /// Trades that name their instrument by exchange and symbol; the
  /// database looks up its symbol id while storing them. Spool records
  /// written before symbol ids are these, and so are batches a writer
  /// encodes while it cannot ask the database for an id.
  trades = 0,
  candles = 1,
  indicators = 2,
  data_quality = 3,
  features = 4,
  /// Trades that also carry the instrument's id (symbols.id), the writers'
  /// path: one COPY straight into `trades`, whose primary key is
  /// (symbol_id, trade_id, time).
  trades_by_id = 5,
};

/// Every table_kind value (spool records are checked against it).
inline constexpr std::size_t table_kind_count = 6;

/// Number of tables.
inline constexpr std::size_t table_count = 5;

/// Every table, in table_kind order (all are time series).
inline constexpr std::array<table_kind, table_count> all_tables{
  table_kind::trades, table_kind::candles, table_kind::indicators,
  table_kind::data_quality, table_kind::features};

/// The table a kind's rows go to: trades for trades_by_id, else `x`.
constexpr table_kind table_of(table_kind x) noexcept {
  return x == table_kind::trades_by_id ? table_kind::trades : x;
}

/// The table name, e.g. "candles" (trades_by_id: "trades").
std::string_view to_string(table_kind x) noexcept;

/// Columns of a kind's rows in COPY order, comma-separated.
std::string_view copy_columns(table_kind x) noexcept;

/// How a copy_batch's rows are encoded.
enum class copy_format : std::uint8_t {
  /// COPY's binary tuples, without the stream's header and trailer (see
  /// copy_stream): per row an int16 field count, per field an int32 length
  /// (-1 for NULL) and the value in the server's binary form, big-endian.
  binary = 0,
  /// COPY text: tab-separated, \N for NULL, one line per row, each ending
  /// in '\n'.
  text = 1,
};

/// Rows of one table, encoded in `format`. Set the format before the first
/// append; the append functions encode in it.
struct copy_batch {
  table_kind table = table_kind::candles;
  copy_format format = copy_format::binary;
  std::string rows;
  std::size_t row_count = 0;
  /// Range of the rows' `time` column, ms since the epoch (for partitions).
  std::int64_t min_time_ms = 0;
  std::int64_t max_time_ms = 0;

  bool empty() const noexcept { return row_count == 0; }

  friend bool operator==(const copy_batch& x, const copy_batch& y) {
    return x.table == y.table && x.format == y.format && x.rows == y.rows
      && x.row_count == y.row_count && x.min_time_ms == y.min_time_ms
      && x.max_time_ms == y.max_time_ms;
  }
};

/// Appends the trades of `batch` (time = trade time), naming the
/// instrument (kind trades). Both trade appends set `out.table` when `out`
/// is empty and throw std::invalid_argument when it holds the other kind.
void append_trades(copy_batch& out, const messages::trade_batch& batch);

/// Appends the trades of `batch` with the instrument's id `symbol_id`
/// (symbols.id; kind trades_by_id).
void append_trades(
  copy_batch& out, const messages::trade_batch& batch, std::int32_t symbol_id);

/// Appends one candle row (time = bar open time).
void append_candle(copy_batch& out, const messages::bar& b);

/// Appends one indicator row; NaN values become NULL.
void append_indicators(
  copy_batch& out, const messages::indicator_snapshot& snap);

/// Appends one features row; NaN values become NULL.
void append_features(copy_batch& out, const messages::feature_vector& fv);

/// Appends one data_quality row (time = end of the report's window).
void append_quality(copy_batch& out, const messages::quality_report& rep);

/// The whole COPY data of `b`: the rows, and for the binary format the
/// stream's header before them and its trailer after them (what `COPY ...
/// FROM STDIN` or psql's `\copy` reads).
std::string copy_stream(const copy_batch& b);

/// The binary COPY stream's header: signature, flags, extension length.
std::string_view binary_copy_header() noexcept;

/// The binary COPY stream's trailer (a field count of -1).
std::string_view binary_copy_trailer() noexcept;

/// Appends a value in 1e-8 units as a binary COPY `numeric` field: int32
/// length, then PostgreSQL's numeric_send form (int16 digit count, int16
/// weight, uint16 sign, uint16 display scale, base-10000 digit groups). The
/// display scale is that of the shortest exact text (messages::
/// format_units), so the server stores what the text path stores.
void append_binary_numeric(std::string& out, messages::int128 units);

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC).
inline constexpr std::int64_t pg_epoch_us = 946'684'800'000'000;

/// Appends `text` escaped for a COPY text field (backslash, tab, newline,
/// carriage return).
void append_copy_text(std::string& out, std::string_view text);

/// Keeps, for every (exchange, symbol, timeframe, open time), the bar with
/// the highest revision (the last one among equals), in first-seen order.
/// One upsert statement may not touch a row twice, so batches are
/// de-duplicated before encoding.
std::vector<messages::bar> newest_revisions(std::vector<messages::bar> bars);

/// Keeps the last snapshot per (exchange, symbol, timeframe, open time).
std::vector<messages::indicator_snapshot> newest_snapshots(
  std::vector<messages::indicator_snapshot> snaps);

/// Keeps the last feature vector per (exchange, symbol, timeframe, open
/// time).
std::vector<messages::feature_vector> newest_features(
  std::vector<messages::feature_vector> xs);

} // namespace csp::storage
