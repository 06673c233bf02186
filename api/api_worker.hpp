#pragma once

// The API's blocking reads and admin writes: each worker is a detached
// actor with its own PostgreSQL connection and Redis connection (a
// storage::history_reader), so a slow query never stalls a scheduler thread
// nor the server's I/O threads. The HTTP side sends it validated calls with
// the request's responder; the broadcaster asks it for snapshots.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "storage/history.hpp"

namespace csp::api {

class chart_cache;

/// Settings of an api_worker.
struct api_worker_options {
  storage::pg_settings db;
  storage::redis_options redis;
  storage::history_options history;
  /// Receives symbol_commands from the admin endpoints (may be invalid).
  caf::actor collectors;
  /// Receives cache_hits_total / cache_misses_total (may be invalid).
  caf::actor metrics;
  /// Most rows one CSV export may hold.
  std::size_t max_export_rows = 100'000;
  /// How often metrics are sent.
  std::int64_t metrics_flush_ms = 1'000;
  /// The API's chart response cache: filled by chart calls marked
  /// fill_chart_cache, cleared by admin symbol changes (may be null).
  std::shared_ptr<chart_cache> charts;
};

/// Spawns a detached worker. Protocol:
/// - `(api_call, net::responder)` -> answers the responder (JSON or CSV);
///   a chart call marked fill_chart_cache completes the chart cache's fill
///   instead, which answers every request waiting for it.
/// - `(snapshot_atom, std::string exchange, std::string symbol, timeframe,
///   std::size_t n)` -> bar_history: the newest n closed bars and their
///   stored indicators (exchange empty: resolved from the symbol).
caf::actor spawn_api_worker(caf::actor_system& sys, api_worker_options opts);

} // namespace csp::api
