#include "actors/binance_collector.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <utility>

#include "caf/actor_addr.hpp"
#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "actors/binance_parser.hpp"
#include "actors/binance_stream.hpp"
#include "actors/token_bucket.hpp"
#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"
#include "net/http_client.hpp"
#include "net/url.hpp"
#include "net/ws_client.hpp"

namespace csp::actors {

namespace {

// Internal signals from the I/O thread; never cross nodes.
using ws_open_atom = caf::atom_constant<caf::atom("ws_open")>;
using ws_data_atom = caf::atom_constant<caf::atom("ws_data")>;
using ws_closed_atom = caf::atom_constant<caf::atom("ws_closed")>;
using rest_reply_atom = caf::atom_constant<caf::atom("rest_reply")>;
using ws_pause_end_atom = caf::atom_constant<caf::atom("ws_pausend")>;
using repause_atom = caf::atom_constant<caf::atom("repause")>;

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
    std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::int64_t wall_ms() {
  return wall_ns() / 1'000'000;
}

/// Parsed frames handed from the I/O thread to the actor in bulk; `wake`
/// decides when the actor is notified, and the actor's flush tick drains
/// whatever it leaves waiting.
struct inbox {
  explicit inbox(inbox_wakeup w) : wake(w) {}

  std::mutex mtx;
  std::vector<parse_result> items;
  inbox_wakeup wake;
  std::atomic<std::int64_t> last_frame_ns{0};

  /// Appends the frames of one socket read (and clears `frames`); true
  /// when the actor is to be notified.
  bool push(std::vector<parse_result>& frames, std::int64_t now_ns) {
    std::lock_guard<std::mutex> guard{mtx};
    if (items.empty())
      items.swap(frames);
    else
      items.insert(items.end(), frames.begin(), frames.end());
    frames.clear();
    return wake.on_push(items.size(), now_ns);
  }

  /// Takes every frame.
  void take(std::vector<parse_result>& out, std::int64_t now_ns) {
    std::lock_guard<std::mutex> guard{mtx};
    out.swap(items);
    wake.on_drain(now_ns);
  }
};

struct symbol_state {
  trade_sequence seq;
  trade_batcher batch;
  std::int64_t received = 0;
  double lag_seconds = -1;
};

struct backfill_job {
  std::string symbol;
  std::int64_t first = 0;
  std::int64_t last = 0;
  int failures = 0;
};

} // namespace

struct binance_collector_impl {
  binance_collector_options opts;
  caf::actor sink;
  caf::actor supervisor;
  caf::actor metrics;
  std::shared_ptr<net::io_thread> io;
  net::url ws_base;
  net::url rest_base;
  std::map<std::string, symbol_state, std::less<>> symbols;
  std::vector<std::string> url_symbols;
  std::shared_ptr<inbox> box;
  std::shared_ptr<net::ws_connection> conn;
  std::uint64_t gen = 0;
  bool connected = false;
  bool ever_connected = false;
  std::string close_reason; // set when we close on purpose
  std::int64_t request_id = 0;
  backoff retry;
  token_bucket weight;
  std::deque<backfill_job> backfill;
  /// The frames of the last drain (kept for its capacity).
  std::vector<parse_result> drained;
  bool backfill_in_flight = false;
  bool backfill_timer = false;
  // Metric deltas since the last flush.
  std::map<std::string, std::int64_t> errors;
  std::int64_t reconnections = 0;
  int health = 0;
  bool health_dirty = true;
  std::int64_t ticks = 0;
  /// Back-pressure: storage asks for a pause (last flow_control).
  bool pause_wanted = false;
  /// Reading of the current connection is paused.
  bool paused = false;
  /// Pauses since the last metrics flush.
  std::int64_t pauses = 0;
  std::shared_ptr<spdlog::logger> log = monitoring::get_logger("collector");

