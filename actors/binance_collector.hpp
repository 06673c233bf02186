#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "caf/behavior.hpp"
#include "caf/fwd.hpp"
#include "caf/stateful_actor.hpp"

#include "net/io_thread.hpp"

namespace csp::actors {

/// What one collector's incarnations hand down to the next (the supervisor
/// respawns a collector after a crash or a parked open circuit): per symbol
/// the id through which every trade was delivered to the sink, so the next
/// incarnation backfills what it missed instead of losing it.
struct binance_collector_memory {
  std::mutex mtx;
  std::map<std::string, std::int64_t> delivered_through;
  bool connected_before = false;
};

/// Spawn settings of one binance_collector (one WebSocket connection).
struct binance_collector_options {
  /// The `collector` label and the name in collector_events.
  std::string name = "binance-0";
  /// The `exchange` label and trade_batch.exchange.
  std::string exchange = "binance";
  /// WebSocket base URL (ws:// or wss://); streams go under /stream.
  std::string ws_url = "wss://stream.binance.com:9443";
  /// REST base URL (http:// or https://) for the backfill.
  std::string rest_url = "https://api.binance.com";
  /// Upper-case symbols of this connection (at most 1024).
  std::vector<std::string> symbols;
  /// A trade_batch holds at most batch_max_trades trades. With
  /// batch_max_age_ms 0 every drain of the inbox ends by sending what it
  /// collected; a positive age holds trades until the batch is full or
  /// that old (the flush tick).
  std::int64_t batch_max_trades = 512;
  std::int64_t batch_max_age_ms = 0;
  /// Waking the actor for parsed frames (pushed once per socket read): at
  /// once when it last drained at least inbox_notify_interval_us ago, else
  /// when inbox_notify_count frames wait; frames below both wait for the
  /// flush tick. 1 and 0 (the default) wake it whenever a read finds the
  /// inbox empty and no wake-up is pending.
  std::int64_t inbox_notify_count = 1;
  std::int64_t inbox_notify_interval_us = 0;
  /// Reconnect this long after connecting (Binance cuts at 24 h).
  std::int64_t reconnect_before_ms = std::int64_t{23} * 3'600'000;
  /// No message for this long means the feed stalled: reconnect.
  std::int64_t stall_timeout_ms = 30'000;
  /// Back-pressure (flow_control from storage): a pause stops reading the
  /// WebSocket for at most this long (nothing answers the exchange's pings
  /// meanwhile); then reading resumes even if the pause still stands.
  std::int64_t max_pause_ms = 10'000;
  /// After a pause ended by max_pause_ms, read at least this long before
  /// pausing again for a pause that still stands.
  std::int64_t resume_window_ms = 1'000;
  /// Reconnect backoff: first delay and cap, jitter seed.
  std::int64_t backoff_base_ms = 500;
  std::int64_t backoff_max_ms = 60'000;
  std::uint64_t seed = 1;
  /// Metric deltas go to the metrics actor this often.
  std::int64_t metrics_flush_ms = 1'000;
  /// Backfill page size (Binance's maximum is 1000) and request weight.
  int backfill_limit = 1000;
  std::int64_t backfill_weight = 25;
  /// Request-weight budget: burst and refill per second (Binance: 6000
  /// per minute).
  std::int64_t weight_capacity = 6000;
  double weight_per_second = 100.0;
  /// Failed backfill requests of one range are retried this often.
  int backfill_attempts = 5;
  /// Timeouts and TLS trust of the WebSocket and REST clients.
  net::client_options client;
  /// The I/O thread to use; when null the collector starts its own.
  std::shared_ptr<net::io_thread> io;
  /// Shared by every incarnation of this collector (may be null).
  std::shared_ptr<binance_collector_memory> memory;
};

/// Private state of a binance_collector (defined in the .cpp).
struct binance_collector_impl;

/// State of a binance_collector actor.
struct binance_collector_state {
  std::shared_ptr<binance_collector_impl> impl;
  static inline const char* name = "binance_collector";
};

/// A Binance trade-stream collector: one WebSocket connection to
/// `<ws_url>/stream?streams=...`, frames read and parsed on the I/O thread,
/// duplicates dropped, id gaps backfilled over REST, trades batched per
/// symbol into trade_batch messages to `sink`, feed_status to `sink`,
/// collector_event to `supervisor`, metric_update to `metrics`. Handles
/// symbol_command (live SUBSCRIBE/UNSUBSCRIBE) and flow_control (pauses
/// reading, bounded by max_pause_ms; counted in
/// collector_pauses_total{exchange}). Null handles are skipped.
caf::behavior binance_collector(
  caf::stateful_actor<binance_collector_state>* self,
  binance_collector_options opts, caf::actor sink, caf::actor supervisor,
  caf::actor metrics);

} // namespace csp::actors
