#include "actors/stock_poller.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <utility>

#include "caf/actor_addr.hpp"
#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "actors/binance_stream.hpp"
#include "actors/market_hours.hpp"
#include "actors/yahoo_chart.hpp"
#include "messages/type_ids.hpp"
#include "net/http_client.hpp"
#include "net/url.hpp"
#include "messages/calendar.hpp"

namespace csp::actors {

namespace {

// Internal signal from the I/O thread; never crosses nodes.
using poll_reply_atom = caf::atom_constant<caf::atom("poll_reply")>;

struct ticker_state {
  backoff retry;
  bool in_flight = false;
  std::int64_t not_before_ms = 0;
  /// Open time of the newest candle sent, or -1.
  std::int64_t last_sent_ms = -1;
  double lag_seconds = -1;
};

} // namespace

struct stock_poller_impl {
  stock_poller_options opts;
  caf::actor sink;
  caf::actor supervisor;
  caf::actor metrics;
  std::shared_ptr<net::io_thread> io;
  net::url base;
  std::optional<market_hours> nyse;
  std::optional<market_hours> bist;
  std::map<std::string, ticker_state> tickers;
  std::map<std::string, std::int64_t> errors;
  int health = 0;
  bool health_dirty = true;
  std::int64_t last_metrics_ms = 0;
  std::uint64_t seed_counter = 0;

  ticker_state make_ticker() {
    return ticker_state{backoff{
      opts.backoff_base_ms, opts.backoff_max_ms, opts.seed + seed_counter++}};
  }