  binance_collector_impl(
    binance_collector_options o, caf::actor s, caf::actor sup, caf::actor m)
      : opts(std::move(o)), sink(std::move(s)), supervisor(std::move(sup)),
        metrics(std::move(m)),
        retry(opts.backoff_base_ms, opts.backoff_max_ms, opts.seed),
        weight(token_bucket_config{std::max<std::int64_t>(opts.weight_capacity,
                                     opts.backfill_weight),
                 opts.weight_per_second},
          wall_ns()) {}

  symbol_state make_symbol_state() const {
    return symbol_state{trade_sequence{},
      trade_batcher{static_cast<std::size_t>(
                      std::max<std::int64_t>(opts.batch_max_trades, 1)),
        opts.batch_max_age_ms},
      0, -1};
  }
};

namespace {

using self_ptr = caf::stateful_actor<binance_collector_state>*;
using impl_ptr = std::shared_ptr<binance_collector_impl>;

void count_error(binance_collector_impl& st, std::string_view type) {
  auto i = st.errors.find(std::string{type});
  if (i == st.errors.end())
    st.errors.emplace(std::string{type}, 1);
  else
    ++i->second;
}

void report(
  self_ptr self, binance_collector_impl& st, bool ok, std::string reason) {
  if (!st.supervisor)
    return;
  messages::collector_event ev;
  ev.collector = st.opts.name;
  ev.outcome = ok ? messages::collector_outcome::success
                  : messages::collector_outcome::failure;
  ev.reason = std::move(reason);
  ev.time_ms = wall_ms();
  self->send(st.supervisor, std::move(ev));
}

void feed(self_ptr self, binance_collector_impl& st,
  std::vector<std::string> syms, bool healthy, std::string reason) {
  if (!st.sink || syms.empty())
    return;
  messages::feed_status fs;
  fs.exchange = st.opts.exchange;
  fs.symbols = std::move(syms);
  fs.healthy = healthy;
  fs.time_ms = wall_ms();
  fs.reason = std::move(reason);
  self->send(st.sink, std::move(fs));
}

std::vector<std::string> symbol_list(const binance_collector_impl& st) {
  std::vector<std::string> result;
  for (auto& kvp : st.symbols)
    result.push_back(kvp.first);
  return result;
}

void send_batch(self_ptr self, binance_collector_impl& st,
  const std::string& sym, std::vector<messages::trade> trades) {
  if (!st.sink || trades.empty())
    return;
  self->send(
    st.sink, messages::trade_batch{st.opts.exchange, sym, std::move(trades)});
  if (!st.opts.memory)
    return;
  // Every id up to the first still-missing one has now been delivered.
  auto i = st.symbols.find(sym);
  if (i == st.symbols.end())
    return;
  const auto& seq = i->second.seq;
  auto through
    = seq.missing().empty() ? seq.last_id() : seq.missing().front().first - 1;
  if (i->second.batch.size() > 0 || through < 0)
    return; // trades still held here: keep the previous mark
  std::lock_guard<std::mutex> guard{st.opts.memory->mtx};
  auto [mark, fresh] = st.opts.memory->delivered_through.emplace(sym, through);
  if (!fresh)
    mark->second = std::max(mark->second, through);
}

/// The flush tick's period: the batch age when trades wait for it, else
/// 50 ms (frames left by the wake-up policy, and the metrics).
std::int64_t tick_period_ms(const binance_collector_options& o) {
  return o.batch_max_age_ms > 0 ? std::max<std::int64_t>(o.batch_max_age_ms, 5)
                                : 50;
}

void flush_batches(self_ptr self, binance_collector_impl& st, bool all) {
  auto now = wall_ms();
  for (auto& [sym, ss] : st.symbols)
    if (ss.batch.size() > 0 && (all || ss.batch.due(now)))
      send_batch(self, st, sym, ss.batch.take());
}

void flush_metrics(self_ptr self, binance_collector_impl& st) {
  messages::metric_update up;
  using messages::metric_kind;
  auto add
    = [&](metric_kind k, const char* name,
        std::vector<std::pair<std::string, std::string>> labels, double value) {
        up.entries.push_back(
          messages::metric_entry{k, name, std::move(labels), value});
      };
  const auto& ex = st.opts.exchange;
  for (auto& [sym, ss] : st.symbols) {
    if (ss.received > 0)
      add(metric_kind::counter_add, "trades_received_total",
        {{"exchange", ex}, {"symbol", sym}}, static_cast<double>(ss.received));
    ss.received = 0;
    if (ss.lag_seconds >= 0)
      add(metric_kind::gauge_set, "data_collection_lag_seconds",
        {{"exchange", ex}, {"symbol", sym}}, ss.lag_seconds);
    ss.lag_seconds = -1;
  }
  for (auto& [type, n] : st.errors)
    add(metric_kind::counter_add, "collector_errors_total",
      {{"exchange", ex}, {"error_type", type}}, static_cast<double>(n));
  st.errors.clear();
  if (st.reconnections > 0)
    add(metric_kind::counter_add, "websocket_reconnections_total",
      {{"exchange", ex}}, static_cast<double>(st.reconnections));
  st.reconnections = 0;
  if (st.pauses > 0)
    add(metric_kind::counter_add, "collector_pauses_total", {{"exchange", ex}},
      static_cast<double>(st.pauses));
  st.pauses = 0;
  if (st.health_dirty)
    add(metric_kind::gauge_set, "collector_health_status", {{"exchange", ex}},
      st.health);
  st.health_dirty = false;
  if (st.metrics && !up.entries.empty())
    self->send(st.metrics, std::move(up));
}

void set_health(binance_collector_impl& st, int value) {
  if (st.health != value)
    st.health_dirty = true;
  st.health = value;
}

void connect(self_ptr self, const impl_ptr& st) {
  ++st->gen;
  st->connected = false;
  st->close_reason.clear();
  st->url_symbols = symbol_list(*st);
  if (st->url_symbols.empty())
    return; // nothing to stream; a symbol_command add connects
  // A long symbol list does not fit in a URL: the rest is subscribed
  // after the handshake (ws_open).
  st->url_symbols.resize(
    symbols_in_target(st->ws_base.target, st->url_symbols));
  auto u = st->ws_base;
  u.target = combined_stream_target(st->ws_base.target, st->url_symbols);
  auto box = std::make_shared<inbox>(
    inbox_wakeup{static_cast<std::size_t>(
                   std::max<std::int64_t>(st->opts.inbox_notify_count, 1)),
      st->opts.inbox_notify_interval_us * 1'000});
  st->box = box;
  auto addr = caf::actor_cast<caf::actor_addr>(self);
  auto gen = st->gen;
  // The I/O thread's side: frames of the current socket read, parsed, and
  // the time they arrived (one clock read per socket read).
  struct read_state {
    binance_parser parser;
    std::vector<parse_result> frames;
    std::int64_t now_ns = 0;
  };
  auto rd = std::make_shared<read_state>();
  net::ws_callbacks cbs;
  cbs.on_open = [addr, gen, box] {
    box->last_frame_ns = wall_ns();
    caf::anon_send(caf::actor_cast<caf::actor>(addr), ws_open_atom::value, gen);
  };
  cbs.on_message = [rd](std::string_view frame) {
    if (rd->now_ns == 0)
      rd->now_ns = wall_ns();
    auto res = rd->parser.parse(frame);
    if (res.status == parse_status::trade)
      res.trade.receive_time_ns = rd->now_ns;
    else if (res.status == parse_status::subscription_result
      || res.status == parse_status::other_event)
      return;
    rd->frames.push_back(res);
  };
  cbs.on_read_end = [addr, gen, box, rd] {
    auto now = rd->now_ns;
    rd->now_ns = 0;
    box->last_frame_ns = now;
    if (rd->frames.empty())
      return;
    if (box->push(rd->frames, now))
      caf::anon_send(
        caf::actor_cast<caf::actor>(addr), ws_data_atom::value, gen);
  };
  cbs.on_close = [addr, gen](const std::string& reason) {
    caf::anon_send(
      caf::actor_cast<caf::actor>(addr), ws_closed_atom::value, gen, reason);
  };
  cbs.on_pause_expired = [addr, gen] {
    caf::anon_send(
      caf::actor_cast<caf::actor>(addr), ws_pause_end_atom::value, gen);
  };
  st->conn
    = net::ws_connection::open(*st->io, u, st->opts.client, std::move(cbs));
}

/// Stops reading the connection, for at most max_pause_ms.
void start_pause(const impl_ptr& st) {
  if (st->paused || !st->connected || !st->conn)
    return;
  st->paused = true;
  ++st->pauses;
  st->conn->pause_reading(std::chrono::milliseconds{st->opts.max_pause_ms});
  monitoring::log_event(*st->log, config::log_level::info,
    "storage is behind: reading paused",
    {{"collector", st->opts.name}, {"max_pause_ms", st->opts.max_pause_ms}});
}

/// Marks the connection as reading again; the stall check restarts now,
/// so our own pause never looks like a stalled feed.
void note_resumed(const impl_ptr& st) {
  st->paused = false;
  if (st->box)
    st->box->last_frame_ns = wall_ns();
}

void start_backfill(self_ptr self, const impl_ptr& st);

void schedule_backfill(self_ptr self, const impl_ptr& st, std::int64_t ms) {
  if (st->backfill_timer)
    return;
  st->backfill_timer = true;
  self->delayed_send(self,
    std::chrono::milliseconds{std::max<std::int64_t>(ms, 1)},
    messages::backfill_atom_v);
}

void start_backfill(self_ptr self, const impl_ptr& st) {
  if (st->backfill_in_flight || st->backfill.empty() || st->backfill_timer)
    return;
  auto& job = st->backfill.front();
  if (st->symbols.count(job.symbol) == 0) {
    st->backfill.pop_front();
    return start_backfill(self, st);
  }
  auto now = wall_ns();
  if (!st->weight.try_acquire(st->opts.backfill_weight, now)) {
    auto wait = st->weight.retry_after_ns(st->opts.backfill_weight, now);
    schedule_backfill(self, st, wait ? *wait / 1'000'000 + 1 : 1000);
    return;
  }
  auto count = std::min<std::int64_t>(
    job.last - job.first + 1, std::max(st->opts.backfill_limit, 1));
  auto u = net::with_target(st->rest_base,
    historical_trades_target(job.symbol, job.first, static_cast<int>(count)));
  st->backfill_in_flight = true;
  auto addr = caf::actor_cast<caf::actor_addr>(self);
  auto gen = st->gen;
  net::http_get(
    *st->io, u, st->opts.client, [addr, gen](net::http_response res) {
      caf::anon_send(caf::actor_cast<caf::actor>(addr), rest_reply_atom::value,
        gen, res.status, std::move(res.body), std::move(res.retry_after),
        std::move(res.error));
    });
}

void on_backfill_reply(self_ptr self, const impl_ptr& st, int status,
  const std::string& body, const std::string& retry_after,
  const std::string& error) {
  st->backfill_in_flight = false;
  if (st->backfill.empty())
    return;
  auto job = st->backfill.front();
  st->backfill.pop_front();
  auto sit = st->symbols.find(job.symbol);
  if (sit == st->symbols.end())
    return start_backfill(self, st);
  auto& ss = sit->second;
  auto retry_later = [&](std::int64_t delay_ms) {
    if (++job.failures >= st->opts.backfill_attempts) {
      count_error(*st, "backfill_abandoned");
      ss.seq.abandon_through(job.last);
      return start_backfill(self, st);
    }
    st->backfill.push_front(job);
    schedule_backfill(self, st, delay_ms);
  };
  if (status == 429 || status == 418) {
    count_error(*st, "rate_limited");
    auto secs = net::parse_retry_after_seconds(retry_after);
    st->weight.drain(wall_ns());
    return retry_later(secs >= 0 ? secs * 1000 : 1000);
  }
  if (status != 200) {
    count_error(*st, status == 0 ? "backfill_transport" : "backfill_http");
    (void)error;
    return retry_later(st->retry.ceiling());
  }
  std::vector<messages::trade> trades;
  if (!parse_historical_trades(body, trades)) {
    count_error(*st, "backfill_malformed");
    return retry_later(st->retry.ceiling());
  }
  std::sort(trades.begin(), trades.end(),
    [](const auto& x, const auto& y) { return x.id < y.id; });
  auto now = wall_ns();
  std::vector<messages::trade> accepted;
  std::int64_t highest = job.first - 1;
  for (auto& t : trades) {
    if (t.id < job.first || t.id > job.last)
      continue;
    highest = std::max(highest, t.id);
    if (ss.seq.observe(t.id) != sequence_verdict::duplicate) {
      t.receive_time_ns = now;
      accepted.push_back(t);
    }
  }
  ss.received += static_cast<std::int64_t>(accepted.size());
  send_batch(self, *st, job.symbol, std::move(accepted));
  if (highest < job.last) {
    if (highest >= job.first) {
      // Page on from the next id.
      st->backfill.push_front(
        backfill_job{job.symbol, highest + 1, job.last, 0});
    } else {
      // The exchange has none of these ids: give them up.
      count_error(*st, "backfill_incomplete");
      ss.seq.abandon_through(job.last);
    }
  }
  start_backfill(self, st);
}

void drain(self_ptr self, const impl_ptr& st) {
  // The drained vector goes back to the inbox empty but with its capacity
  // (take swaps), so the frames of a read land in memory allocated once.
  auto& items = st->drained;
  items.clear();
  auto now_ns = wall_ns();
  st->box->take(items, now_ns);
  auto now_ms = now_ns / 1'000'000;
  bool new_gaps = false;
  for (auto& res : items) {
    if (res.status != parse_status::trade) {
      if (is_error(res.status))
        count_error(*st, to_string(res.status));
      else if (res.status == parse_status::error_response)
        count_error(*st, "error_response");
      continue;
    }
    auto it = st->symbols.find(res.symbol());
    if (it == st->symbols.end())
      continue; // unsubscribed meanwhile
    auto& ss = it->second;
    id_range gap;
    auto verdict = ss.seq.observe(res.trade.id, &gap);
    if (verdict == sequence_verdict::duplicate) {
      count_error(*st, "duplicate_trade");
      continue;
    }
    if (verdict == sequence_verdict::gap) {
      count_error(*st, "sequence_gap");
      st->backfill.push_back(backfill_job{it->first, gap.first, gap.last, 0});
      new_gaps = true;
    }
    ++ss.received;
    // Whole milliseconds of lag, in seconds.
    auto lag_ms
      = res.trade.receive_time_ns / 1'000'000 - res.trade.trade_time_ms;
    ss.lag_seconds = static_cast<double>(lag_ms) / 1000.0;
    if (ss.batch.add(res.trade, now_ms))
      send_batch(self, *st, it->first, ss.batch.take());
  }
  if (st->opts.batch_max_age_ms <= 0)
    flush_batches(self, *st, true);
  if (new_gaps)
    start_backfill(self, st);
}

} // namespace

caf::behavior binance_collector(
  caf::stateful_actor<binance_collector_state>* self,
  binance_collector_options opts, caf::actor sink, caf::actor supervisor,
  caf::actor metrics) {
  auto st = std::make_shared<binance_collector_impl>(std::move(opts),
    std::move(sink), std::move(supervisor), std::move(metrics));
  self->state.impl = st;
  st->io = st->opts.io ? st->opts.io : std::make_shared<net::io_thread>();
  auto ws = net::parse_url(st->opts.ws_url);
  auto rest = net::parse_url(st->opts.rest_url);
  if (!ws.value || ws.value->kind == net::scheme::http
    || ws.value->kind == net::scheme::https || !rest.value
    || rest.value->kind == net::scheme::ws
    || rest.value->kind == net::scheme::wss) {
    report(self, *st, false, "invalid_url");
    self->quit(caf::make_error(caf::sec::invalid_argument, "invalid url"));
    return {};
  }
  st->ws_base = *ws.value;
  st->rest_base = *rest.value;
  for (auto& sym : st->opts.symbols) {
    if (st->symbols.size() >= binance_max_streams)
      break;
    auto& ss = st->symbols.emplace(sym, st->make_symbol_state()).first->second;
    if (st->opts.memory) {
      // Resume after what an earlier incarnation delivered: the first live
      // trade then reveals the gap, which is backfilled over REST.
      std::lock_guard<std::mutex> guard{st->opts.memory->mtx};
      auto m = st->opts.memory->delivered_through.find(sym);
      if (m != st->opts.memory->delivered_through.end() && m->second >= 0)
        ss.seq.observe(m->second);
    }
  }
  self->attach_functor([st] {
    if (st->conn)
      st->conn->close();
    st->conn.reset();
  });
  connect(self, st);
  auto tick = std::chrono::milliseconds{tick_period_ms(st->opts)};
  self->delayed_send(self, tick, messages::flush_timer_atom_v);
  return {
    [=](ws_open_atom, std::uint64_t gen) {
      if (gen != st->gen)
        return;
      st->connected = true;
      if (!st->ever_connected && st->opts.memory) {
        std::lock_guard<std::mutex> guard{st->opts.memory->mtx};
        if (st->opts.memory->connected_before)
          ++st->reconnections; // a new incarnation reconnecting
        st->opts.memory->connected_before = true;
      }
      st->ever_connected = true;
      st->retry.reset();
      set_health(*st, 1);
      report(self, *st, true, "connected");
      feed(self, *st, symbol_list(*st), true, "connected");
      // Symbols beyond the URL's, or changed while connecting: live
      // requests.
      std::vector<std::string> add, remove;
      for (auto& kvp : st->symbols)
        if (std::find(st->url_symbols.begin(), st->url_symbols.end(), kvp.first)
          == st->url_symbols.end())
          add.push_back(kvp.first);
      for (auto& sym : st->url_symbols)
        if (st->symbols.count(sym) == 0)
          remove.push_back(sym);
      for (auto& req : subscription_requests(true, add, st->request_id))
        st->conn->send(std::move(req));
      for (auto& req : subscription_requests(false, remove, st->request_id))
        st->conn->send(std::move(req));
      self->delayed_send(self,
        std::chrono::milliseconds{st->opts.reconnect_before_ms},
        messages::reconnect_atom_v, gen);
      self->delayed_send(self,
        std::chrono::milliseconds{
          std::max<std::int64_t>(st->opts.stall_timeout_ms / 4, 10)},
        messages::heartbeat_atom_v, gen);
      st->paused = false;
      if (st->pause_wanted)
        start_pause(st);
    },
    [=](ws_data_atom, std::uint64_t gen) {
      if (gen == st->gen && st->box)
        drain(self, st);
    },
    [=](ws_closed_atom, std::uint64_t gen, const std::string& reason) {
      if (gen != st->gen)
        return;
      if (st->box)
        drain(self, st);
      flush_batches(self, *st, true);
      bool was_connected = st->connected;
      st->connected = false;
      st->conn.reset();
      set_health(*st, 0);
      auto why = st->close_reason.empty() ? reason : st->close_reason;
      bool planned = why == "proactive_reconnect";
      if (!planned)
        report(self, *st, false, why);
      if (was_connected)
        feed(self, *st, symbol_list(*st), false, why);
      st->paused = false;
      auto delay = planned ? 0 : st->retry.next();
      self->delayed_send(self, std::chrono::milliseconds{delay},
        messages::reconnect_atom_v, gen);
    },
    [=](messages::reconnect_atom, std::uint64_t gen) {
      if (gen != st->gen)
        return;
      if (st->connected) {
        // Proactive reconnect before Binance's 24 h limit.
        st->close_reason = "proactive_reconnect";
        st->conn->close();
        return;
      }
      if (st->conn)
        return; // still connecting
      ++st->reconnections;
      connect(self, st);
    },
    [=](messages::heartbeat_atom, std::uint64_t gen) {
      if (gen != st->gen || !st->connected)
        return;
      auto idle_ns = wall_ns() - st->box->last_frame_ns.load();
      if (!st->paused && idle_ns > st->opts.stall_timeout_ms * 1'000'000) {
        count_error(*st, "stalled");
        st->close_reason = "stalled";
        st->conn->close();
        return;
      }
      self->delayed_send(self,
        std::chrono::milliseconds{
          std::max<std::int64_t>(st->opts.stall_timeout_ms / 4, 10)},
        messages::heartbeat_atom_v, gen);
    },
    [=](messages::flush_timer_atom) {
      if (st->box)
        drain(self, st); // frames below the notification limits
      flush_batches(self, *st, false);
      auto period = tick_period_ms(st->opts);
      if (++st->ticks * period >= st->opts.metrics_flush_ms) {
        st->ticks = 0;
        flush_metrics(self, *st);
      }
      self->delayed_send(
        self, std::chrono::milliseconds{period}, messages::flush_timer_atom_v);
    },
    [=](messages::backfill_atom) {
      st->backfill_timer = false;
      start_backfill(self, st);
    },
    [=](rest_reply_atom, std::uint64_t, int status, const std::string& body,
      const std::string& retry_after, const std::string& error) {
      on_backfill_reply(self, st, status, body, retry_after, error);
    },
    [=](const messages::flow_control& fc) {
      st->pause_wanted = fc.paused;
      if (fc.paused) {
        start_pause(st);
      } else if (st->paused) {
        st->conn->resume_reading();
        note_resumed(st);
        monitoring::log_event(*st->log, config::log_level::info,
          "storage caught up: reading resumed", {{"collector", st->opts.name}});
      }
    },
    [=](ws_pause_end_atom, std::uint64_t gen) {
      // The connection resumed by itself at max_pause_ms.
      if (gen != st->gen || !st->paused)
        return;
      note_resumed(st);
      monitoring::log_event(*st->log, config::log_level::warning,
        "pause limit reached while storage is still behind: reading resumed",
        {{"collector", st->opts.name}, {"max_pause_ms", st->opts.max_pause_ms},
          {"resume_window_ms", st->opts.resume_window_ms}});
      if (st->pause_wanted)
        self->delayed_send(self,
          std::chrono::milliseconds{
            std::max<std::int64_t>(st->opts.resume_window_ms, 1)},
          repause_atom::value, gen);
    },
    [=](repause_atom, std::uint64_t gen) {
      if (gen == st->gen && st->pause_wanted)
        start_pause(st);
    },
    [=](const messages::symbol_command& cmd) {
      if (cmd.exchange != st->opts.exchange)
        return;
      if (cmd.action == messages::symbol_action::add) {
        if (st->symbols.count(cmd.symbol) > 0)
          return;
        if (st->symbols.size() >= binance_max_streams) {
          count_error(*st, "stream_limit");
          return;
        }
        st->symbols.emplace(cmd.symbol, st->make_symbol_state());
        if (st->connected) {
          st->conn->send(
            subscription_request(true, {cmd.symbol}, ++st->request_id));
          feed(self, *st, {cmd.symbol}, true, "subscribed");
        } else if (!st->conn) {
          connect(self, st);
        }
      } else {
        auto it = st->symbols.find(cmd.symbol);
        if (it == st->symbols.end())
          return;
        send_batch(self, *st, it->first, it->second.batch.take());
        st->symbols.erase(it);
        if (st->connected)
          st->conn->send(
            subscription_request(false, {cmd.symbol}, ++st->request_id));
        feed(self, *st, {cmd.symbol}, false, "unsubscribed");
      }
    },
  };
}

} // namespace csp::actors
