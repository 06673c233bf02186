#pragma once

// The collector supervisor: one child per collector, each guarded by its own
// circuit_breaker. Breaker transitions are supervision events: open parks
// the collector, the open timeout brings it back half-open.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "caf/behavior.hpp"
#include "caf/fwd.hpp"

#include "actors/circuit_breaker.hpp"
#include "actors/supervisor.hpp"
#include "config/config.hpp"
#include "messages/circuit_transition.hpp"
#include "messages/flow_control.hpp"
#include "messages/symbol_command.hpp"

namespace csp::actors {

/// Settings of the collector supervisor.
struct collector_supervisor_config {
  /// Restart policy, jitter seed, metrics actor and clock; the name
  /// defaults to "collector_supervisor".
  supervisor_config supervision = default_supervision();
  /// Breaker of every collector.
  circuit_breaker_config breaker;
  /// How often circuit_breaker_open_duration_seconds of every circuit that
  /// is not closed is refreshed (0: never).
  std::int64_t metrics_tick_ms = 1000;

  /// Supervision settings named "collector_supervisor".
  static supervisor_config default_supervision() {
    supervisor_config result;
    result.name = "collector_supervisor";
    return result;
  }
};

/// Converts the `circuit_breaker` section of the platform config (the
/// timeout multiplier is not configurable there and stays 2).
circuit_breaker_config to_breaker_config(
  const config::circuit_breaker_config& cfg);

/// Breaker and run-time symbol commands of one collector.
struct collector_slot {
  /// Creates the slot of collector `name`.
  collector_slot(std::string name, circuit_breaker_config cfg)
      : breaker(std::move(name), cfg) {
    // The sink is installed by the supervisor.
  }

  circuit_breaker breaker;
  /// Bumped whenever an open-timeout timer is armed.
  std::uint64_t unpark_generation = 0;
  /// When the circuit last left closed (supervisor ms), -1 while closed.
  std::int64_t left_closed_ms = -1;
};

/// State of the collector supervisor actor.
struct collector_supervisor_state {
  supervisor_core core;
  circuit_breaker_config breaker_cfg;
  /// See collector_supervisor_config::metrics_tick_ms.
  std::int64_t metrics_tick_ms = 0;
  /// One slot per collector (stable addresses: the breakers' sinks
  /// point into this state).
  std::vector<std::unique_ptr<collector_slot>> slots;
  /// Transitions produced by the breaker call being handled.
  std::vector<messages::circuit_transition> pending;
  /// Symbol commands received at run time, per exchange, compacted to the
  /// last command per symbol; replayed to every new incarnation of the
  /// collector serving the exchange.
  std::vector<messages::symbol_command> commands;
  /// The last flow_control from storage (paused=false until one arrives);
  /// given to every new incarnation of a collector.
  messages::flow_control flow;

  /// Returns the slot of `collector`, or nullptr.
  collector_slot* slot(std::string_view collector) noexcept;

  /// The actor's name in CAF's diagnostics.
  static inline const char* name = "collector_supervisor";
};

/// Supervises the collectors built by `collectors` (their factories come
/// from the caller; `routes` are the exchanges each one serves).
///
/// Metrics of every collector exist from the start (state and open
/// duration 0, failure, success and half-open counters at 0).
///
/// Messages:
/// - `collector_event` from a collector: counted as
///   circuit_breaker_{failures,successes}_total{collector} and fed to the
///   collector's breaker. Every transition is sent to the metrics actor
///   (circuit_breaker_state{collector} gauge, 0 closed / 1 open /
///   2 half-open; circuit_breaker_transitions_total{collector, from_state,
///   to_state}; circuit_breaker_half_open_attempts_total{collector} on
///   entering half-open; on closing again the time since the circuit left
///   closed as a circuit_breaker_recovery_duration_seconds observation and
///   circuit_breaker_open_duration_seconds 0) and logged. To open: the
///   collector is stopped with the exit reason `supervision_errc::parked` and
///   not restarted; after the breaker's open timeout it is respawned half-open.
/// - `symbol_command`: routed to the collector serving its exchange, and
///   replayed to every later incarnation of it; returns false (and drops
///   the command) when no collector serves the exchange.
/// - `health_atom` -> std::vector<health_status>: per collector
///   ("collector.<name>") healthy / degraded (half-open or not running) /
///   unhealthy (circuit open), with the circuit state and child status in
///   the detail.
/// - `flow_control` (from storage, back-pressure): forwarded to every
///   running collector and, while a pause stands, to every new incarnation.
/// - `(unpark_atom, std::string, std::uint64_t)` and `(restart_atom,
///   std::string, std::uint64_t)`: its own timers; `flush_timer_atom`
///   every metrics_tick_ms: circuit_breaker_open_duration_seconds of every
///   circuit that is not closed (how long since it left closed).
///
/// An abnormal exit of a collector that was not parked is restarted after
/// the restart policy's backoff; its breaker (state and counts) is kept and
/// the other collectors are not touched. At the restart-intensity limit
/// the supervisor stops every collector and quits with
/// `supervision_errc::restart_intensity`.
caf::behavior collector_supervisor(
  caf::stateful_actor<collector_supervisor_state>* self,
  collector_supervisor_config cfg, std::vector<child_spec> collectors);

} // namespace csp::actors
