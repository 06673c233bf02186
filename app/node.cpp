#include "app/node.hpp"

#include <chrono>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/bar_csv_writer.hpp"
#include "actors/processing_shard.hpp"
#include "messages/type_ids.hpp"
#include "monitoring/metrics.hpp"
#include "monitoring/metrics_store.hpp"

namespace csp::app {

std::string apply_overrides(
  config::platform_config& cfg, const run_options& ro) {
  auto& binance = cfg.exchanges.binance;
  auto& yahoo = cfg.exchanges.yahoo;
  if (ro.binance_ws_url)
    binance.ws_url = *ro.binance_ws_url;
  if (ro.binance_rest_url)
    binance.rest_url = *ro.binance_rest_url;
  if (ro.yahoo_url)
    yahoo.base_url = *ro.yahoo_url;
  if (ro.symbols)
    binance.symbols = *ro.symbols;
  if (ro.stocks)
    yahoo.symbols = *ro.stocks;
  if (ro.metrics_port)
    cfg.metrics.port = *ro.metrics_port;
  for (auto& s : binance.symbols)
    for (char c : s)
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
        return "invalid Binance symbol '" + s
          + "' (upper-case letters and digits)";
  return {};
}

namespace {

actors::quality_checker_config quality_from(const config::quality_config& q) {
  actors::quality_checker_config out;
  out.window_ms = q.window_ms;
  out.max_age_ms = q.stale_after_ms;
  out.price_move_percent = q.price_anomaly_pct;
  out.max_skew_ms = q.max_timestamp_skew_ms;
  out.max_recent_issues = static_cast<std::size_t>(q.max_recent_issues);
  return out;
}

} // namespace

std::string start_node(caf::actor_system& sys,
  const config::platform_config& cfg, const run_options& ro, node& n) {
  using namespace std::chrono_literals;
  n.registry = monitoring::make_metrics_registry();
  monitoring::metrics_options mo;
  mo.registry = n.registry;
  mo.port = cfg.metrics.port;
  n.metrics = sys.spawn(monitoring::metrics_actor, mo);
  std::string error;
  caf::scoped_actor self{sys};
  self->request(n.metrics, 5s, caf::get_atom_v)
    .receive([&](std::uint16_t port) { n.metrics_port = port; },
      [&](caf::error& err) { error = "metrics endpoint: " + sys.render(err); });
  if (!error.empty())
    return error;
  std::vector<caf::actor> sinks;
  if (!ro.bars_out.empty()) {
    actors::bar_csv_options bo;
    bo.path = ro.bars_out;
    bo.tf = ro.bars_out_tf;
    bo.final_after_ms = cfg.bars.allowed_lateness_ms + cfg.bars.grace_ms;
    n.bars_out = actors::spawn_bar_csv_writer(sys, bo);
    sinks.push_back(n.bars_out);
  }
  actors::processing_options po;
  po.bars.grace_ms = cfg.bars.grace_ms;
  po.bars.allowed_lateness_ms = cfg.bars.allowed_lateness_ms;
  po.quality = quality_from(cfg.quality);
  if (auto err = po.quality.validate(); !err.empty())
    return "quality settings: " + err;
  po.metrics = n.metrics;
  po.sinks = std::move(sinks);
  n.processing = actors::spawn_processing_shard(sys, po);
  return {};
}

void stop_node(caf::actor_system& sys, node& n) {
  caf::scoped_actor self{sys};
  // Upstream first: what a collector sent is processed and written before
  // the next stage goes.
  for (auto* h : {&n.collectors, &n.processing, &n.bars_out, &n.metrics}) {
    if (!*h)
      continue;
    self->monitor(*h);
    self->send_exit(*h, caf::exit_reason::user_shutdown);
    self->receive([](caf::down_msg&) {});
    *h = caf::actor{};
  }
}

} // namespace csp::app
