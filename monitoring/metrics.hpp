#pragma once

// The metrics actor: owns the node's metric series (a prometheus-cpp
// Registry held outside the actor), applies metric_update batches sent by
// the other actors, turns circuit_transition events into the circuit
// breaker series and serves /metrics on its own port (net::http_server,
// the text rendered by metrics_exposition on the server's I/O thread).
//
// Protocol (dynamically typed):
// - metric_update                  -> (no reply) apply every entry
// - circuit_transition             -> (no reply) circuit_breaker_state and
//                                     circuit_breaker_transitions_total
// - get_atom                       -> uint16_t: the bound /metrics port
//                                     (0 when not serving HTTP)
// - snapshot_atom                  -> std::string: the text exposition
//                                     (metrics_exposition::render)
//
// A busy or invalid bind address makes the actor quit at start with
// caf::sec::cannot_open_port and the server's message as context.

#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace csp::net {
class http_server;
} // namespace csp::net

namespace csp::monitoring {

class metrics_exposition;
class metrics_store;

/// Spawn arguments of the metrics actor.
struct metrics_options {
  /// Where the series live. Create it once (make_metrics_registry) and pass
  /// the same pointer to every incarnation of the actor so a restart keeps
  /// every value. A null registry gets a fresh one.
  std::shared_ptr<prometheus::Registry> registry;
  /// Where the series are listed for /metrics, kept across restarts like
  /// the registry, so that an API can render it on its own threads. When
  /// set, its registry is used and `registry` is ignored; when null, one
  /// is made for `registry`.
  std::shared_ptr<metrics_exposition> exposition;
  /// Whether to serve /metrics over HTTP (nodes whose API serves it
  /// itself set this to false and use the snapshot_atom request).
  bool serve_http = true;
  /// Address to bind, e.g. "127.0.0.1" or "0.0.0.0" (IPv6 without
  /// brackets).
  std::string bind_address = "127.0.0.1";
  /// Port to bind; 0 picks an ephemeral port (ask with get_atom).
  std::uint16_t port = 0;
  /// The URL path of the scrape endpoint.
  std::string path = "/metrics";
};

/// State of the metrics actor.
struct metrics_state {
  metrics_state();
  ~metrics_state();

  /// The series and their handle cache.
  std::unique_ptr<metrics_store> store;
  /// The HTTP endpoint, when serving.
  std::unique_ptr<net::http_server> server;
  /// The bound port; 0 when not serving.
  std::uint16_t port = 0;

  /// Name of the actor.
  static inline const char* name = "metrics";
};

/// Returns `address`:`port` as text, e.g. "127.0.0.1:9090" or "[::1]:0".
std::string listen_spec(const std::string& address, std::uint16_t port);

/// The metrics actor; see the protocol above.
caf::behavior metrics_actor(
  caf::stateful_actor<metrics_state>* self, metrics_options options);

} // namespace csp::monitoring
