#pragma once

#include <cstdint>
#include <string>

namespace csp::messages {

/// What one storage writer has done so far (its reply to `get_atom` and
/// `flush_atom`). Counts survive restarts of the writer.
struct writer_stats {
  /// Writer name, e.g. "pg_writer-0".
  std::string name;
  /// Rows the database acknowledged (inserted, updated or already there).
  std::int64_t rows_written = 0;
  /// Rows that went to the spool file because the database was away.
  std::int64_t rows_spooled = 0;
  /// Batches and rows in the spool still waiting for replay.
  std::int64_t spool_batches = 0;
  std::int64_t spool_rows = 0;
  /// Rows buffered in memory, not yet flushed.
  std::int64_t buffered_rows = 0;
  /// Rows the database refused for good (kept in the rejected file).
  std::int64_t rows_rejected = 0;
  /// Database errors seen.
  std::int64_t errors = 0;
  /// Whether the last database operation succeeded.
  bool connected = false;
  /// Rows received that the writer no longer holds: written, spooled,
  /// rejected, or ignored on arrival (forming bars, peek snapshots, trades
  /// with the archive off). Counted as received, before de-duplication, so
  /// rows handed to the writer minus this is what it still holds.
  std::int64_t rows_settled = 0;

  friend bool operator==(const writer_stats& x, const writer_stats& y) {
    return x.name == y.name && x.rows_written == y.rows_written
      && x.rows_spooled == y.rows_spooled && x.spool_batches == y.spool_batches
      && x.spool_rows == y.spool_rows && x.buffered_rows == y.buffered_rows
      && x.rows_rejected == y.rows_rejected && x.errors == y.errors
      && x.connected == y.connected && x.rows_settled == y.rows_settled;
  }
  friend bool operator!=(const writer_stats& x, const writer_stats& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
