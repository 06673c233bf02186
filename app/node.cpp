#include "app/node.hpp"

#include <algorithm>
#include <chrono>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/bar_csv_writer.hpp"
#include "api/api_server.hpp"
#include "actors/cache_writer.hpp"
#include "actors/binance_collector.hpp"
#include "actors/collector_supervisor.hpp"
#include "actors/processing_supervisor.hpp"
#include "actors/stock_poller.hpp"
#include "actors/storage_supervisor.hpp"
#include "net/io_thread.hpp"
#include "messages/type_ids.hpp"
#include "monitoring/metrics.hpp"
#include "monitoring/metrics_exposition.hpp"
#include "monitoring/logging.hpp"
#include "monitoring/metrics_store.hpp"
#include "storage/migrations.hpp"
#include "storage/pg_store.hpp"

#include <filesystem>
#include <pqxx/pqxx>

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
  if (ro.api_port)
    cfg.api.port = *ro.api_port;
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

/// One binance_collector per `streams_per_connection` symbols and one
/// stock_poller, under the collector supervisor (breaker per collector).
caf::actor spawn_collectors(
  caf::actor_system& sys, const config::platform_config& cfg, node& n) {
  std::vector<actors::child_spec> specs;
  auto io = std::make_shared<net::io_thread>();
  auto sink = n.processing;
  auto metrics = n.metrics;
  const auto& bc = cfg.exchanges.binance;
  if (bc.enabled && !bc.symbols.empty()) {
    auto per_conn = static_cast<std::size_t>(bc.streams_per_connection);
    for (std::size_t first = 0, i = 0; first < bc.symbols.size();
         first += per_conn, ++i) {
      actors::binance_collector_options bo;
      bo.name = "binance-" + std::to_string(i);
      bo.ws_url = bc.ws_url;
      bo.rest_url = bc.rest_url;
      auto last = std::min(bc.symbols.size(), first + per_conn);
      bo.symbols.assign(bc.symbols.begin() + static_cast<long>(first),
        bc.symbols.begin() + static_cast<long>(last));
      bo.batch_max_trades = bc.batch_max_trades;
      bo.batch_max_age_ms = bc.batch_max_age_ms;
      bo.reconnect_before_ms = bc.reconnect_before_ms;
      bo.max_pause_ms = bc.max_pause_ms;
      bo.resume_window_ms = bc.resume_window_ms;
      bo.seed = i + 1;
      bo.io = io;
      bo.memory = std::make_shared<actors::binance_collector_memory>();
      specs.push_back(actors::child_spec{
        bo.name, {"binance"}, [bo, sink, metrics](caf::local_actor* parent) {
          return parent->spawn(actors::binance_collector, bo, sink,
            caf::actor_cast<caf::actor>(parent), metrics);
        }});
    }
  }
  const auto& yc = cfg.exchanges.yahoo;
  if (yc.enabled && !yc.symbols.empty()) {
    actors::stock_poller_options so;
    so.base_url = yc.base_url;
    so.symbols = yc.symbols;
    so.poll_interval_ms = yc.poll_interval_ms;
    so.io = io;
    specs.push_back(actors::child_spec{
      so.name, {"yahoo"}, [so, sink, metrics](caf::local_actor* parent) {
        return parent->spawn(actors::stock_poller, so, sink,
          caf::actor_cast<caf::actor>(parent), metrics);
      }});
  }
  actors::collector_supervisor_config sc;
  sc.breaker = actors::to_breaker_config(cfg.circuit_breaker);
  sc.supervision.metrics = metrics;
  return sys.spawn(actors::collector_supervisor, sc, std::move(specs));
}

/// Applies pending migrations (when configured) and registers the
/// configured symbols. A database that is down is not fatal: the writers
/// spool until it answers (and has a schema).
void prepare_database(const config::platform_config& cfg) {
  auto log = monitoring::get_logger("storage");
  auto db = storage::pg_settings_from(cfg.database);
  try {
    if (cfg.database.migrate_on_start) {
      pqxx::connection c{db.conninfo()};
      auto r = storage::migrate(c);
      for (const auto& m : r.applied)
        monitoring::log_event(*log, config::log_level::info,
          "migration applied", {{"migration", m}});
    }
    std::vector<storage::symbol_row> rows;
    if (cfg.exchanges.binance.enabled)
      for (const auto& s : cfg.exchanges.binance.symbols)
        rows.push_back({"binance", s, "crypto"});
    if (cfg.exchanges.yahoo.enabled)
      for (const auto& s : cfg.exchanges.yahoo.symbols)
        rows.push_back({"yahoo", s, "stock"});
    storage::pg_store store{db};
    store.upsert_symbols(rows);
  } catch (const std::exception& e) {
    monitoring::log_event(*log, config::log_level::warning,
      "database not ready at start; writers spool until it is",
      {{"error", e.what()}});
  }
}

