#include "actors/collector_supervisor.hpp"

#include <chrono>
#include <utility>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"

namespace csp::actors {

namespace {

using messages::circuit_state;
using messages::circuit_transition;
using messages::metric_entry;
using messages::metric_kind;

using self_pointer = caf::stateful_actor<collector_supervisor_state>*;

metric_entry collector_counter(const char* name, const std::string& collector) {
  return metric_entry{
    metric_kind::counter_add, name, {{"collector", collector}}, 1.0};
}

metric_entry state_gauge(const std::string& collector, circuit_state s) {
  return metric_entry{metric_kind::gauge_set, "circuit_breaker_state",
    {{"collector", collector}}, static_cast<double>(s)};
}

metric_entry open_duration(const std::string& collector, double seconds) {
  return metric_entry{metric_kind::gauge_set,
    "circuit_breaker_open_duration_seconds", {{"collector", collector}},
    seconds};
}

void arm_metrics_tick(self_pointer self) {
  auto ms = self->state.metrics_tick_ms;
  if (ms > 0)
    self->delayed_send(
      self, std::chrono::milliseconds{ms}, messages::flush_timer_atom_v);
}

/// Times a circuit's episode away from closed: starts it on leaving
/// closed, ends it (one recovery observation) on closing again.
void track_episode(const circuit_transition& t, collector_slot& slot,
  std::vector<metric_entry>& entries) {
  if (t.from == circuit_state::closed) {
    slot.left_closed_ms = t.time_ms;
  } else if (t.to == circuit_state::closed && slot.left_closed_ms >= 0) {
    auto seconds = static_cast<double>(t.time_ms - slot.left_closed_ms) / 1000;
    entries.push_back(metric_entry{metric_kind::histogram_observe,
      "circuit_breaker_recovery_duration_seconds", {{"collector", t.collector}},
      seconds});
    entries.push_back(open_duration(t.collector, 0));
    slot.left_closed_ms = -1;
  }
}

void arm_unpark(
  self_pointer self, collector_slot& slot, std::int64_t delay_ms) {
  auto generation = ++slot.unpark_generation;
  self->delayed_send(self, std::chrono::milliseconds{delay_ms},
    messages::unpark_atom_v, slot.breaker.collector(), generation);
}

/// Reports and acts on the transitions the last breaker call produced.
void apply_transitions(self_pointer self, std::vector<metric_entry>& entries) {
  auto& st = self->state;
  auto transitions = std::move(st.pending);
  st.pending.clear();
  for (auto& t : transitions) {
    entries.push_back(state_gauge(t.collector, t.to));
    entries.push_back(metric_entry{metric_kind::counter_add,
      "circuit_breaker_transitions_total",
      {{"collector", t.collector},
        {"from_state", std::string{messages::to_string(t.from)}},
        {"to_state", std::string{messages::to_string(t.to)}}},
      1.0});
    if (t.to == circuit_state::half_open)
      entries.push_back(collector_counter(
        "circuit_breaker_half_open_attempts_total", t.collector));
    if (auto slot = st.slot(t.collector))
      track_episode(t, *slot, entries);
    auto level = t.to == circuit_state::closed ? config::log_level::info
                                               : config::log_level::warning;
    monitoring::log_event(st.core.logger(), level, "circuit transition",
      {{"supervisor", st.core.config().name}, {"collector", t.collector},
        {"from_state", messages::to_string(t.from)},
        {"to_state", messages::to_string(t.to)}, {"reason", t.reason},
        {"time_ms", t.time_ms}, {"open_timeout_ms", t.open_timeout_ms}});
    if (t.to == circuit_state::open) {
      st.core.park(t.collector, t.reason);
      if (auto slot = st.slot(t.collector))
        arm_unpark(self, *slot, t.open_timeout_ms);
    }
  }
}

void remember(std::vector<messages::symbol_command>& log,
  const messages::symbol_command& cmd) {
  for (auto i = log.begin(); i != log.end(); ++i) {
    if (i->exchange == cmd.exchange && i->symbol == cmd.symbol) {
      log.erase(i);
      break;
    }
  }
  log.push_back(cmd);
}

} // namespace

circuit_breaker_config to_breaker_config(
  const config::circuit_breaker_config& cfg) {
  circuit_breaker_config result;
  result.failure_threshold = static_cast<int>(cfg.failure_threshold);
  result.open_timeout_ms = cfg.open_timeout_ms;
  result.success_threshold = static_cast<int>(cfg.success_threshold);
  result.max_open_timeout_ms = cfg.max_open_timeout_ms;
  return result;
}

collector_slot* collector_supervisor_state::slot(
  std::string_view collector) noexcept {
  for (auto& x : slots)
    if (x->breaker.collector() == collector)
      return x.get();
  return nullptr;
}

caf::behavior collector_supervisor(
  caf::stateful_actor<collector_supervisor_state>* self,
  collector_supervisor_config cfg, std::vector<child_spec> collectors) {
  auto& init = self->state;
  init.breaker_cfg = cfg.breaker;
  init.metrics_tick_ms = cfg.metrics_tick_ms;
  init.core.init(self, std::move(cfg.supervision));
  // An error message from a peer must not take the collectors down.
  init.core.log_peer_errors();
  // Replay run-time symbol commands to every new incarnation.
  init.core.on_spawn([self](const child_entry& child) {
    if (!child.handle)
      return;
    if (self->state.flow.paused)
      self->send(child.handle, self->state.flow);
    for (auto& cmd : self->state.commands)
      for (auto& route : child.spec.routes)
        if (route == cmd.exchange)
          self->send(child.handle, cmd);
  });
  std::vector<metric_entry> initial;
  for (auto& spec : collectors) {
    auto name = spec.name;
    if (init.slot(name) != nullptr || !init.core.add(std::move(spec))) {
      monitoring::log_event(init.core.logger(), config::log_level::error,
        "duplicate or empty collector spec",
        {{"supervisor", init.core.config().name}, {"collector", name}});
      continue;
    }
    init.slots.push_back(
      std::make_unique<collector_slot>(name, init.breaker_cfg));
    init.slots.back()->breaker.set_sink([self](const circuit_transition& t) {
      self->state.pending.push_back(t);
    });
    initial.push_back(state_gauge(name, circuit_state::closed));
    initial.push_back(open_duration(name, 0));
    for (auto counter :
      {"circuit_breaker_failures_total", "circuit_breaker_successes_total",
        "circuit_breaker_half_open_attempts_total"}) {
      initial.push_back(collector_counter(counter, name));
      initial.back().value = 0;
    }
  }
  init.core.send_metrics(std::move(initial));
  arm_metrics_tick(self);
  return {
    [self](const messages::collector_event& ev) {
      auto& st = self->state;
      auto slot = st.slot(ev.collector);
      if (slot == nullptr) {
        monitoring::log_event(st.core.logger(), config::log_level::warning,
          "event from an unknown collector",
          {{"supervisor", st.core.config().name}, {"collector", ev.collector}});
        return;
      }
      auto now = st.core.now_ms();
      std::vector<metric_entry> entries;
      if (ev.outcome == messages::collector_outcome::failure) {
        entries.push_back(
          collector_counter("circuit_breaker_failures_total", ev.collector));
        slot->breaker.record_failure(now);
      } else {
        entries.push_back(
          collector_counter("circuit_breaker_successes_total", ev.collector));
        slot->breaker.record_success(now);
      }
      apply_transitions(self, entries);
      st.core.send_metrics(std::move(entries));
    },
    [self](messages::unpark_atom, const std::string& collector,
      std::uint64_t generation) {
      auto& st = self->state;
      auto slot = st.slot(collector);
      if (slot == nullptr || slot->unpark_generation != generation)
        return;
      auto now = st.core.now_ms();
      if (slot->breaker.poll(now) == circuit_state::open) {
        // Not due yet (cannot happen with one clock): wait the remainder.
        arm_unpark(self, *slot, slot->breaker.half_open_at_ms() - now);
        return;
      }
      std::vector<metric_entry> entries;
      apply_transitions(self, entries);
      st.core.send_metrics(std::move(entries));
      st.core.unpark(collector);
    },
    [self](messages::flush_timer_atom) {
      auto& st = self->state;
      auto now = st.core.now_ms();
      std::vector<metric_entry> entries;
      for (auto& slot : st.slots)
        if (slot->left_closed_ms >= 0)
          entries.push_back(open_duration(slot->breaker.collector(),
            static_cast<double>(now - slot->left_closed_ms) / 1000));
      if (!entries.empty())
        st.core.send_metrics(std::move(entries));
      arm_metrics_tick(self);
    },
    [self](messages::restart_atom, const std::string& name,
      std::uint64_t generation) {
      self->state.core.handle_restart(name, generation);
    },
    [self](messages::health_atom) {
      // One status per collector: healthy while its circuit is closed and
      // it runs, degraded when half-open or restarting, unhealthy when open.
      auto& st = self->state;
      std::vector<messages::health_status> out;
      auto now = st.core.now_ms();
      for (const auto& child : st.core.children()) {
        messages::health_status h;
        h.component = "collector." + child.spec.name;
        h.time_ms = now;
        const auto* slot = st.slot(child.spec.name);
        auto circuit = slot != nullptr ? slot->breaker.state()
                                       : messages::circuit_state::closed;
        h.detail = "circuit " + std::string{messages::to_string(circuit)} + ", "
          + std::string{to_string(child.status)};
        if (circuit == messages::circuit_state::open)
          h.status = "unhealthy";
        else if (circuit == messages::circuit_state::half_open
          || child.status != child_status::running)
          h.status = "degraded";
        else
          h.status = "healthy";
        out.push_back(std::move(h));
      }
      return out;
    },
    [self](const messages::flow_control& fc) {
      auto& st = self->state;
      st.flow = fc;
      for (const auto& child : st.core.children())
        if (child.handle && child.status == child_status::running)
          self->send(child.handle, fc);
    },
    [self](const messages::symbol_command& cmd) {
      auto& st = self->state;
      if (st.core.serving(cmd.exchange) == nullptr) {
        monitoring::log_event(st.core.logger(), config::log_level::warning,
          "symbol command for an exchange without collector",
          {{"supervisor", st.core.config().name}, {"exchange", cmd.exchange},
            {"symbol", cmd.symbol},
            {"action", messages::to_string(cmd.action)}});
        return false;
      }
      remember(st.commands, cmd);
      if (auto dest = st.core.route(cmd.exchange))
        self->send(dest, cmd);
      return true;
    },
  };
}

} // namespace csp::actors