  bool market_open(const std::string& sym, std::int64_t now) const {
    if (!opts.respect_market_hours)
      return true;
    bool bist_symbol
      = sym.size() > 3 && sym.compare(sym.size() - 3, 3, ".IS") == 0;
    const auto& m = bist_symbol ? bist : nyse;
    if (!m)
      return true; // no tz data: poll rather than go blind
    return m->is_open(now) || m->is_open(now - opts.close_grace_ms);
  }
};

namespace {

using self_ptr = caf::stateful_actor<stock_poller_state>*;
using impl_ptr = std::shared_ptr<stock_poller_impl>;

void count_error(stock_poller_impl& st, const std::string& type) {
  ++st.errors[type];
}

void set_health(stock_poller_impl& st, int value) {
  if (st.health != value)
    st.health_dirty = true;
  st.health = value;
}

void report(self_ptr self, stock_poller_impl& st, bool ok, std::string reason) {
  set_health(st, ok ? 1 : 0);
  if (!st.supervisor)
    return;
  messages::collector_event ev;
  ev.collector = st.opts.name;
  ev.outcome = ok ? messages::collector_outcome::success
                  : messages::collector_outcome::failure;
  ev.reason = std::move(reason);
  ev.time_ms = messages::wall_clock_ms();
  self->send(st.supervisor, std::move(ev));
}

void flush_metrics(self_ptr self, stock_poller_impl& st) {
  messages::metric_update up;
  using messages::metric_kind;
  const auto& ex = st.opts.exchange;
  for (auto& [type, n] : st.errors)
    up.entries.push_back(
      messages::metric_entry{metric_kind::counter_add, "collector_errors_total",
        {{"exchange", ex}, {"error_type", type}}, static_cast<double>(n)});
  st.errors.clear();
  for (auto& [sym, ts] : st.tickers) {
    if (ts.lag_seconds >= 0)
      up.entries.push_back(messages::metric_entry{metric_kind::gauge_set,
        "data_collection_lag_seconds", {{"exchange", ex}, {"symbol", sym}},
        ts.lag_seconds});
    ts.lag_seconds = -1;
  }
  if (st.health_dirty)
    up.entries.push_back(
      messages::metric_entry{metric_kind::gauge_set, "collector_health_status",
        {{"exchange", ex}}, static_cast<double>(st.health)});
  st.health_dirty = false;
  if (st.metrics && !up.entries.empty())
    self->send(st.metrics, std::move(up));
}

void poll_all(self_ptr self, const impl_ptr& st) {
  auto now = messages::wall_clock_ms();
  auto addr = caf::actor_cast<caf::actor_addr>(self);
  for (auto& [sym, ts] : st->tickers) {
    if (ts.in_flight || now < ts.not_before_ms || !st->market_open(sym, now))
      continue;
    ts.in_flight = true;
    ts.not_before_ms = now + st->opts.poll_interval_ms;
    auto u = net::with_target(
      st->base, "/v8/finance/chart/" + sym + "?interval=1m&range=1d");
    net::http_get(
      *st->io, u, st->opts.client, [addr, sym = sym](net::http_response res) {
        caf::anon_send(caf::actor_cast<caf::actor>(addr),
          poll_reply_atom::value, sym, res.status, std::move(res.body),
          std::move(res.retry_after), std::move(res.error));
      });
  }
}

void on_reply(self_ptr self, const impl_ptr& st, const std::string& sym,
  int status, const std::string& body, const std::string& retry_after) {
  auto it = st->tickers.find(sym);
  if (it == st->tickers.end())
    return; // removed meanwhile
  auto& ts = it->second;
  ts.in_flight = false;
  auto now = messages::wall_clock_ms();
  if (status == 429) {
    count_error(*st, "rate_limited");
    auto secs = net::parse_retry_after_seconds(retry_after);
    auto delay = secs >= 0 ? secs * 1000 : ts.retry.next();
    ts.not_before_ms = now + delay;
    report(self, *st, false, "http_429");
    return;
  }
  if (status == 0 || status >= 500) {
    count_error(*st, status == 0 ? "connect_failed" : "http_5xx");
    ts.not_before_ms = now + ts.retry.next();
    report(self, *st, false, status == 0 ? "connect_failed" : "http_5xx");
    return;
  }
  if (status != 200) {
    // 404 and friends: a bad symbol, not a broken feed.
    count_error(*st, "http_4xx");
    return;
  }
  auto chart = parse_yahoo_chart(body, st->opts.exchange, sym, now);
  if (!chart.ok) {
    auto type = chart.error.rfind("chart_error", 0) == 0
      ? std::string{"chart_error"}
      : chart.error;
    count_error(*st, type);
    report(self, *st, false, "bad_response");
    return;
  }
  ts.retry.reset();
  report(self, *st, true, "polled");
  messages::candle_batch batch{st->opts.exchange, sym, {}};
  for (auto& c : chart.candles)
    if (c.closed && c.open_time_ms > ts.last_sent_ms)
      batch.candles.push_back(std::move(c));
  if (batch.candles.empty())
    return;
  ts.last_sent_ms = batch.candles.back().open_time_ms;
  ts.lag_seconds
    = static_cast<double>(now - batch.candles.back().close_time_ms) / 1000.0;
  if (st->sink)
    self->send(st->sink, std::move(batch));
}

} // namespace

caf::behavior stock_poller(caf::stateful_actor<stock_poller_state>* self,
  stock_poller_options opts, caf::actor sink, caf::actor supervisor,
  caf::actor metrics) {
  auto st = std::make_shared<stock_poller_impl>();
  st->opts = std::move(opts);
  st->sink = std::move(sink);
  st->supervisor = std::move(supervisor);
  st->metrics = std::move(metrics);
  self->state.impl = st;
  st->io = st->opts.io ? st->opts.io : std::make_shared<net::io_thread>();
  auto base = net::parse_url(st->opts.base_url);
  if (!base.value || base.value->kind == net::scheme::ws
    || base.value->kind == net::scheme::wss) {
    report(self, *st, false, "invalid_url");
    self->quit(caf::make_error(caf::sec::invalid_argument, "invalid url"));
    return {};
  }
  st->base = *base.value;
  if (st->opts.respect_market_hours) {
    st->nyse = nyse_hours(st->opts.zoneinfo_dir);
    st->bist = bist_hours(st->opts.zoneinfo_dir);
    if (st->nyse)
      st->nyse->holidays = st->opts.nyse_holidays;
    if (st->bist)
      st->bist->holidays = st->opts.bist_holidays;
  }
  for (auto& sym : st->opts.symbols)
    st->tickers.emplace(sym, st->make_ticker());
  st->last_metrics_ms = messages::wall_clock_ms();
  self->send(self, messages::poll_atom_v);
  return {
    [=](messages::poll_atom) {
      poll_all(self, st);
      auto now = messages::wall_clock_ms();
      if (now - st->last_metrics_ms >= st->opts.metrics_flush_ms) {
        st->last_metrics_ms = now;
        flush_metrics(self, *st);
      }
      // Poll at the interval, but wake at least every second so backoff
      // expiries and metric flushes are not delayed by a long interval.
      auto period = std::clamp<std::int64_t>(st->opts.poll_interval_ms, 1,
        std::max<std::int64_t>(st->opts.metrics_flush_ms, 1));
      self->delayed_send(
        self, std::chrono::milliseconds{period}, messages::poll_atom_v);
    },
    [=](poll_reply_atom, const std::string& sym, int status,
      const std::string& body, const std::string& retry_after,
      const std::string&) {
      on_reply(self, st, sym, status, body, retry_after);
    },
    [=](const messages::symbol_command& cmd) {
      if (cmd.exchange != st->opts.exchange)
        return;
      if (cmd.action == messages::symbol_action::add)
        st->tickers.emplace(cmd.symbol, st->make_ticker());
      else
        st->tickers.erase(cmd.symbol);
    },
    [](const messages::flow_control&) {
      // One request per symbol and interval: too little to pause for.
    },
  };
}

} // namespace csp::actors
