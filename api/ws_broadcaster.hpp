#pragma once

// The ws_broadcaster: every live WebSocket client of the node, its
// subscriptions (symbol × timeframe, native or Binance dialect) and one
// ws_outbox per client. It receives the processing shards' closed and
// forming bars and their indicators, renders each update once per dialect
// and offers it to the subscribers' outboxes: closed bars are always
// delivered, in order; forming bars are conflated to one per interval per
// subscription. A client whose outbox overflows is disconnected with a
// close reason; nobody else waits for it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

namespace csp::api {

/// Settings of the broadcaster.
struct ws_broadcaster_options {
  /// Where snapshots come from (api_workers; one is picked per request).
  std::vector<caf::actor> workers;
  /// Receives websocket_connections and websocket_messages_sent_total
  /// (may be invalid).
  caf::actor metrics;
  /// Forming updates per subscription at most once per this interval.
  std::int64_t forming_interval_ms = 1'000;
  /// Messages (acks, snapshots, closed bars) a client may have waiting in
  /// its outbox before it is disconnected as a slow consumer.
  std::size_t max_pending = 256;
  /// Messages a client may have in the server's socket queue (its limit
  /// there): handed and not yet reported written by `ws_sent`.
  std::size_t socket_queue = 64;
  /// Subscriptions per connection.
  std::size_t max_subscriptions = 100;
  /// Closed bars in a snapshot.
  std::size_t snapshot_bars = 500;
  /// Closed bars kept per symbol and timeframe to complete snapshots with
  /// what storage may not hold yet.
  std::size_t recent_bars = 8;
  /// A feed whose bars stopped this long ago is reported degraded (polled
  /// stock feeds update once a minute).
  std::int64_t stale_after_ms = 180'000;
  /// How often waiting forming updates are looked at.
  std::int64_t flush_ms = 50;
  /// Wall clock in ms; tests inject their own.
  std::function<std::int64_t()> now_ms;
};

/// Spawns the broadcaster. Messages:
/// - `ws_open` / `ws_text` / `ws_sent` / `ws_gone` from the server's
///   WebSocket handlers;
/// - `std::vector<messages::bar>` and
///   `std::vector<messages::indicator_snapshot>` (closed and forming) from
///   the processing shards;
/// - `get_atom` -> std::size_t: open connections (for tests);
/// - `health_atom` -> std::vector<messages::health_status>: "websocket"
///   (connections) and "feed.<exchange>" (time since its last bar update).
caf::actor spawn_ws_broadcaster(
  caf::actor_system& sys, ws_broadcaster_options opts);

} // namespace csp::api
