#include "actors/cache_writer.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/type_ids.hpp"
#include "monitoring/metrics_batch.hpp"
#include "messages/calendar.hpp"

namespace csp::actors {

namespace {

/// One cache_operations_total series per field of cache_store_counters.
struct operation_series {
  monitoring::metric_batch::series_id id = 0;
  std::uint64_t storage::cache_store_counters::*field = nullptr;
};

struct cache_writer_state {
  cache_writer_options opts;
  std::unique_ptr<storage::cache_store> store;
  monitoring::metric_batch batch;
  std::vector<operation_series> operations;
  storage::cache_store_counters flushed;
  monitoring::metric_batch::series_id memory_bytes = 0;
  monitoring::metric_batch::series_id evictions = 0;
  /// evicted_keys at the last INFO; nothing until the first reading.
  std::optional<std::uint64_t> evicted_keys;
  /// A reconnect timer is pending.
  bool retry_pending = false;
  std::int64_t retry_ms = 0;

  static inline const char* name = "cache_writer";

  void register_metrics() {
    using counters = storage::cache_store_counters;
    auto op = [&](std::string_view label, std::uint64_t counters::*field) {
      operations.push_back(operation_series{
        batch.counter("cache_operations_total", {{"operation", label}}),
        field});
    };
    op("write_bar", &counters::bars);
    op("write_forming_bar", &counters::forming);
    op("write_indicators", &counters::indicators);
    op("write_health", &counters::health);
    op("publish_chart_update", &counters::chart_updates);
    op("publish_trades", &counters::trade_batches);
    op("refill", &counters::refills);
    op("deferred", &counters::deferred);
    op("dropped", &counters::dropped);
    op("error", &counters::errors);
    memory_bytes = batch.gauge("cache_memory_bytes", {});
    evictions = batch.counter("cache_evictions_total", {});
  }

  /// Moves the counter increments since the last flush into the batch.
  void collect() {
    const auto& now = store->counters();
    for (const auto& s : operations) {
      auto delta = now.*(s.field) - flushed.*(s.field);
      if (delta != 0)
        batch.add(s.id, static_cast<double>(delta));
    }
    flushed = now;
  }

  void read_info() {
    auto info = store->info();
    if (!info)
      return;
    batch.set(memory_bytes, static_cast<double>(info->used_memory));
    // A restarted server starts evicted_keys at 0 again: its value then
    // counts from the restart.
    if (evicted_keys) {
      auto delta = info->evicted_keys >= *evicted_keys
        ? info->evicted_keys - *evicted_keys
        : info->evicted_keys;
      if (delta != 0)
        batch.add(evictions, static_cast<double>(delta));
    } else {
      // The first reading is the baseline; the series exists from now on
      // (at 0), so its rate has a start before the first eviction.
      batch.add(evictions, 0.0);
    }
    evicted_keys = info->evicted_keys;
  }
};

using cache_writer_actor = caf::stateful_actor<cache_writer_state>;

/// Arms the reconnect timer unless one is pending.
void schedule_retry(cache_writer_actor* self) {
  auto& st = self->state;
  if (st.retry_pending)
    return;
  st.retry_pending = true;
  self->delayed_send(
    self, std::chrono::milliseconds{st.retry_ms}, messages::reconnect_atom_v);
  st.retry_ms = std::min(st.retry_ms * 2, st.opts.retry_max_ms);
}

/// Connects and refills; on failure arms the next attempt.
void try_connect(cache_writer_actor* self) {
  auto& st = self->state;
  if (st.store->connect_and_refill()) {
    st.retry_ms = st.opts.retry_initial_ms;
    // The first reading after a connect is the baseline of the evictions.
    st.read_info();
    return;
  }
  schedule_retry(self);
}

/// After a write: an outage arms the reconnect timer.
void after_write(cache_writer_actor* self) {
  if (!self->state.store->up_to_date())
    schedule_retry(self);
}

caf::behavior cache_writer(
  cache_writer_actor* self, cache_writer_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  if (!st.opts.now_ms)
    st.opts.now_ms = messages::wall_clock_ms;
  st.retry_ms = st.opts.retry_initial_ms;
  st.store = std::make_unique<storage::cache_store>(
    st.opts.redis, st.opts.store, st.opts.now_ms);
  st.register_metrics();
  try_connect(self);
  self->delayed_send(self, std::chrono::milliseconds{st.opts.metrics_flush_ms},
    messages::flush_timer_atom_v);
  self->delayed_send(self, std::chrono::milliseconds{st.opts.info_interval_ms},
    messages::poll_atom_v);
  return {
    [=](const std::vector<messages::bar>& bars) {
      self->state.store->put(bars);
      after_write(self);
    },
    [=](const std::vector<messages::indicator_snapshot>& xs) {
      self->state.store->put(xs);
      after_write(self);
    },
    [=](const messages::health_status& x) {
      self->state.store->put(x);
      after_write(self);
    },
    [=](const messages::trade_batch& x) {
      self->state.store->publish(x);
      after_write(self);
    },
    // Sinks of the processing shard also receive quality reports; they are
    // not cached.
    [](const messages::quality_report&) {},
    [=](messages::reconnect_atom) {
      self->state.retry_pending = false;
      try_connect(self);
    },
    [=](messages::poll_atom) {
      auto& s = self->state;
      s.read_info();
      after_write(self);
      self->delayed_send(self,
        std::chrono::milliseconds{s.opts.info_interval_ms},
        messages::poll_atom_v);
    },
    [=](messages::flush_timer_atom) {
      auto& s = self->state;
      s.collect();
      if (s.opts.metrics && !s.batch.empty())
        self->send(s.opts.metrics, s.batch.take());
      self->delayed_send(self,
        std::chrono::milliseconds{s.opts.metrics_flush_ms},
        messages::flush_timer_atom_v);
    },
  };
}

} // namespace

caf::actor spawn_cache_writer(
  caf::actor_system& sys, cache_writer_options opts) {
  if (opts.detached)
    return sys.spawn<caf::detached>(cache_writer, std::move(opts));
  return sys.spawn(cache_writer, std::move(opts));
}

} // namespace csp::actors
