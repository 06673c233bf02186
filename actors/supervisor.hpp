#pragma once

// Generic supervision for CAF 0.17 (which has no supervisor type): a
// supervisor_core tracks children spawned by factories, monitors them and
// restarts abnormal exits after a restart_policy's backoff, parks and
// unparks children on request and escalates (quits with an error seen by
// its own parent) when the restart-intensity limit is hit.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "caf/actor.hpp"
#include "caf/behavior.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/message.hpp"

#include "actors/restart_policy.hpp"
#include "messages/metric_update.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace csp::actors {

/// Exit reasons and errors of supervision (category "supervise").
enum class supervision_errc : std::uint8_t {
  /// A child was stopped on purpose because its circuit opened.
  parked = 1,
  /// A child exceeded its restart-intensity limit; the supervisor escalates.
  restart_intensity = 2,
  /// A child was removed at run time.
  removed = 3,
};

/// Converts a supervision_errc to a caf::error (category "supervise").
caf::error make_error(supervision_errc x);

/// Converts a supervision_errc with a context message (e.g. the child name).
caf::error make_error(supervision_errc x, caf::message context);

/// Returns whether `err` is the supervision error `x`.
bool is_supervision_error(const caf::error& err, supervision_errc x) noexcept;

/// Spawns one child with its collaborators; `parent` is the supervisor (so
/// the child can report to it). Called again with the same arguments on
/// every restart, so the child's collaborators stay the same actors.
using child_factory = std::function<caf::actor(caf::local_actor* parent)>;

/// A supervised child.
struct child_spec {
  /// Unique name, e.g. "binance-0"; the `actor` label of restart metrics.
  std::string name;
  /// Routing keys served by the child (e.g. the exchanges of a collector).
  std::vector<std::string> routes;
  /// Spawns the child.
  child_factory factory;
};

/// Settings of a supervisor.
struct supervisor_config {
  /// Supervisor name for logs and metrics.
  std::string name = "supervisor";
  /// Restart policy of every child.
  restart_policy_config restart;
  /// Seed of the restart jitter (child i uses seed + i).
  std::uint64_t seed = 0;
  /// Receives metric_update batches; may be invalid.
  caf::actor metrics;
  /// Wall clock (ms since the epoch) read once at start; the supervisor's
  /// time then advances with the actor clock, so timers and the times it
  /// reports agree. Empty: the system clock.
  std::function<std::int64_t()> wall_clock_ms;
};

/// Where a supervised child is in its life cycle.
enum class child_status : std::uint8_t {
  /// Spawned and monitored.
  running = 0,
  /// Exited abnormally; a restart timer is pending.
  restart_pending = 1,
  /// Stopped on purpose (e.g. circuit open); not restarted until unparked.
  parked = 2,
  /// Exited normally or was removed; never restarted.
  stopped = 3,
};

/// Label of a child_status: "running", "restart_pending", "parked",
/// "stopped".
std::string_view to_string(child_status x) noexcept;

/// One supervised child and its restart bookkeeping.
struct child_entry {
  child_spec spec;
  restart_policy policy;
  /// The running actor; invalid unless status is running (or parked while
  /// its exit is still on the way).
  caf::actor handle;
  child_status status = child_status::running;
  /// Bumped whenever a timer is armed or cancelled; stale timers carry an
  /// older value and are ignored.
  std::uint64_t generation = 0;
  /// Spawns so far (1 after the first start).
  std::uint64_t spawns = 0;
};

/// The restart machinery shared by every supervisor actor; lives in the
/// actor's state. Handlers for `down_msg`, `(restart_atom, name,
/// generation)` and the public operations must be wired by the actor.
class supervisor_core {
public:
  /// Creates an unbound core; call init before use.
  supervisor_core() = default;

  supervisor_core(const supervisor_core&) = delete;
  supervisor_core& operator=(const supervisor_core&) = delete;

  /// Stops every running child (user_shutdown) when the supervisor goes.
  ~supervisor_core();

  /// Binds the core to its actor and installs the down handler.
  void init(caf::event_based_actor* self, supervisor_config cfg);

  /// Installs an error handler that logs error messages from peers (say,
  /// one that did not expect a reply) instead of quitting, CAF's default.
  void log_peer_errors();

  /// Spawns and monitors a new child. Returns false (and spawns nothing)
  /// when the name is taken or the factory is empty.
  bool add(child_spec spec);

  /// Stops a child for good (exit reason `removed`) and forgets it.
  bool remove(std::string_view name);

  /// Handles the termination of a monitored actor. Returns false for
  /// actors that are not current children.
  bool handle_down(const caf::down_msg& msg);

  /// Handles a restart timer; stale generations are ignored.
  void handle_restart(std::string_view name, std::uint64_t generation);

  /// Stops a running child with the exit reason `parked` and keeps it
  /// stopped (a pending restart is cancelled). Returns false when the
  /// child is unknown, stopped or already parked.
  bool park(std::string_view name, std::string_view reason);

  /// Respawns a parked child. Returns false when it is not parked.
  bool unpark(std::string_view name);

  /// Returns the child named `name`, or nullptr.
  const child_entry* find(std::string_view name) const noexcept;

  /// Returns the running child serving routing key `key` (or named `key`),
  /// or an invalid handle.
  caf::actor route(std::string_view key) const noexcept;

  /// Returns the child named `key` or serving routing key `key`, whatever
  /// its status, or nullptr.
  const child_entry* serving(std::string_view key) const noexcept;

  /// Installs a callback run after every (re)spawn of a child, e.g. to
  /// replay run-time commands to the new incarnation.
  void on_spawn(std::function<void(const child_entry&)> hook) {
    spawn_hook_ = std::move(hook);
  }

  /// Returns every child in insertion order.
  const std::vector<child_entry>& children() const noexcept {
    return children_;
  }

  /// Sends `entries` as one metric_update to the metrics actor, if any.
  void send_metrics(std::vector<messages::metric_entry> entries);

  /// Returns the supervisor's time in ms since the epoch.
  std::int64_t now_ms() const;

  /// Returns the supervisor's logger.
  spdlog::logger& logger() const noexcept { return *logger_; }

  /// Returns the configuration.
  const supervisor_config& config() const noexcept { return cfg_; }

  /// Stops every running child with `reason` and cancels pending timers.
  void shutdown_children(const caf::error& reason);

private:
  child_entry* find_mut(std::string_view name) noexcept;

  void spawn(child_entry& child);

  void escalate(child_entry& child, const caf::error& reason);

  caf::event_based_actor* self_ = nullptr;
  supervisor_config cfg_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<child_entry> children_;
  std::function<void(const child_entry&)> spawn_hook_;
  std::int64_t wall_base_ms_ = 0;
  std::int64_t clock_base_ns_ = 0;
  std::uint64_t added_ = 0;
};

/// State of the generic supervisor actor.
struct supervisor_state {
  supervisor_core core;
  /// The actor's name in CAF's diagnostics.
  static inline const char* name = "supervisor";
};

/// A generic supervisor: spawns `children`, restarts abnormal exits with
/// backoff, escalates at the restart-intensity limit, and shuts its
/// children down when it exits. Messages:
/// - `(std::string key, caf::message msg)`: forwards `msg` to the running
///   child named `key` or serving route `key`; returns false when none.
/// - `(park_atom, std::string name)` / `(unpark_atom, std::string name)`:
///   parks / unparks a child; returns whether the child was affected.
/// - `(restart_atom, std::string name, std::uint64_t generation)`: its own
///   backoff timers.
caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self,
  supervisor_config cfg, std::vector<child_spec> children);

} // namespace csp::actors
