#include "monitoring/metrics.hpp"

#include <exception>
#include <string>
#include <utility>

#include <caf/all.hpp>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "messages/type_ids.hpp"
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
    try {
      st.exposer = std::make_unique<prometheus::Exposer>(spec, 2);
      auto ports = st.exposer->GetListeningPorts();
      st.port = ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
      st.exposer->RegisterCollectable(st.store->registry(), options.path);
      st.exposer->RegisterCollectable(st.store->processes(), options.path);
      log_event(*logger, config::log_level::info, "serving metrics",
        {{"listen", spec}, {"port", st.port}, {"path", options.path}});
    } catch (const std::exception& e) {
      // civetweb throws CivetException ("null context when constructing
      // CivetServer") when the port is busy or the address is invalid.
      std::string msg = "metrics: cannot listen on " + spec + " (" + e.what()
        + "); is the port in use?";
      log_event(*logger, config::log_level::error, "cannot serve metrics",
        {{"listen", spec}, {"error", e.what()}});
      st.exposer.reset();
      self->quit(caf::make_error(caf::sec::cannot_open_port, std::move(msg)));
      return {};
    }
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
