#pragma once

// The API's read path for bar history: validates the request (timeframe,
// range, limit, and the symbol against the `symbols` table) before anything
// reaches SQL or a Redis key, then reads Redis first and PostgreSQL on a
// miss (bar_reader), refilling the cache. No CAF; one per thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/bar.hpp"
#include "storage/bar_reader.hpp"
#include "storage/pg_settings.hpp"
#include "storage/redis_client.hpp"

namespace csp::storage {

class pg_store;

/// Why a history request was refused.
enum class history_errc {
  /// Timeframe, range or limit invalid (HTTP 400).
  invalid_request,
  /// The exchange/symbol pair is not in the symbols table (HTTP 404).
  unknown_symbol,
  /// Neither Redis nor PostgreSQL could answer (HTTP 503).
  unavailable,
};

/// The answer to a history request.
struct history_result {
  std::vector<messages::bar> bars;
  /// Set when the request was refused or could not be answered.
  std::optional<history_errc> error;
  /// What was wrong, for the error body.
  std::string message;
};

/// Settings of a history_reader.
struct history_options {
  bar_reader_options cache;
  /// Largest `limit` accepted.
  std::size_t max_limit = 1000;
  /// The symbol table is re-read at most this often (an unknown symbol
  /// triggers a re-read once this much time has passed).
  std::chrono::milliseconds symbols_refresh{30'000};
};

/// Validated history reads, Redis first.
class history_reader {
public:
  history_reader(pg_settings db, redis_options redis, history_options opts);
  ~history_reader();

  history_reader(const history_reader&) = delete;
  history_reader& operator=(const history_reader&) = delete;

  /// Closed bars of `exchange`/`symbol` in timeframe `tf_label` with open
  /// time in [start_ms, end_ms], the newest `limit` of them, oldest first.
  history_result bars(const std::string& exchange, const std::string& symbol,
    std::string_view tf_label, std::int64_t start_ms, std::int64_t end_ms,
    std::size_t limit);

  /// Whether the pair is an active row of the symbols table (re-reading the
  /// table when it is older than the refresh period).
  bool known_symbol(const std::string& exchange, const std::string& symbol);

  /// The exchange listing `symbol` (the first by name when several do), or
  /// nullopt; re-reads the table like known_symbol. Throws pg_error.
  std::optional<std::string> exchange_of(const std::string& symbol);

  /// The reader's database connection, for the other API reads.
  pg_store& store() noexcept { return *db_; }

  /// Cache hit/miss counts since the previous call (for metrics).
  bar_read_stats take_stats() noexcept { return reader_.take_stats(); }

private:
  void refresh_symbols();

  std::unique_ptr<pg_store> db_;
  history_options opts_;
  bar_reader reader_;
  std::set<std::pair<std::string, std::string>> symbols_;
  std::chrono::steady_clock::time_point symbols_read_{};
  bool symbols_loaded_ = false;
  /// Set by the fallback when the database failed.
  std::string db_error_;
};

} // namespace csp::storage
