#pragma once

// The API of a node: the HTTP/WebSocket server (net::http_server, its own
// I/O threads) and the actors behind it, under one supervising actor:
//
//   api
//   ├── api_worker[i]    detached; PostgreSQL and Redis reads, admin writes
//   └── ws_broadcaster   live bars to WebSocket clients
//
// Requests are routed on the I/O threads (api/routes.hpp): parsing, CORS,
// JWT checks, the per-client rate limit and parameter validation happen
// there without blocking; database work goes to a worker with the
// request's responder, so no thread waits for another. Chart responses are
// served from a rendered-response cache on the I/O thread when they can be
// (api/chart_cache.hpp); the closed bars and indicators this actor
// receives keep it fresh. Workers and the broadcaster are restarted when
// they die.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "api/chart_cache.hpp"
#include "config/config.hpp"
#include "storage/pg_settings.hpp"
#include "storage/redis_client.hpp"

namespace csp::api {

/// Settings of the API.
struct api_options {
  /// Port, bind address, limits, authentication, rate limit, CORS and the
  /// WebSocket settings (`api` section of the config).
  config::api_config api;
  /// Serve the database-backed endpoints (false: they answer 503).
  bool database = true;
  storage::pg_settings db;
  storage::redis_options redis;
  /// Prefix of the cache keys read (tests use their own namespace).
  std::string cache_prefix;
  /// api_workers (each holds one PostgreSQL and one Redis connection).
  std::size_t workers = 2;
  /// The metrics actor: the API's own series, and /metrics text when
  /// `metrics_text` is not set.
  caf::actor metrics;
  /// Renders the /metrics text (e.g. monitoring::metrics_exposition::
  /// render); called on the I/O thread of the scrape, so it must be
  /// thread-safe. Unset: the metrics actor is asked (snapshot_atom).
  std::function<std::string()> metrics_text;
  /// The collector supervisor: health and admin symbol commands (may be
  /// invalid on an API-only node).
  caf::actor collectors;
  /// The storage supervisor: database health (may be invalid).
  caf::actor storage;
  /// Wall clock in ms (default: the system clock).
  std::function<std::int64_t()> now_ms;
  /// The rendered chart responses (api/chart_cache.hpp).
  chart_cache_options chart_cache;
};

/// Spawns the API. It starts serving at once; a port it cannot bind makes
/// it quit with caf::sec::cannot_open_port. Messages:
/// - `get_atom` -> std::uint16_t: the bound port;
/// - `std::vector<messages::bar>`, `std::vector<messages::indicator_snapshot>`
///   (closed and forming): forwarded to the broadcaster;
/// - `(put_atom, "collectors" | "storage", actor)`: the collector or
///   storage supervisor, when it starts after the API;
/// - `symbol_command` (from its workers' admin endpoints): forwarded to the
///   collector supervisor;
/// - the server's internal requests (health, metrics text).
caf::actor spawn_api(caf::actor_system& sys, api_options opts);

} // namespace csp::api
