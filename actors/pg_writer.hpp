#pragma once

// A pg_writer owns one PostgreSQL connection (the writers together are the
// pool) and makes everything the pipeline produces durable: closed bars
// and their revisions (candles), indicator snapshots, feature vectors,
// quality reports and raw trades. It buffers rows and flushes them by count or
// age as COPY batches with idempotent upserts. While the database is
// unreachable every batch goes to an append-only spool file; the spool is
// replayed, in order, as soon as the database answers again, so no row is ever
// dropped. Runs detached (libpqxx blocks).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "messages/bar.hpp"
#include "messages/feature_vector.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/quality_report.hpp"
#include "messages/trade.hpp"
#include "messages/writer_stats.hpp"
#include "storage/pg_settings.hpp"

namespace csp::actors {

/// What a writer holds between flushes; shared with its supervisor so a
/// restarted writer continues with the batch of the one that crashed.
struct pg_writer_memory {
  std::vector<messages::bar> bars;
  std::vector<messages::indicator_snapshot> snapshots;
  std::vector<messages::feature_vector> features;
  std::vector<messages::quality_report> reports;
  std::vector<messages::trade_batch> trades;
  /// Rows buffered in the vectors above.
  std::size_t rows = 0;
  /// Steady-clock ms when the oldest buffered row arrived.
  std::int64_t oldest_ms = 0;
  /// Counters that outlive an incarnation.
  messages::writer_stats stats;
};

/// Settings of one pg_writer.
struct pg_writer_options {
  /// "pg_writer-<i>": logs, stats and the spool file name.
  std::string name = "pg_writer-0";
  storage::pg_settings db;
  /// The spool file (created on start; its folder must exist).
  std::string spool_path;
  /// Flush when this many rows are buffered...
  std::size_t flush_rows = 20'000;
  /// ... or when the oldest buffered row is this old.
  std::int64_t flush_age_ms = 500;
  /// Archive raw trades (the `trades` table).
  bool archive_trades = true;
  /// Retry delay after a failed write, doubled up to retry_max_ms.
  std::int64_t retry_min_ms = 250;
  std::int64_t retry_max_ms = 8'000;
  /// Partition upkeep (plain PostgreSQL): create partitions this far ahead
  /// of the clock and drop those past the retention, every maintenance_ms.
  /// Only one writer of a pool needs it.
  bool maintain_partitions = false;
  std::int64_t partitions_ahead_ms = std::int64_t{2} * 86'400'000;
  std::int64_t retention_ms = storage::retention_period_ms;
  std::int64_t maintenance_ms = 3'600'000;
  /// Metric updates go here once per second (may be invalid).
  caf::actor metrics;
  /// Receives this writer's writer_stats whenever its rows_settled grew:
  /// right after a flush, else on the next tick (may be invalid). The
  /// storage supervisor counts rows in flight with it.
  caf::actor progress;
  /// Survives restarts; created by spawn when empty.
  std::shared_ptr<pg_writer_memory> memory;
};

/// Spawns a detached pg_writer. Messages:
/// - `std::vector<bar>` (closed bars and revisions; forming bars are
///   ignored), `std::vector<indicator_snapshot>` and
///   `std::vector<feature_vector>` (closed ones), `quality_report`,
///   `trade_batch`: buffered for the next flush;
/// - `(caf::flush_atom)`: flushes and replays now, replies writer_stats;
/// - `(caf::get_atom)`: replies writer_stats.
/// Sends writer_stats to `opts.progress` as rows settle (see
/// writer_stats::rows_settled). On exit it flushes what it buffers (to the
/// database or the spool).
caf::actor spawn_pg_writer(caf::actor_system& sys, pg_writer_options opts);

/// The same, spawned by (and linked to nothing but monitored by) `parent`.
caf::actor spawn_pg_writer(caf::local_actor* parent, pg_writer_options opts);

} // namespace csp::actors
