#pragma once

// The write side of the Redis cache without CAF: remembers what the cache
// must hold (bounded), writes every update with one round trip, and after
// an outage writes everything it remembers again (a refill), so the cache
// is complete once Redis is back. actors/cache_writer wraps it in an actor.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/bar.hpp"
#include "messages/health_status.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/trade.hpp"
#include "storage/cache_layout.hpp"
#include "storage/redis_client.hpp"

namespace csp::storage {

/// Settings of a cache_store.
struct cache_store_options {
  /// Prepended to every key and channel.
  std::string prefix;
  /// Closed bars kept per key, in Redis and in memory.
  std::size_t bars_per_key = cached_bars_per_key;
  /// Lifetime of the latest-indicators keys.
  std::int64_t indicators_ttl_ms = storage::indicators_ttl_ms;
  /// Most commands sent in one round trip while refilling.
  std::size_t refill_batch = 4096;
};

/// Cumulative counts of a cache_store (the cache_writer turns their
/// increments into cache_operations_total{operation}).
struct cache_store_counters {
  /// Closed bars written (ZADD), including revisions.
  std::uint64_t bars = 0;
  /// Forming bars written (SET).
  std::uint64_t forming = 0;
  /// Indicator snapshots written (SET with TTL).
  std::uint64_t indicators = 0;
  /// Health fields written (HSET).
  std::uint64_t health = 0;
  /// Bar updates published on chart_updates.
  std::uint64_t chart_updates = 0;
  /// Trade batches published on trades:{exchange}.
  std::uint64_t trade_batches = 0;
  /// Completed refills after a (re)connect.
  std::uint64_t refills = 0;
  /// Updates kept in memory only while Redis was unreachable.
  std::uint64_t deferred = 0;
  /// Trade batches not published while Redis was unreachable.
  std::uint64_t dropped = 0;
  /// Failed connection attempts, failed round trips and error replies.
  std::uint64_t errors = 0;
};

/// Memory and eviction figures from Redis INFO.
struct redis_info {
  std::uint64_t used_memory = 0;
  std::uint64_t evicted_keys = 0;
};

/// Parses the `used_memory` and `evicted_keys` fields of an INFO reply.
std::optional<redis_info> parse_redis_info(std::string_view text);

/// Keeps the cache written. Not thread-safe.
class cache_store {
public:
  /// `now_ms` is the wall clock (ms since the epoch); it decides how much
  /// of an indicator's lifetime is left at a refill.
  cache_store(redis_options redis, cache_store_options opts,
    std::function<std::int64_t()> now_ms);

  /// Remembers closed bars (the newest `bars_per_key` per key; a revision
  /// replaces its bar) and forming bars, and writes them with their
  /// chart_updates in one round trip. Returns false when not written.
  bool put(const std::vector<messages::bar>& bars);

  /// Remembers and writes the latest indicators per key.
  bool put(const std::vector<messages::indicator_snapshot>& xs);

  /// Remembers and writes one component's health.
  bool put(const messages::health_status& x);

  /// Publishes a trade batch (not remembered: pub/sub is live only); an
  /// empty batch is not published.
  bool publish(const messages::trade_batch& x);

  /// True when connected and nothing is missing from Redis.
  bool up_to_date() const noexcept { return client_.connected() && !stale_; }

  /// Connects (when needed) and writes everything remembered when the
  /// cache may miss something. Returns true when the cache is complete.
  bool connect_and_refill();

  /// Reads used_memory and evicted_keys; std::nullopt when unreachable.
  std::optional<redis_info> info();

  const cache_store_counters& counters() const noexcept { return counters_; }

  const std::string& last_error() const noexcept {
    return client_.last_error();
  }

  /// Closed bars held in memory, over all keys.
  std::size_t remembered_bars() const noexcept;

  const cache_keys& keys() const noexcept { return keys_; }

private:
  struct timed_indicators {
    messages::indicator_snapshot snapshot;
    std::int64_t received_ms = 0;
  };
  struct timed_bar {
    messages::bar bar;
    std::int64_t received_ms = 0;
  };

  /// Sends the pipeline; on failure marks the cache stale. Returns whether
  /// every reply was received and none was an error.
  bool send();

  cache_store_options opts_;
  cache_keys keys_;
  redis_client client_;
  std::function<std::int64_t()> now_ms_;
  redis_pipeline pipeline_;
  /// Redis may miss something this store remembers.
  bool stale_ = true;
  cache_store_counters counters_;
  std::unordered_map<std::string, std::map<std::int64_t, messages::bar>> bars_;
  std::unordered_map<std::string, timed_bar> forming_;
  std::unordered_map<std::string, timed_indicators> indicators_;
  std::map<std::string, messages::health_status> health_;
};

} // namespace csp::storage
