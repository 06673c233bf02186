#include "api/ws_broadcaster.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "api/api_messages.hpp"
#include "api/ws_events.hpp"
#include "api/ws_outbox.hpp"
#include "api/ws_protocol.hpp"
#include "messages/calendar.hpp"
#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"
#include "monitoring/metrics_batch.hpp"
#include "net/http_server.hpp"

namespace csp::api {

namespace {

using messages::bar;
using messages::indicator_snapshot;
using series_id = monitoring::metric_batch::series_id;

/// A closed bar and, once known, its indicators.
struct bar_entry {
  bar b;
  std::optional<indicator_snapshot> ind;
};

struct subscription {
  std::uint64_t id = 0;
  ws_dialect dialect = ws_dialect::native;
  /// The snapshot went out; until then closed bars are held.
  bool live = false;
  std::vector<bar_entry> held;
};

struct connection {
  connection(
    std::shared_ptr<net::ws_peer> p, outbox_options o, std::size_t socket_queue)
      : peer(std::move(p)), box(o), credit(socket_queue) {}

  std::shared_ptr<net::ws_peer> peer;
  ws_outbox box;
  /// Messages that may still go to the socket queue: its limit minus what
  /// was handed and not yet reported written (ws_sent).
  std::size_t credit;
  std::map<ws_stream, subscription> subs;
  std::uint64_t next_sub = 1;
  /// Whether the connection is in the broadcaster's backlog.
  bool in_backlog = false;
  /// The dialect of the last message understood (the answer's dialect for
  /// one that cannot tell).
  ws_dialect dialect = ws_dialect::native;
};

/// What the broadcaster knows of one symbol and timeframe.
struct stream_state {
  std::string exchange;
  /// The newest closed bars, oldest first.
  std::deque<bar_entry> recent;
  std::optional<bar> forming;
  std::optional<indicator_snapshot> forming_ind;
  std::set<std::uint64_t> subscribers;
  /// Subscriptions (connection, subscription id) waiting for the stream's
  /// snapshot read; one read per stream answers all of them.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> snapshot_waiters;
  /// Whether a snapshot read of the stream is under way.
  bool snapshot_reading = false;
};

/// A bar waiting briefly for its indicator snapshot (which the shard sends
/// right after it).
struct waiting_bar {
  bar b;
  std::int64_t since_ms = 0;
};

struct broadcaster_state {
  ws_broadcaster_options opts;
  std::unordered_map<std::uint64_t, connection> conns;
  std::map<ws_stream, stream_state> streams;
  std::vector<waiting_bar> waiting;
  /// Connections with messages left in their outbox.
  std::set<std::uint64_t> backlog;
  std::size_t next_worker = 0;
  monitoring::metric_batch batch;
  series_id connections_gauge = 0;
  std::unordered_map<std::string, series_id> sent;
  std::int64_t ticks = 0;
  /// When bars of each exchange last arrived (wall clock ms).
  std::map<std::string, std::int64_t> last_update;
  std::shared_ptr<spdlog::logger> log = monitoring::get_logger("api.ws");

  static inline const char* name = "ws_broadcaster";

  std::int64_t now() const { return opts.now_ms(); }

