#include "actors/storage_supervisor.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>

#include <sys/stat.h>

#include "caf/actor_system.hpp"
#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"
#include "messages/calendar.hpp"

namespace csp::actors {

namespace {

/// One writer position in the pool.
struct slot {
  pg_writer_options opts;
  caf::actor handle;
  restart_policy policy;
  /// Bumped on every restart timer; stale timers are ignored.
  std::uint64_t generation = 0;
  /// Messages for the writer while it is down.
  std::vector<caf::message> held;
  /// Run when the writer (re)starts.
  std::vector<std::function<void()>> on_start;
  /// Rows routed to this writer so far (held ones included).
  std::int64_t sent = 0;
  /// The highest rows_settled the writer reported.
  std::int64_t settled = 0;
};

struct storage_state {
  storage_options opts;
  std::vector<slot> slots;
  bool stopping = false;
  caf::error stop_reason;
  std::shared_ptr<spdlog::logger> log;
  /// Receivers of flow_control.
  std::vector<caf::actor> listeners;
  /// Whether a pause is on (paused=true sent, paused=false not yet).
  bool paused = false;

  std::int64_t inflight() const {
    std::int64_t n = 0;
    for (const auto& s : slots)
      n += s.sent - s.settled;
    return n;
  }

  static inline const char* name = "storage_supervisor";

