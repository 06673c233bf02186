#pragma once

// One PostgreSQL connection and the platform's writes and reads on it:
// copy_batches in one transaction each (binary or text COPY straight into
// the table, or into a staging table followed by an idempotent upsert when
// the batch touches stored rows), partitions created on demand, candles
// read back. A pg_store is used by one thread at a time (each pg_writer
// owns one).

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "messages/bar.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/quality_report.hpp"
#include "storage/copy_batch.hpp"
#include "storage/migrations.hpp"
#include "storage/partitions.hpp"
#include "storage/pg_settings.hpp"

namespace pqxx {
class connection_base;
} // namespace pqxx

namespace csp::storage {

/// A database operation failed. `error_type` is the db_errors_total label:
/// "connection" (server unreachable or connection lost), "timeout",
/// "conflict" (deadlock or serialization failure), "schema" (the database
/// has no schema yet), "constraint", "query" (SQL or data rejected) or
/// "other".
class pg_error : public std::runtime_error {
public:
  pg_error(std::string error_type, const std::string& what)
      : std::runtime_error(what), error_type_(std::move(error_type)) {}

  const std::string& error_type() const noexcept { return error_type_; }

  /// True when retrying later can succeed: the same batch may be written
  /// once the server, the schema or the competing transaction is back.
  bool transient() const noexcept {
    return error_type_ == "connection" || error_type_ == "timeout"
      || error_type_ == "conflict" || error_type_ == "schema";
  }

private:
  std::string error_type_;
};

/// Classifies a libpqxx (or other) exception as a db_errors_total label.
std::string classify_db_error(const std::exception& e);

/// Which candles load_candles returns.
struct candle_query {
  std::string exchange;
  std::string symbol;
  messages::timeframe tf = messages::timeframe::m1;
  /// Open-time range [start_ms, end_ms]; unset ends are open.
  std::optional<std::int64_t> start_ms;
  std::optional<std::int64_t> end_ms;
  /// The newest `limit` bars of the range, returned oldest first.
  std::int64_t limit = 500;
};

/// One row of the `symbols` table.
struct symbol_row {
  std::string exchange;
  std::string symbol;
  /// "crypto" or "stock".
  std::string asset_class = "crypto";
};

/// A connection and the statements the writers and readers need.
class pg_store {
public:
  explicit pg_store(pg_settings settings);
  ~pg_store();

  pg_store(const pg_store&) = delete;
  pg_store& operator=(const pg_store&) = delete;

  /// Connects unless connected; reads the schema mode. Throws pg_error.
  void connect();

  /// Closes the connection (the next call reconnects).
  void disconnect() noexcept;

  /// Returns whether a connection is open (it may still have broken).
  bool connected() const noexcept { return conn_ != nullptr; }

  /// Writes `b` in one transaction; returns the rows it inserted or
  /// updated. Rows already present with the same content (or a newer
  /// candle revision) are left alone, so replaying a batch changes nothing.
  /// Throws pg_error; on a transient error the connection is dropped.
  std::size_t write(const copy_batch& b);

  /// Reads candles (see candle_query). Throws pg_error.
  std::vector<messages::bar> load_candles(const candle_query& q);

  /// Reads the stored indicator rows of a candle query's range (the newest
  /// `limit`, oldest first; closed = true, NULL -> NaN). Throws pg_error.
  std::vector<messages::indicator_snapshot> load_indicators(
    const candle_query& q);

  /// The newest stored quality report of an instrument, or nullopt.
  /// Throws pg_error.
  std::optional<messages::quality_report> load_quality(
    const std::string& exchange, const std::string& symbol);

  /// Marks a symbol inactive; returns whether an active row was changed.
  /// Throws pg_error.
  bool deactivate_symbol(
    const std::string& exchange, const std::string& symbol);

  /// Adds the symbols (or marks them active again). Throws pg_error; a
  /// symbol the table's checks refuse is a "constraint" error.
  void upsert_symbols(const std::vector<symbol_row>& rows);

  /// The active symbols, ordered by exchange and symbol.
  std::vector<symbol_row> load_symbols();

  /// The id of (exchange, symbol) in `symbols` (the trades' key),
  /// registering the symbol when it has no row yet. Ids never change, so
  /// they are kept after the first lookup. Throws pg_error; a symbol the
  /// table's checks refuse is a "constraint" error.
  std::int32_t symbol_id(
    const std::string& exchange, const std::string& symbol);

  /// The id of (exchange, symbol) if an earlier symbol_id() returned it.
  std::optional<std::int32_t> known_symbol_id(
    std::string_view exchange, std::string_view symbol) const;

  /// The open time of the newest stored candle, or nullopt.
  std::optional<std::int64_t> last_candle_time(
    std::string_view exchange, std::string_view symbol, messages::timeframe tf);

  /// Drops partitions past the retention (plain mode; no-op with
  /// TimescaleDB, whose policy does it). Returns the dropped names.
  std::vector<std::string> drop_expired(
    std::int64_t now_ms, std::int64_t retention_ms);

  /// Creates the partitions for [from_ms, to_ms] of every table (plain
  /// mode), e.g. ahead of the clock.
  void ensure_partitions(std::int64_t from_ms, std::int64_t to_ms);

  /// The schema mode read on connect.
  schema_mode mode() const noexcept { return mode_; }

  /// The connection (connects first). For tests and migrations.
  pqxx::connection_base& connection();

  /// Runs `sql` without parameters (tests, administration). Throws.
  void execute(const std::string& sql);

private:
  template <class F>
  auto guarded(F&& f) -> decltype(f());

  std::size_t write_upsert(const copy_batch& b);

  std::size_t write_direct_first(const copy_batch& b);

  struct connection_holder;

  pg_settings settings_;
  std::unique_ptr<connection_holder> conn_;
  /// symbol_id() results by "exchange\tsymbol".
  std::unordered_map<std::string, std::int32_t> symbol_ids_;
  schema_mode mode_ = schema_mode::plain;
  partition_manager partitions_;
};

} // namespace csp::storage