  void count_sent(const std::string& symbol, double n) {
    if (n == 0.0)
      return;
    auto i = sent.find(symbol);
    if (i == sent.end())
      i = sent
            .emplace(symbol,
              batch.counter(
                "websocket_messages_sent_total", {{"symbol", symbol}}))
            .first;
    batch.add(i->second, n);
  }
};

using broadcaster_actor = caf::stateful_actor<broadcaster_state>;

ws_stream key_of(const bar& b) {
  return ws_stream{b.symbol, b.tf};
}

/// Connections handed over together: the server's threads start writing
/// the first of a large fan-out while the broadcaster drains the rest.
constexpr std::size_t fanout_chunk = 1024;

/// Hands the due messages of connection `id` (`c`) to its socket queue,
/// as many as its credit allows: into `fan` when given (one post per
/// server thread for every connection of a round), else in one send of
/// its own.
void drain(
  broadcaster_state& st, std::uint64_t id, connection& c, net::ws_fanout* fan) {
  if (c.credit > 0) {
    auto msgs = c.box.take(c.credit, st.now()); // shared, not copied
    if (!msgs.empty()) {
      c.credit -= msgs.size();
      if (fan != nullptr)
        fan->add(c.peer, std::move(msgs));
      else
        c.peer->send(std::move(msgs));
    }
  }
  auto waiting = c.box.pending() > 0;
  if (waiting != c.in_backlog) {
    if (waiting)
      st.backlog.insert(id);
    else
      st.backlog.erase(id);
    c.in_backlog = waiting;
  }
}

/// The same for connection `id`, if it is still there.
void drain(
  broadcaster_state& st, std::uint64_t id, net::ws_fanout* fan = nullptr) {
  auto i = st.conns.find(id);
  if (i == st.conns.end()) {
    st.backlog.erase(id);
    return;
  }
  drain(st, id, i->second, fan);
}

/// Forgets a connection and its subscriptions.
void forget(broadcaster_state& st, std::uint64_t id) {
  auto i = st.conns.find(id);
  if (i == st.conns.end())
    return;
  for (auto& [key, sub] : i->second.subs)
    if (auto s = st.streams.find(key); s != st.streams.end())
      s->second.subscribers.erase(id);
  st.conns.erase(i);
  st.backlog.erase(id);
  st.batch.set(st.connections_gauge, static_cast<double>(st.conns.size()));
}

/// Disconnects a client whose outbox overflowed.
void drop_slow(broadcaster_state& st, std::uint64_t id) {
  auto i = st.conns.find(id);
  if (i == st.conns.end())
    return;
  auto waiting = i->second.box.pending();
  monitoring::log_event(*st.log, config::log_level::warning,
    "slow WebSocket client disconnected",
    {{"client", i->second.peer->remote_address()},
      {"waiting", std::to_string(waiting)}});
  // 1008: policy violation (RFC 6455).
  i->second.peer->close(
    1008, "slow consumer: " + std::to_string(waiting) + " messages waiting");
  forget(st, id);
}

/// Queues a reliable message (ack, error, snapshot); false when the client
/// was dropped as too slow.
bool reliable(broadcaster_state& st, std::uint64_t id, ws_payload msg) {
  auto i = st.conns.find(id);
  if (i == st.conns.end())
    return false;
  if (!i->second.box.push_reliable(std::move(msg))) {
    drop_slow(st, id);
    return false;
  }
  return true;
}

/// Same, for a message of this client alone.
bool reliable(broadcaster_state& st, std::uint64_t id, std::string msg) {
  return reliable(st, id, std::make_shared<const std::string>(std::move(msg)));
}

/// Offers one bar update to every subscriber of its stream.
void emit(broadcaster_state& st, const bar& b, const indicator_snapshot* ind) {
  auto s = st.streams.find(key_of(b));
  if (s == st.streams.end() || s->second.subscribers.empty())
    return;
  // Rendered once per dialect and shared by every outbox.
  ws_payload native;
  ws_payload binance;
  auto now = st.now();
  double sent = 0;
  std::vector<std::uint64_t> slow;
  // drop_slow erases none of these, and an unordered_map keeps the
  // elements it does not erase in place.
  std::vector<std::pair<std::uint64_t, connection*>> touched;
  touched.reserve(s->second.subscribers.size());
  for (auto id : s->second.subscribers) {
    auto ci = st.conns.find(id);
    if (ci == st.conns.end())
      continue;
    auto& c = ci->second;
    auto si = c.subs.find(s->first);
    if (si == c.subs.end())
      continue;
    auto& sub = si->second;
    if (!sub.live) {
      if (b.closed)
        sub.held.push_back(
          {b, ind != nullptr ? std::optional{*ind} : std::nullopt});
      continue;
    }
    ws_payload* payload = nullptr;
    if (sub.dialect == ws_dialect::native) {
      if (!native)
        native = std::make_shared<const std::string>(native_bar_update(b, ind));
      payload = &native;
    } else {
      if (!binance)
        binance
          = std::make_shared<const std::string>(binance_kline_event(b, now));
      payload = &binance;
    }
    if (b.closed) {
      if (!c.box.push_closed(sub.id, b.open_time_ms, *payload)) {
        slow.push_back(id);
        continue;
      }
      sent += 1;
    } else {
      auto replaced = c.box.conflated() + c.box.dropped_stale();
      c.box.push_forming(sub.id, b.open_time_ms, *payload, now);
      auto lost = c.box.conflated() + c.box.dropped_stale() - replaced;
      sent += 1.0 - static_cast<double>(lost);
    }
    touched.emplace_back(id, &c);
  }
  st.count_sent(b.symbol, sent);
  for (auto id : slow)
    drop_slow(st, id);
  net::ws_fanout fan{fanout_chunk};
  for (auto [id, c] : touched)
    drain(st, id, *c, &fan);
  fan.send();
}

/// Records a bar in the stream's memory.
void remember(broadcaster_state& st, const bar& b) {
  auto& s = st.streams[key_of(b)];
  s.exchange = b.exchange;
  if (!b.closed) {
    if (!s.forming || s.forming->open_time_ms <= b.open_time_ms) {
      if (s.forming && s.forming->open_time_ms != b.open_time_ms)
        s.forming_ind.reset();
      s.forming = b;
    }
    return;
  }
  if (s.forming && s.forming->open_time_ms <= b.open_time_ms) {
    s.forming.reset();
    s.forming_ind.reset();
  }
  auto pos = std::find_if(s.recent.begin(), s.recent.end(),
    [&](const bar_entry& e) { return e.b.open_time_ms >= b.open_time_ms; });
  if (pos != s.recent.end() && pos->b.open_time_ms == b.open_time_ms) {
    if (pos->b.revision <= b.revision)
      *pos = bar_entry{b, std::nullopt};
  } else {
    s.recent.insert(pos, bar_entry{b, std::nullopt});
  }
  while (s.recent.size() > st.opts.recent_bars)
    s.recent.pop_front();
}

/// Records an indicator snapshot in the stream's memory.
void remember(broadcaster_state& st, const indicator_snapshot& x) {
  auto s = st.streams.find(ws_stream{x.symbol, x.tf});
  if (s == st.streams.end())
    return;
  if (!x.closed) {
    if (s->second.forming && s->second.forming->open_time_ms == x.open_time_ms)
      s->second.forming_ind = x;
    return;
  }
  for (auto& e : s->second.recent)
    if (e.b.open_time_ms == x.open_time_ms)
      e.ind = x;
}

/// Sends bars that waited for their indicators longer than `max_wait_ms`.
void release_waiting(broadcaster_state& st, std::int64_t max_wait_ms) {
  auto now = st.now();
  std::vector<waiting_bar> keep;
  for (auto& w : st.waiting) {
    if (now - w.since_ms >= max_wait_ms)
      emit(st, w.b, nullptr);
    else
      keep.push_back(std::move(w));
  }
  st.waiting = std::move(keep);
}

/// The snapshot of `key` for a client: the stored bars completed with the
/// newest ones in memory.
std::string make_snapshot(broadcaster_state& st, const ws_stream& key,
  const bar_history& h, const std::string& exchange) {
  auto& s = st.streams[key];
  std::map<std::int64_t, bar_entry> merged;
  std::map<std::int64_t, indicator_snapshot> inds;
  for (auto& x : h.indicators)
    inds.emplace(x.open_time_ms, x);
  for (auto& b : h.bars) {
    auto i = inds.find(b.open_time_ms);
    merged[b.open_time_ms]
      = bar_entry{b, i != inds.end() ? std::optional{i->second} : std::nullopt};
  }
  for (auto& e : s.recent) {
    auto i = merged.find(e.b.open_time_ms);
    if (i == merged.end() || i->second.b.revision <= e.b.revision)
      merged[e.b.open_time_ms] = e;
  }
  while (merged.size() > st.opts.snapshot_bars)
    merged.erase(merged.begin());
  std::vector<bar> closed;
  std::vector<indicator_snapshot> ind;
  closed.reserve(merged.size());
  for (auto& [t, e] : merged) {
    closed.push_back(e.b);
    if (e.ind)
      ind.push_back(*e.ind);
  }
  const bar* forming = s.forming ? &*s.forming : nullptr;
  if (forming != nullptr && !closed.empty()
    && forming->open_time_ms <= closed.back().open_time_ms)
    forming = nullptr;
  if (forming != nullptr && s.forming_ind)
    ind.push_back(*s.forming_ind);
  return native_snapshot(exchange, key.symbol, key.tf, closed, forming, ind);
}

/// Completes subscription `sub_id` of `conn_id` with the stream's stored
/// history `h`; `native` is the native snapshot rendered from it, made on
/// first use and shared by every subscription the same read answers.
void on_snapshot(broadcaster_actor* self, std::uint64_t conn_id,
  const ws_stream& key, std::uint64_t sub_id, const bar_history& h,
  ws_payload& native) {
  auto& st = self->state;
  auto ci = st.conns.find(conn_id);
  if (ci == st.conns.end())
    return;
  auto si = ci->second.subs.find(key);
  if (si == ci->second.subs.end() || si->second.id != sub_id)
    return;
  auto& sub = si->second;
  if (h.error_code == "unknown_symbol") {
    auto dialect = sub.dialect;
    ci->second.box.drop(sub.id);
    ci->second.subs.erase(si);
    st.streams[key].subscribers.erase(conn_id);
    reliable(st, conn_id,
      error_reply(
        ws_protocol_error{dialect, "unknown_symbol", h.error, "null"}));
    drain(st, conn_id);
    return;
  }
  if (!h.error_code.empty())
    monitoring::log_event(*st.log, config::log_level::warning,
      "snapshot without stored history",
      {{"symbol", key.symbol}, {"error", h.error}});
  auto exchange = !h.exchange.empty() ? h.exchange : st.streams[key].exchange;
  std::int64_t last_open = -1;
  if (sub.dialect == ws_dialect::native) {
    if (!native)
      native = std::make_shared<const std::string>(
        make_snapshot(st, key, h, exchange));
    if (!reliable(st, conn_id, native))
      return;
    if (!h.bars.empty())
      last_open = h.bars.back().open_time_ms;
    auto& s = st.streams[key];
    if (!s.recent.empty())
      last_open = std::max(last_open, s.recent.back().b.open_time_ms);
  }
  sub.live = true;
  auto held = std::move(sub.held);
  sub.held.clear();
  auto dialect = sub.dialect;
  auto id = sub.id;
  for (auto& e : held) {
    if (e.b.open_time_ms <= last_open)
      continue; // in the snapshot
    auto payload = dialect == ws_dialect::native
      ? native_bar_update(e.b, e.ind ? &*e.ind : nullptr)
      : binance_kline_event(e.b, st.now());
    if (!ci->second.box.push_closed(id, e.b.open_time_ms, std::move(payload))) {
      drop_slow(st, conn_id);
      return;
    }
  }
  drain(st, conn_id);
}

/// Answers every subscription waiting for the snapshot of `key` with `h`.
void answer_snapshot_waiters(
  broadcaster_actor* self, const ws_stream& key, const bar_history& h) {
  auto& s = self->state.streams[key];
  s.snapshot_reading = false;
  auto waiters = std::move(s.snapshot_waiters);
  s.snapshot_waiters.clear();
  ws_payload native;
  for (auto& [conn_id, sub_id] : waiters)
    on_snapshot(self, conn_id, key, sub_id, h, native);
}

/// Asks a worker for the stored history of `key`, once for every
/// subscription waiting for it. Subscriptions arriving during the read join
/// it: what closes meanwhile reaches them from the stream's recent bars (in
/// the snapshot) or as held closed bars.
void read_snapshot(broadcaster_actor* self, const ws_stream& key) {
  auto& st = self->state;
  st.streams[key].snapshot_reading = true;
  auto worker = st.opts.workers[st.next_worker++ % st.opts.workers.size()];
  self
    ->request(worker, std::chrono::seconds{10}, messages::snapshot_atom_v,
      std::string{}, key.symbol, key.tf, st.opts.snapshot_bars)
    .then(
      [self, key](bar_history& h) { answer_snapshot_waiters(self, key, h); },
      [self, key](caf::error& err) {
        bar_history h;
        h.error_code = "unavailable";
        h.error = self->system().render(err);
        answer_snapshot_waiters(self, key, h);
      });
}

void handle_request(
  broadcaster_actor* self, std::uint64_t conn_id, const ws_request& req) {
  auto& st = self->state;
  auto ci = st.conns.find(conn_id);
  if (ci == st.conns.end())
    return;
  auto& c = ci->second;
  auto current = [&c] {
    std::vector<ws_stream> xs;
    for (auto& [k, v] : c.subs)
      xs.push_back(k);
    return xs;
  };
  std::vector<std::pair<ws_stream, std::uint64_t>> started;
  switch (req.op) {
    case ws_op::subscribe:
      for (const auto& s : req.streams) {
        if (c.subs.count(s) > 0)
          continue;
        if (c.subs.size() >= st.opts.max_subscriptions) {
          reliable(st, conn_id,
            error_reply(ws_protocol_error{req.dialect, "too_many_subscriptions",
              "at most " + std::to_string(st.opts.max_subscriptions)
                + " subscriptions per connection",
              req.id_json}));
          drain(st, conn_id);
          return;
        }
        subscription sub;
        sub.id = c.next_sub++;
        sub.dialect = req.dialect;
        c.subs.emplace(s, std::move(sub));
        st.streams[s].subscribers.insert(conn_id);
        started.emplace_back(s, c.subs[s].id);
      }
      break;
    case ws_op::unsubscribe:
      for (const auto& s : req.streams) {
        auto si = c.subs.find(s);
        if (si == c.subs.end())
          continue;
        c.box.drop(si->second.id);
        c.subs.erase(si);
        if (auto k = st.streams.find(s); k != st.streams.end())
          k->second.subscribers.erase(conn_id);
      }
      break;
    case ws_op::ping:
    case ws_op::list_subscriptions:
      break;
  }
  if (!reliable(st, conn_id, ack_reply(req, current())))
    return;
  drain(st, conn_id);
  for (auto& [key, sub_id] : started) {
    if (st.opts.workers.empty()) {
      bar_history none;
      ws_payload native;
      on_snapshot(self, conn_id, key, sub_id, none, native);
      continue;
    }
    auto& s = st.streams[key];
    s.snapshot_waiters.emplace_back(conn_id, sub_id);
    if (!s.snapshot_reading)
      read_snapshot(self, key);
  }
}

caf::behavior broadcaster(
  broadcaster_actor* self, ws_broadcaster_options opts) {
  auto& init = self->state;
  if (!opts.now_ms)
    opts.now_ms = messages::wall_clock_ms;
  init.opts = std::move(opts);
  init.connections_gauge = init.batch.gauge("websocket_connections", {});
  init.batch.set(init.connections_gauge, 0.0);
  self->delayed_send(self, std::chrono::milliseconds{init.opts.flush_ms},
    messages::flush_timer_atom_v);
  return {
    [self](ws_open& o) {
      auto& st = self->state;
      auto id = o.peer->id();
      st.conns.emplace(id,
        connection{std::move(o.peer),
          outbox_options{st.opts.forming_interval_ms, st.opts.max_pending},
          st.opts.socket_queue});
      st.batch.set(st.connections_gauge, static_cast<double>(st.conns.size()));
    },
    [self](ws_text& t) {
      auto& st = self->state;
      if (st.conns.count(t.peer_id) == 0)
        return;
      auto& c = st.conns.at(t.peer_id);
      auto parsed = parse_ws_request(t.text, c.dialect);
      if (auto* err = std::get_if<ws_protocol_error>(&parsed)) {
        c.dialect = err->dialect;
        if (reliable(st, t.peer_id, error_reply(*err)))
          drain(st, t.peer_id);
        return;
      }
      c.dialect = std::get<ws_request>(parsed).dialect;
      handle_request(self, t.peer_id, std::get<ws_request>(parsed));
    },
    [self](const ws_sent& w) {
      auto& st = self->state;
      auto i = st.conns.find(w.peer_id);
      if (i == st.conns.end())
        return;
      auto& c = i->second;
      c.credit = std::min(st.opts.socket_queue, c.credit + w.count);
      if (c.box.pending() > 0)
        drain(st, w.peer_id);
    },
    [self](const ws_gone& g) { forget(self->state, g.peer_id); },
    [self](const std::vector<bar>& bars) {
      auto& st = self->state;
      auto now = st.now();
      if (!bars.empty())
        st.last_update[bars.front().exchange] = now;
      for (const auto& b : bars) {
        remember(st, b);
        st.waiting.push_back({b, now});
      }
    },
    [self](const std::vector<indicator_snapshot>& xs) {
      auto& st = self->state;
      for (const auto& x : xs) {
        remember(st, x);
        auto w = std::find_if(
          st.waiting.begin(), st.waiting.end(), [&](const waiting_bar& wb) {
            return wb.b.open_time_ms == x.open_time_ms && wb.b.tf == x.tf
              && wb.b.closed == x.closed && wb.b.symbol == x.symbol
              && wb.b.exchange == x.exchange;
          });
        if (w == st.waiting.end())
          continue;
        auto b = std::move(w->b);
        st.waiting.erase(w);
        emit(st, b, &x);
      }
    },
    [self](messages::flush_timer_atom) {
      auto& st = self->state;
      release_waiting(st, st.opts.flush_ms);
      auto pending
        = std::vector<std::uint64_t>(st.backlog.begin(), st.backlog.end());
      net::ws_fanout fan{fanout_chunk};
      for (auto id : pending)
        drain(st, id, &fan);
      fan.send();
      if (++st.ticks * st.opts.flush_ms >= 1000) {
        st.ticks = 0;
        if (!st.batch.empty() && st.opts.metrics)
          self->send(st.opts.metrics, st.batch.take());
      }
      self->delayed_send(self, std::chrono::milliseconds{st.opts.flush_ms},
        messages::flush_timer_atom_v);
    },
    [self](caf::get_atom) { return self->state.conns.size(); },
    [self](messages::health_atom) {
      auto& st = self->state;
      auto now = st.now();
      std::vector<messages::health_status> out;
      out.push_back({"websocket", "healthy",
        std::to_string(st.conns.size()) + " clients connected", now});
      for (const auto& [exchange, when] : st.last_update) {
        auto lag = now - when;
        out.push_back({"feed." + exchange,
          lag <= st.opts.stale_after_ms ? "healthy" : "degraded",
          "last bar update " + std::to_string(lag) + " ms ago", now});
      }
      return out;
    },
  };
}

} // namespace

caf::actor spawn_ws_broadcaster(
  caf::actor_system& sys, ws_broadcaster_options opts) {
  return sys.spawn(broadcaster, std::move(opts));
}

} // namespace csp::api
