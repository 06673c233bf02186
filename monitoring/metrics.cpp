#include "monitoring/metrics.hpp"

#include <exception>
#include <string>
#include <utility>

#include <caf/all.hpp>
#include <prometheus/registry.h>

#include "messages/type_ids.hpp"
#include "monitoring/metrics_exposition.hpp"
#include "net/http_server.hpp"
#include "monitoring/logging.hpp"
#include "monitoring/metrics_process.hpp"
#include "monitoring/metrics_store.hpp"

namespace csp::monitoring {

metrics_state::metrics_state() = default;

metrics_state::~metrics_state() = default;

std::string listen_spec(const std::string& address, std::uint16_t port) {
  std::string out;
  if (address.find(':') != std::string::npos)
    out = "[" + address + "]";
  else
    out = address;
  out += ':';
  out += std::to_string(port);
  return out;
}

namespace {

/// The scrape endpoint: GET (or HEAD) of `path` renders the exposition on
/// the server's I/O thread; nothing else is served.
net::server_handlers scrape_handlers(
  std::shared_ptr<metrics_exposition> expo, std::string path) {
  net::server_handlers h;
  h.on_request = [expo = std::move(expo), path = std::move(path)](
                   const net::server_request& req, const net::responder& r) {
    std::string_view target{req.target};
    target = target.substr(0, target.find('?'));
    if (target != path) {
      r(net::json_error(404, "not_found", "metrics are served at " + path));
      return;
    }
    if (req.method != "GET" && req.method != "HEAD") {
      auto res = net::json_error(405, "method_not_allowed", "use GET");
      res.headers.emplace_back("allow", "GET, HEAD");
      r(std::move(res));
      return;
    }
    net::server_response res;
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = expo->render();
    r(std::move(res));
  };
  return h;
}

// The series of one circuit_transition.
messages::metric_update transition_update(
  const messages::circuit_transition& t) {
  using messages::metric_kind;
  messages::metric_update out;
  out.entries.reserve(2);
  out.entries.push_back({metric_kind::gauge_set, "circuit_breaker_state",
    {{"collector", t.collector}}, static_cast<double>(static_cast<int>(t.to))});
  out.entries.push_back(
    {metric_kind::counter_add, "circuit_breaker_transitions_total",
      {{"collector", t.collector},
        {"from_state", std::string{messages::to_string(t.from)}},
        {"to_state", std::string{messages::to_string(t.to)}}},
      1.0});
  return out;
}

} // namespace

caf::behavior metrics_actor(
  caf::stateful_actor<metrics_state>* self, metrics_options options) {
  auto logger = get_logger("monitoring.metrics");
  if (!options.exposition)
    options.exposition = std::make_shared<metrics_exposition>(
      options.registry ? options.registry : make_metrics_registry());
  auto& st = self->state;
  st.store = std::make_unique<metrics_store>(options.exposition, logger);
  if (options.serve_http) {
    auto spec = listen_spec(options.bind_address, options.port);
    net::server_options so;
    so.bind = options.bind_address;
    so.port = options.port;
    so.threads = 1;
    so.max_connections = 64;
    st.server = std::make_unique<net::http_server>(
      so, scrape_handlers(options.exposition, options.path));
    if (auto err = st.server->start(); !err.empty()) {
      std::string msg = "metrics: cannot listen on " + spec + " (" + err
        + "); is the port in use?";
      log_event(*logger, config::log_level::error, "cannot serve metrics",
        {{"listen", spec}, {"error", err}});
      st.server.reset();
      self->quit(caf::make_error(caf::sec::cannot_open_port, std::move(msg)));
      return {};
    }
    st.port = st.server->port();
    log_event(*logger, config::log_level::info, "serving metrics",
      {{"listen", spec}, {"port", st.port}, {"path", options.path}});
  }
  return {
    [self](
      messages::metric_update& update) { self->state.store->apply(update); },
    [self](messages::circuit_transition& t) {
      self->state.store->apply(transition_update(t));
    },
    [self](caf::get_atom) { return self->state.port; },
    [self](messages::snapshot_atom) { return self->state.store->serialize(); },
  };
}

} // namespace csp::monitoring