caf::actor spawn_storage(caf::actor_system& sys,
  const config::platform_config& cfg, const caf::actor& metrics) {
  const auto& d = cfg.database;
  std::error_code ec;
  std::filesystem::create_directories(d.spool_dir, ec);
  actors::storage_options so;
  so.pool_size = static_cast<std::size_t>(d.pool_size);
  so.spool_dir = d.spool_dir;
  so.writer.db = storage::pg_settings_from(d);
  so.writer.flush_rows = static_cast<std::size_t>(d.flush_rows);
  so.writer.flush_age_ms = d.flush_age_ms;
  so.writer.archive_trades = d.archive_trades;
  so.max_inflight_rows = d.max_inflight_rows;
  so.metrics = metrics;
  return actors::spawn_storage_supervisor(sys, so);
}

} // namespace

std::string start_node(caf::actor_system& sys,
  const config::platform_config& cfg, const run_options& ro, node& n) {
  using namespace std::chrono_literals;
  n.registry = monitoring::make_metrics_registry();
  n.exposition = std::make_shared<monitoring::metrics_exposition>(n.registry);
  monitoring::metrics_options mo;
  mo.registry = n.registry;
  mo.exposition = n.exposition;
  mo.bind_address = cfg.metrics.bind;
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
  std::vector<caf::actor> trade_sinks;
  if (cfg.database.enabled && !ro.no_db) {
    prepare_database(cfg);
    n.storage = spawn_storage(sys, cfg, n.metrics);
    sinks.push_back(n.storage);
    if (cfg.database.archive_trades)
      trade_sinks.push_back(n.storage);
  }
  if (cfg.redis.enabled && !ro.no_cache) {
    std::string err;
    auto redis = storage::redis_options_from_url(cfg.redis.url, err);
    if (!redis)
      return "redis.url: " + err;
    actors::cache_writer_options co;
    co.redis = *redis;
    co.metrics = n.metrics;
    n.cache = actors::spawn_cache_writer(sys, co);
    sinks.push_back(n.cache);
    trade_sinks.push_back(n.cache);
  }
  std::vector<caf::actor> forming_sinks;
  if (n.cache)
    forming_sinks.push_back(n.cache);
  auto role = cfg.node.role;
  if (!ro.no_api
    && (role == config::node_role::all || role == config::node_role::api)) {
    api::api_options ao;
    ao.api = cfg.api;
    ao.database = cfg.database.enabled && !ro.no_db;
    ao.db = storage::pg_settings_from(cfg.database);
    std::string err;
    if (auto redis = storage::redis_options_from_url(cfg.redis.url, err))
      ao.redis = *redis;
    ao.workers = static_cast<std::size_t>(std::max<std::int64_t>(
      1, std::min<std::int64_t>(cfg.database.pool_size, cfg.api.threads)));
    ao.metrics = n.metrics;
    ao.metrics_text
      = [exposition = n.exposition] { return exposition->render(); };
    ao.storage = n.storage;
    n.api = api::spawn_api(sys, std::move(ao));
    self->request(n.api, 10s, caf::get_atom_v)
      .receive([&](std::uint16_t port) { n.api_port = port; },
        [&](caf::error& e) { error = "API server: " + sys.render(e); });
    if (!error.empty())
      return error;
    sinks.push_back(n.api);
    forming_sinks.push_back(n.api);
  }
  actors::processing_supervisor_options pso;
  pso.shards = static_cast<std::size_t>(cfg.bars.shards);
  pso.supervision.metrics = n.metrics;
  auto& po = pso.shard;
  po.bars.grace_ms = cfg.bars.grace_ms;
  po.bars.allowed_lateness_ms = cfg.bars.allowed_lateness_ms;
  po.quality = quality_from(cfg.quality);
  if (auto err = po.quality.validate(); !err.empty())
    return "quality settings: " + err;
  po.metrics = n.metrics;
  po.sinks = std::move(sinks);
  po.trade_sinks = std::move(trade_sinks);
  po.forming_sinks = std::move(forming_sinks);
  if (n.storage)
    po.feature_sinks.push_back(n.storage);
  n.processing = actors::spawn_processing_supervisor(sys, std::move(pso));
  n.collectors = spawn_collectors(sys, cfg, n);
  if (n.api)
    self->send(n.api, caf::put_atom_v, std::string{"collectors"}, n.collectors);
  // Back-pressure: a database slower than the feed pauses the collectors
  // (the trade archive is most of the volume).
  if (n.storage)
    caf::anon_send(n.storage, messages::subscribe_flow_atom_v, n.collectors);
  return {};
}

void stop_node(caf::actor_system& sys, node& n) {
  caf::scoped_actor self{sys};
  // Upstream first: what a collector sent is processed and written before
  // the next stage goes.
  for (auto* h : {&n.collectors, &n.processing, &n.api, &n.storage, &n.cache,
         &n.bars_out, &n.metrics}) {
    if (!*h)
      continue;
    self->monitor(*h);
    self->send_exit(*h, caf::exit_reason::user_shutdown);
    self->receive([](caf::down_msg&) {});
    *h = caf::actor{};
  }
}

} // namespace csp::app
