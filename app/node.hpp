#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "config/config.hpp"
#include "messages/timeframe.hpp"

namespace prometheus {
class Registry;
} // namespace prometheus

namespace csp::monitoring {
class metrics_exposition;
} // namespace csp::monitoring

namespace csp::app {

/// Command-line settings of `csp run` that override the config file.
struct run_options {
  std::optional<std::string> binance_ws_url;
  std::optional<std::string> binance_rest_url;
  std::optional<std::string> yahoo_url;
  std::optional<std::vector<std::string>> symbols;
  std::optional<std::vector<std::string>> stocks;
  std::optional<std::uint16_t> metrics_port;
  /// Overrides api.port (0: any free port).
  std::optional<std::uint16_t> api_port;
  /// Run without the HTTP/WebSocket API.
  bool no_api = false;
  std::string bars_out;
  messages::timeframe bars_out_tf = messages::timeframe::m1;
  std::int64_t duration_s = 0;
  /// Run without PostgreSQL (no storage subtree).
  bool no_db = false;
  /// Run without Redis (no cache writer).
  bool no_cache = false;
};

/// Applies `ro` to `cfg`; returns what is wrong, or an empty string.
std::string apply_overrides(
  config::platform_config& cfg, const run_options& ro);

/// The actors of one running node.
struct node {
  std::shared_ptr<prometheus::Registry> registry;
  /// The series of `registry` as /metrics renders them (the API renders
  /// it on its I/O threads).
  std::shared_ptr<monitoring::metrics_exposition> exposition;
  caf::actor metrics;
  caf::actor processing;
  caf::actor bars_out;
  caf::actor storage;
  caf::actor cache;
  caf::actor collectors;
  caf::actor api;
  std::uint16_t metrics_port = 0;
  /// The API's port; 0 when it does not run.
  std::uint16_t api_port = 0;
};

/// Spawns the node's actors; returns an error text on failure.
std::string start_node(caf::actor_system& sys,
  const config::platform_config& cfg, const run_options& ro, node& n);

/// Stops every actor of `n` (collectors first, so nothing is lost in
/// between) and waits until they are gone.
void stop_node(caf::actor_system& sys, node& n);

} // namespace csp::app
