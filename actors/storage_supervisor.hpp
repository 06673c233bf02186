#pragma once

// The storage subtree: a pool of pg_writers (one PostgreSQL connection
// each) under a supervisor that is also the pipeline's storage sink. It
// routes every row to the writer of its instrument (so the revisions of a
// bar always go through the same connection, in order), restarts a crashed
// writer with backoff while holding the messages meant for it, and gives
// the new incarnation the crashed one's buffered batch.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "actors/pg_writer.hpp"
#include "actors/restart_policy.hpp"

namespace csp::actors {

/// Settings of the storage subtree.
struct storage_options {
  /// Writers (= database connections).
  std::size_t pool_size = 4;
  /// Folder of the writers' spool files (pg_writer-<i>.spool).
  std::string spool_dir = ".data/spool";
  /// Template of every writer's settings (name, spool path and memory are
  /// set per writer; writer 0 maintains the partitions).
  pg_writer_options writer;
  restart_policy_config restart;
  /// Receives metric updates (may be invalid).
  caf::actor metrics;
  /// Back-pressure: rows handed to the writers and not yet settled
  /// (written, spooled, rejected or ignored) at which the supervisor sends
  /// flow_control{paused=true} to its listeners; at half of it, paused=false.
  /// 0 turns flow control off.
  std::int64_t max_inflight_rows = 200'000;
  /// Receivers of flow_control from the start (more subscribe with
  /// `(subscribe_flow_atom, caf::actor)`).
  std::vector<caf::actor> flow_listeners;
  /// Spawns one writer; empty: spawn_pg_writer (detached). Tests put a
  /// scheduled stand-in here that speaks the pg_writer protocol.
  std::function<caf::actor(caf::local_actor* parent, pg_writer_options)>
    spawn_writer;
};

/// Spawns the storage supervisor. It accepts what a pg_writer accepts
/// (`std::vector<bar>`, `std::vector<indicator_snapshot>`,
/// `std::vector<feature_vector>`, `quality_report`, `trade_batch`) and
/// routes it; `(caf::flush_atom)` flushes every writer
/// and replies `std::vector<writer_stats>`; `(caf::get_atom)` replies the
/// same without flushing; `(caf::get_atom, std::string name)` replies the
/// running writer of that name (or an invalid handle), for fault
/// injection; `(subscribe_flow_atom, caf::actor listener)` adds a receiver
/// of `flow_control` (told at once when a pause is on; dropped when it
/// exits); `writer_stats` from a writer (its progress report) updates the
/// rows in flight. An exit request stops the writers first (each
/// flushes to the database or its spool) and then the supervisor. More
/// restarts than the policy allows escalate: the supervisor exits with
/// the writer's error.
caf::actor spawn_storage_supervisor(
  caf::actor_system& sys, storage_options opts);

} // namespace csp::actors