  std::size_t route(const std::string& exchange, const std::string& symbol) {
    auto h = std::hash<std::string>{}(exchange);
    h ^= std::hash<std::string>{}(symbol) + 0x9e3779b97f4a7c15ULL + (h << 6)
      + (h >> 2);
    return h % slots.size();
  }
};

using storage_actor = caf::stateful_actor<storage_state>;

void deliver(storage_actor* self, std::size_t i, caf::message msg);

void start_slot(storage_actor* self, std::size_t i) {
  auto& s = self->state.slots[i];
  s.handle = self->state.opts.spawn_writer
    ? self->state.opts.spawn_writer(self, s.opts)
    : spawn_pg_writer(self, s.opts);
  self->monitor(s.handle);
  s.policy.on_start(messages::steady_clock_ms());
  auto held = std::move(s.held);
  s.held.clear();
  for (auto& msg : held)
    deliver(self, i, std::move(msg));
  auto waiting = std::move(s.on_start);
  s.on_start.clear();
  for (auto& f : waiting)
    f();
}

void send_backpressure_gauge(storage_actor* self, bool active) {
  if (!self->state.opts.metrics)
    return;
  messages::metric_update up;
  up.entries.push_back(messages::metric_entry{messages::metric_kind::gauge_set,
    "storage_backpressure_active", {}, active ? 1.0 : 0.0});
  self->send(self->state.opts.metrics, std::move(up));
}

messages::flow_control flow_signal(const storage_state& st) {
  messages::flow_control fc;
  fc.paused = st.paused;
  fc.reason = st.paused ? "storage_inflight_high" : "storage_inflight_low";
  fc.inflight_rows = st.inflight();
  fc.time_ms = messages::wall_clock_ms();
  return fc;
}

/// Compares the rows in flight with the water marks and tells the
/// listeners when a mark is crossed: paused=true at max_inflight_rows,
/// paused=false at half of it (the gap keeps a load near the mark from
/// flapping).
void check_flow(storage_actor* self) {
  auto& st = self->state;
  auto high = st.opts.max_inflight_rows;
  if (high <= 0 || st.stopping)
    return;
  auto n = st.inflight();
  if (!st.paused && n >= high)
    st.paused = true;
  else if (st.paused && n <= high / 2)
    st.paused = false;
  else
    return;
  auto fc = flow_signal(st);
  monitoring::log_event(*st.log,
    fc.paused ? config::log_level::warning : config::log_level::info,
    fc.paused ? "database slower than ingest: asking producers to pause"
              : "writers caught up: producers may resume",
    {{"inflight_rows", n}, {"max_inflight_rows", high}});
  for (const auto& l : st.listeners)
    self->send(l, fc);
  send_backpressure_gauge(self, fc.paused);
}

/// Counts `rows` routed to writer i.
void note_sent(storage_actor* self, std::size_t i, std::size_t rows) {
  self->state.slots[i].sent += static_cast<std::int64_t>(rows);
}

/// Takes a writer's progress report (or stats reply) into account.
void note_settled(storage_actor* self, const messages::writer_stats& st) {
  for (auto& s : self->state.slots)
    if (s.opts.name == st.name) {
      s.settled = std::max(s.settled, st.rows_settled);
      break;
    }
  check_flow(self);
}

/// Sends `msg` to writer i as a request: a writer that died before taking
/// it bounces the request, and the message is held for the next
/// incarnation. What a writer took is in its shared memory. So a crash
/// loses nothing, whenever it happens.
void deliver(storage_actor* self, std::size_t i, caf::message msg) {
  auto& s = self->state.slots[i];
  if (!s.handle) {
    s.held.push_back(std::move(msg));
    return;
  }
  auto copy = msg;
  self->request(s.handle, caf::infinite, std::move(msg))
    .then([] {},
      [self, i, copy](
        caf::error&) mutable { deliver(self, i, std::move(copy)); });
}

/// Asks writer i for its stats (after a flush when `flush`) and calls `k`
/// with them; when the writer dies first, asks its next incarnation.
void ask(storage_actor* self, std::size_t i, bool flush,
  const std::function<void(const messages::writer_stats&)>& k) {
  auto& s = self->state.slots[i];
  if (!s.handle) {
    s.on_start.emplace_back([self, i, flush, k] { ask(self, i, flush, k); });
    return;
  }
  auto retry = [self, i, flush, k](caf::error&) {
    if (self->state.stopping)
      k(messages::writer_stats{});
    else
      ask(self, i, flush, k);
  };
  auto done = [self, k](const messages::writer_stats& st) {
    note_settled(self, st);
    k(st);
  };
  if (flush)
    self->request(s.handle, caf::infinite, caf::flush_atom_v).then(done, retry);
  else
    self->request(s.handle, caf::infinite, caf::get_atom_v).then(done, retry);
}

/// Collects every writer's stats (after a flush when `flush`).
caf::result<std::vector<messages::writer_stats>> collect(
  storage_actor* self, bool flush) {
  auto rp = self->make_response_promise<std::vector<messages::writer_stats>>();
  auto& slots = self->state.slots;
  if (flush && !self->state.stopping) {
    // A flush means "everything to the database now": a writer waiting
    // for its restart timer is started at once (the timer goes stale).
    for (std::size_t i = 0; i < slots.size(); ++i)
      if (!slots[i].handle) {
        ++slots[i].generation;
        start_slot(self, i);
      }
  }
  auto out = std::make_shared<std::vector<messages::writer_stats>>();
  auto waiting = std::make_shared<std::size_t>(slots.size());
  for (std::size_t i = 0; i < slots.size(); ++i)
    ask(self, i, flush,
      [rp, out, waiting](const messages::writer_stats& st) mutable {
        out->push_back(st);
        if (--*waiting == 0)
          rp.deliver(*out);
      });
  return rp;
}

void stop_all(storage_actor* self, caf::error reason) {
  auto& st = self->state;
  st.stopping = true;
  st.stop_reason = std::move(reason);
  bool any = false;
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    auto& s = st.slots[i];
    if (!s.handle
      && (!s.held.empty() || (s.opts.memory && s.opts.memory->rows > 0)))
      start_slot(self, i); // a pending restart: let it flush what it holds
    if (s.handle) {
      self->send_exit(s.handle, caf::exit_reason::user_shutdown);
      any = true;
    }
  }
  if (!any)
    self->quit(st.stop_reason);
}

/// Splits per-instrument rows (bars, snapshots, features) by writer and
/// delivers each part.
template <class T>
void route_rows(storage_actor* self, std::vector<T>& xs) {
  auto& st = self->state;
  std::unordered_map<std::size_t, std::vector<T>> parts;
  for (auto& x : xs)
    parts[st.route(x.exchange, x.symbol)].push_back(std::move(x));
  for (auto& [i, part] : parts) {
    note_sent(self, i, part.size());
    deliver(self, i, caf::make_message(std::move(part)));
  }
  check_flow(self);
}

caf::behavior storage_supervisor(storage_actor* self, storage_options opts) {
  auto& init = self->state;
  init.opts = std::move(opts);
  init.log = monitoring::get_logger("storage");
  ::mkdir(init.opts.spool_dir.c_str(), 0700);
  if (init.opts.pool_size == 0)
    init.opts.pool_size = 1;
  for (std::size_t i = 0; i < init.opts.pool_size; ++i) {
    slot s;
    s.opts = init.opts.writer;
    s.opts.name = "pg_writer-" + std::to_string(i);
    s.opts.spool_path = init.opts.spool_dir + "/" + s.opts.name + ".spool";
    s.opts.memory = std::make_shared<pg_writer_memory>();
    s.opts.maintain_partitions = i == 0;
    s.opts.metrics = init.opts.metrics;
    s.opts.progress = caf::actor_cast<caf::actor>(self);
    s.policy = restart_policy{init.opts.restart, make_seeded_uniform(i + 1)};
    init.slots.push_back(std::move(s));
  }
  for (std::size_t i = 0; i < init.slots.size(); ++i)
    start_slot(self, i);
  for (auto& l : init.opts.flow_listeners)
    if (l) {
      self->monitor(l);
      init.listeners.push_back(l);
    }
  if (init.opts.max_inflight_rows > 0)
    send_backpressure_gauge(self, false);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (!self->state.stopping)
      stop_all(self, msg.reason);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (std::size_t i = 0; i < st.slots.size(); ++i) {
      auto& s = st.slots[i];
      if (s.handle != dm.source)
        continue;
      s.handle = nullptr;
      if (st.stopping) {
        for (auto& other : st.slots)
          if (other.handle)
            return;
        self->quit(st.stop_reason);
        return;
      }
      auto decision = s.policy.on_exit(messages::steady_clock_ms());
      if (decision.what == restart_decision::action::escalate) {
        monitoring::log_event(*st.log, config::log_level::error,
          "writer exceeded its restart limit; storage escalates",
          {{"writer", s.opts.name},
            {"reason", self->system().render(dm.reason)}});
        stop_all(self, dm.reason);
        return;
      }
      monitoring::log_event(*st.log, config::log_level::warning,
        "writer exited; restarting",
        {{"writer", s.opts.name}, {"reason", self->system().render(dm.reason)},
          {"attempt", decision.attempt}, {"delay_ms", decision.delay_ms}});
      ++s.generation;
      self->delayed_send(self, std::chrono::milliseconds{decision.delay_ms},
        messages::restart_atom_v, static_cast<std::uint64_t>(i), s.generation);
      return;
    }
    // Not a writer: a flow_control listener went away.
    auto& ls = st.listeners;
    ls.erase(std::remove_if(ls.begin(), ls.end(),
               [&dm](const caf::actor& l) { return l == dm.source; }),
      ls.end());
  });
  return {
    [self](messages::restart_atom, std::uint64_t i, std::uint64_t gen) {
      auto& st = self->state;
      if (st.stopping || i >= st.slots.size() || st.slots[i].generation != gen
        || st.slots[i].handle)
        return;
      start_slot(self, i);
    },
    [self](std::vector<messages::bar>& bars) { route_rows(self, bars); },
    [self](std::vector<messages::indicator_snapshot>& snaps) {
      route_rows(self, snaps);
    },
    [self](std::vector<messages::feature_vector>& xs) { route_rows(self, xs); },
    [self](messages::quality_report& rep) {
      auto i = self->state.route(rep.exchange, rep.symbol);
      note_sent(self, i, 1);
      deliver(self, i, caf::make_message(std::move(rep)));
      check_flow(self);
    },
    [self](messages::trade_batch& batch) {
      auto i = self->state.route(batch.exchange, batch.symbol);
      note_sent(self, i, batch.trades.size());
      deliver(self, i, caf::make_message(std::move(batch)));
      check_flow(self);
    },
    [self](
      const messages::writer_stats& progress) { note_settled(self, progress); },
    [self](messages::subscribe_flow_atom, const caf::actor& listener) {
      auto& st = self->state;
      if (!listener
        || std::find(st.listeners.begin(), st.listeners.end(), listener)
          != st.listeners.end())
        return;
      self->monitor(listener);
      st.listeners.push_back(listener);
      if (st.paused)
        self->send(listener, flow_signal(st));
    },
    [self](caf::flush_atom) { return collect(self, true); },
    [self](caf::get_atom, const std::string& writer) -> caf::actor {
      for (auto& s : self->state.slots)
        if (s.opts.name == writer)
          return s.handle;
      return {};
    },
    [self](caf::get_atom) { return collect(self, false); },
  };
}

} // namespace

caf::actor spawn_storage_supervisor(
  caf::actor_system& sys, storage_options opts) {
  return sys.spawn(storage_supervisor, std::move(opts));
}

} // namespace csp::actors
