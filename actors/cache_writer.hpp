#pragma once

#include <cstdint>
#include <functional>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "storage/cache_store.hpp"
#include "storage/redis_client.hpp"

namespace csp::actors {

/// Settings of the cache writer.
struct cache_writer_options {
  /// Where Redis is (short timeouts: a dead Redis must not stall the
  /// writer's mailbox for long).
  storage::redis_options redis;
  /// Key prefix, per-key bounds and indicator lifetime.
  storage::cache_store_options store;
  /// First delay before reconnecting after a failure; doubles per failed
  /// attempt up to retry_max_ms.
  std::int64_t retry_initial_ms = 100;
  std::int64_t retry_max_ms = 5'000;
  /// How often Redis INFO is read for cache_memory_bytes and
  /// cache_evictions_total.
  std::int64_t info_interval_ms = 10'000;
  /// How often accumulated metrics go to the metrics actor.
  std::int64_t metrics_flush_ms = 1'000;
  /// The node's metrics actor (may be invalid: no metrics).
  caf::actor metrics;
  /// Wall clock in ms since the epoch; tests inject their own.
  std::function<std::int64_t()> now_ms;
  /// Run on a thread of its own (hiredis blocks). Tests set false to run
  /// the writer in the deterministic test scheduler.
  bool detached = true;
};

/// Spawns the cache writer: it receives `std::vector<messages::bar>`
/// (closed bars and revisions go to the bar sets, forming bars to their
/// key, all to `chart_updates`), `std::vector<messages::indicator_snapshot>`
/// (latest indicators, 5 min TTL), `messages::health_status`
/// (`system:health`) and `messages::trade_batch` (one PUBLISH on
/// `trades:{exchange}` per batch), and ignores `messages::quality_report`.
/// Every message is written with one round trip (storage::cache_store).
/// While Redis is unreachable it keeps accepting messages, remembers what
/// the cache must hold (bounded per key), counts errors and reconnects with
/// exponential backoff; after a reconnect it refills the cache from memory.
/// Metrics: cache_operations_total{operation}, cache_memory_bytes and
/// cache_evictions_total (the delta of Redis' evicted_keys).
caf::actor spawn_cache_writer(
  caf::actor_system& sys, cache_writer_options opts);

} // namespace csp::actors
