#include "api/api_worker.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include <nlohmann/json.hpp>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "api/api_messages.hpp"
#include "api/chart_cache.hpp"
#include "api/rest_format.hpp"
#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"
#include "monitoring/metrics_batch.hpp"
#include "storage/cache_layout.hpp"
#include "storage/pg_store.hpp"

namespace csp::api {

namespace {

using messages::bar;
using messages::indicator_snapshot;

net::server_response json_body(std::string body, unsigned status = 200) {
  net::server_response res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

net::server_response error(
  unsigned status, std::string_view code, std::string_view message) {
  return json_body(error_json(code, message), status);
}

/// The HTTP answer to a refused history request.
net::server_response refusal(const storage::history_result& r) {
  switch (*r.error) {
    case storage::history_errc::invalid_request:
      return error(400, "invalid_parameter", r.message);
    case storage::history_errc::unknown_symbol:
      return error(404, "unknown_symbol", r.message);
    case storage::history_errc::unavailable:
      break;
  }
  return error(503, "unavailable", r.message);
}

struct api_worker_state {
  api_worker_options opts;
  std::unique_ptr<storage::history_reader> reader;
  monitoring::metric_batch batch;
  monitoring::metric_batch::series_id hits = 0;
  monitoring::metric_batch::series_id misses = 0;
  std::shared_ptr<spdlog::logger> log = monitoring::get_logger("api");
  /// Sends a symbol command to the collectors (set at start).
  std::function<void(messages::symbol_command)> collectors_out;

  static inline const char* name = "api_worker";

  storage::history_reader& history() {
    if (!reader)
      reader = std::make_unique<storage::history_reader>(
        opts.db, opts.redis, opts.history);
    return *reader;
  }

  /// The exchange of the call: given, or the one listing the symbol.
  /// Returns an error response when there is none.
  std::optional<net::server_response> resolve(api_call& c) {
    try {
      if (c.exchange.empty()) {
        auto ex = history().exchange_of(c.symbol);
        if (!ex)
          return error(
            404, "unknown_symbol", "unknown symbol '" + c.symbol + "'");
        c.exchange = *ex;
      } else if (!history().known_symbol(c.exchange, c.symbol)) {
        return error(404, "unknown_symbol",
          "unknown symbol '" + c.symbol + "' on exchange '" + c.exchange + "'");
      }
    } catch (const std::exception& e) {
      return error(503, "unavailable",
        std::string{"symbol table unavailable: "} + e.what());
    }
    return std::nullopt;
  }

  /// Stored indicators for the open times of `bars` (empty when the
  /// database cannot answer: the bars are still worth sending).
  std::vector<indicator_snapshot> indicators_for(
    const api_call& c, const std::vector<bar>& bars) {
    if (bars.empty())
      return {};
    storage::candle_query q;
    q.exchange = c.exchange;
    q.symbol = c.symbol;
    q.tf = c.tf;
    q.start_ms = bars.front().open_time_ms;
    q.end_ms = bars.back().open_time_ms;
    q.limit = static_cast<std::int64_t>(bars.size());
    try {
      return history().store().load_indicators(q);
    } catch (const std::exception& e) {
      monitoring::log_event(*log, config::log_level::warning,
        "indicators unavailable", {{"error", e.what()}});
      return {};
    }
  }

  /// Answers a call. A chart also leaves the bars and indicators it was
  /// rendered from in `read_bars` and `read_indicators` when given.
  net::server_response handle(api_call c, std::vector<bar>* read_bars = nullptr,
    std::vector<indicator_snapshot>* read_indicators = nullptr) {
    using kind = api_call::kind;
    switch (c.what) {
      case kind::symbols:
        return symbols();
      case kind::chart:
      case kind::klines: {
        if (auto err = resolve(c))
          return *err;
        auto r = history().bars(c.exchange, c.symbol, messages::to_string(c.tf),
          c.start_ms, c.end_ms, c.limit);
        if (r.error)
          return refusal(r);
        if (c.what == kind::klines)
          return json_body(klines_json(r.bars));
        auto ind = indicators_for(c, r.bars);
        auto res
          = json_body(chart_json(c.exchange, c.symbol, c.tf, r.bars, ind));
        if (read_bars != nullptr)
          *read_bars = std::move(r.bars);
        if (read_indicators != nullptr)
          *read_indicators = std::move(ind);
        return res;
      }
      case kind::quality:
        return quality(c);
      case kind::export_csv:
        return export_csv(c);
      case kind::add_symbol:
      case kind::remove_symbol:
        return admin(c);
    }
    return error(500, "internal_error", "unknown call");
  }

  net::server_response symbols() {
    try {
      return json_body(symbols_json(history().store().load_symbols()));
    } catch (const std::exception& e) {
      return error(503, "unavailable", e.what());
    }
  }

  net::server_response quality(api_call& c) {
    if (auto err = resolve(c))
      return *err;
    try {
      auto rep = history().store().load_quality(c.exchange, c.symbol);
      if (!rep)
        return error(404, "no_quality_report",
          "no quality report yet for '" + c.symbol + "'");
      return json_body(quality_json(*rep));
    } catch (const std::exception& e) {
      return error(503, "unavailable", e.what());
    }
  }

  net::server_response export_csv(api_call& c) {
    if (auto err = resolve(c))
      return *err;
    storage::candle_query q;
    q.exchange = c.exchange;
    q.symbol = c.symbol;
    q.tf = c.tf;
    q.start_ms = c.start_ms;
    q.end_ms = c.end_ms;
    q.limit
      = static_cast<std::int64_t>(std::min(c.limit, opts.max_export_rows));
    try {
      auto bars = history().store().load_candles(q);
      auto ind = indicators_for(c, bars);
      net::server_response res;
      res.content_type = "text/csv; charset=utf-8";
      res.body = csv_export(bars, ind);
      res.headers.emplace_back("Content-Disposition",
        "attachment; filename=\"" + c.symbol + "_"
          + std::string{messages::to_string(c.tf)} + ".csv\"");
      return res;
    } catch (const std::exception& e) {
      return error(503, "unavailable", e.what());
    }
  }

  net::server_response admin(const api_call& c) {
    bool add = c.what == api_call::kind::add_symbol;
    bool changed = true;
    try {
      if (add)
        history().store().upsert_symbols(
          {{c.exchange, c.symbol, c.asset_class}});
      else
        changed = history().store().deactivate_symbol(c.exchange, c.symbol);
    } catch (const storage::pg_error& e) {
      if (e.error_type() == "constraint")
        return error(400, "invalid_parameter", e.what());
      return error(503, "unavailable", e.what());
    } catch (const std::exception& e) {
      return error(503, "unavailable", e.what());
    }
    if (opts.charts)
      opts.charts->clear();
    if (!changed)
      return error(404, "unknown_symbol",
        "no active symbol '" + c.symbol + "' on exchange '" + c.exchange + "'");
    if (collectors_out)
      collectors_out(messages::symbol_command{
        add ? messages::symbol_action::add : messages::symbol_action::remove,
        c.exchange, c.symbol});
    monitoring::log_event(*log, config::log_level::info,
      add ? "symbol added" : "symbol removed",
      {{"exchange", c.exchange}, {"symbol", c.symbol}});
    nlohmann::json body{{"exchange", c.exchange}, {"symbol", c.symbol},
      {"status", add ? "added" : "removed"}};
    return json_body(body.dump(), add ? 201 : 200);
  }

  bar_history snapshot(const std::string& exchange, const std::string& symbol,
    messages::timeframe tf, std::size_t n) {
    bar_history out;
    api_call c;
    c.exchange = exchange;
    c.symbol = symbol;
    c.tf = tf;
    if (auto err = resolve(c)) {
      out.error_code = err->status == 404 ? "unknown_symbol" : "unavailable";
      out.error = "unknown symbol '" + symbol + "'";
      if (err->status != 404)
        out.error = "symbol table unavailable";
      return out;
    }
    out.exchange = c.exchange;
    auto r = history().bars(c.exchange, c.symbol, messages::to_string(tf), 0,
      max_time_ms, std::max<std::size_t>(n, 1));
    if (r.error) {
      out.error_code = *r.error == storage::history_errc::unknown_symbol
        ? "unknown_symbol"
        : "unavailable";
      out.error = r.message;
      return out;
    }
    out.indicators = indicators_for(c, r.bars);
    out.bars = std::move(r.bars);
    return out;
  }

  /// Renders a chart for the chart cache and completes its fill (which
  /// answers every request waiting for it).
  void fill_chart(api_call c) {
    auto key = chart_key_of(c);
    std::vector<bar> bars;
    std::vector<indicator_snapshot> ind;
    auto body = std::make_shared<chart_body>();
    try {
      auto res = handle(std::move(c), &bars, &ind);
      body->status = res.status;
      body->json = std::move(res.body);
      if (body->status == 200)
        if (auto z = gzip_compress(body->json))
          body->gzip = std::move(*z);
    } catch (const std::exception& e) {
      body->status = 500;
      body->json = error_json("internal_error", e.what());
      bars.clear();
      ind.clear();
    }
    opts.charts->complete(key, body, bars, ind, chart_cache_clock_ms());
  }

  void flush_metrics() {
    if (reader) {
      auto s = reader->take_stats();
      if (s.hits > 0)
        batch.add(hits, static_cast<double>(s.hits));
      if (s.misses > 0)
        batch.add(misses, static_cast<double>(s.misses));
    }
  }
};

caf::behavior api_worker(
  caf::stateful_actor<api_worker_state>* self, api_worker_options opts) {
  auto& init = self->state;
  init.opts = std::move(opts);
  auto pattern = std::string{storage::bars_key_pattern};
  if (init.opts.collectors)
    init.collectors_out = [self](messages::symbol_command cmd) {
      caf::anon_send(self->state.opts.collectors, std::move(cmd));
    };
  init.hits
    = init.batch.counter("cache_hits_total", {{"key_pattern", pattern}});
  init.misses
    = init.batch.counter("cache_misses_total", {{"key_pattern", pattern}});
  // Both series exist (at 0) from the first flush, so hit ratios and rates
  // have a start before the first read.
  init.batch.add(init.hits, 0.0);
  init.batch.add(init.misses, 0.0);
  self->delayed_send(self,
    std::chrono::milliseconds{init.opts.metrics_flush_ms},
    messages::flush_timer_atom_v);
  return {
    [self](api_call& c, net::responder& r) {
      if (c.fill_chart_cache && self->state.opts.charts) {
        // The responder waits in the fill with the others.
        self->state.fill_chart(std::move(c));
        return;
      }
      net::server_response res;
      try {
        res = self->state.handle(std::move(c));
      } catch (const std::exception& e) {
        res = error(500, "internal_error", e.what());
      }
      r(std::move(res));
    },
    [self](messages::snapshot_atom, const std::string& exchange,
      const std::string& symbol, messages::timeframe tf,
      std::size_t n) { return self->state.snapshot(exchange, symbol, tf, n); },
    [self](messages::flush_timer_atom) {
      auto& st = self->state;
      st.flush_metrics();
      if (!st.batch.empty() && st.opts.metrics)
        self->send(st.opts.metrics, st.batch.take());
      self->delayed_send(self,
        std::chrono::milliseconds{st.opts.metrics_flush_ms},
        messages::flush_timer_atom_v);
    },
  };
}

} // namespace

caf::actor spawn_api_worker(caf::actor_system& sys, api_worker_options opts) {
  return sys.spawn<caf::detached>(api_worker, std::move(opts));
}

} // namespace csp::api
