#include "actors/supervisor.hpp"

#include <chrono>
#include <utility>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/make_message.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/system_messages.hpp"

#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"

namespace csp::actors {

namespace {

constexpr caf::atom_value supervision_category = caf::atom("supervise");

std::int64_t system_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

bool is_normal_exit(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::user_shutdown;
}

} // namespace

caf::error make_error(supervision_errc x) {
  return {static_cast<std::uint8_t>(x), supervision_category};
}

caf::error make_error(supervision_errc x, caf::message context) {
  return {
    static_cast<std::uint8_t>(x), supervision_category, std::move(context)};
}

bool is_supervision_error(const caf::error& err, supervision_errc x) noexcept {
  // An empty error has no category (and CAF 0.17 must not be asked).
  return err && err.category() == supervision_category
    && err.code() == static_cast<std::uint8_t>(x);
}

std::string_view to_string(child_status x) noexcept {
  switch (x) {
    case child_status::running:
      return "running";
    case child_status::restart_pending:
      return "restart_pending";
    case child_status::parked:
      return "parked";
    case child_status::stopped:
      return "stopped";
  }
  return "?";
}

supervisor_core::~supervisor_core() {
  for (auto& child : children_)
    if (child.handle)
      caf::anon_send_exit(child.handle, caf::exit_reason::user_shutdown);
}

void supervisor_core::init(
  caf::event_based_actor* self, supervisor_config cfg) {
  self_ = self;
  cfg_ = std::move(cfg);
  logger_ = monitoring::get_logger("supervision");
  wall_base_ms_ = cfg_.wall_clock_ms ? cfg_.wall_clock_ms() : system_clock_ms();
  clock_base_ns_ = self_->clock().now().time_since_epoch().count();
  self_->set_down_handler([this](caf::down_msg& msg) { handle_down(msg); });
}

void supervisor_core::log_peer_errors() {
  self_->set_error_handler([this](caf::error& err) {
    monitoring::log_event(*logger_, config::log_level::warning,
      "error message from a peer",
      {{"supervisor", cfg_.name}, {"error", self_->system().render(err)}});
  });
}

std::int64_t supervisor_core::now_ms() const {
  auto elapsed_ns
    = self_->clock().now().time_since_epoch().count() - clock_base_ns_;
  // The actor clock is a steady clock in nanoseconds (CAF's timespan).
  return wall_base_ms_ + static_cast<std::int64_t>(elapsed_ns / 1000000);
}

bool supervisor_core::add(child_spec spec) {
  if (!spec.factory || find(spec.name) != nullptr)
    return false;
  auto uniform = make_seeded_uniform(cfg_.seed + added_++);
  children_.push_back(child_entry{std::move(spec),
    restart_policy{cfg_.restart, std::move(uniform)}, caf::actor{},
    child_status::running, 0, 0});
  spawn(children_.back());
  return true;
}

bool supervisor_core::remove(std::string_view name) {
  for (auto i = children_.begin(); i != children_.end(); ++i) {
    if (i->spec.name == name) {
      if (i->handle) {
        self_->demonitor(i->handle);
        self_->send_exit(i->handle, make_error(supervision_errc::removed));
      }
      monitoring::log_event(*logger_, config::log_level::info, "child removed",
        {{"supervisor", cfg_.name}, {"child", name}});
      children_.erase(i);
      return true;
    }
  }
  return false;
}

void supervisor_core::spawn(child_entry& child) {
  child.handle = child.spec.factory(self_);
  child.status = child_status::running;
  ++child.spawns;
  child.policy.on_start(now_ms());
  if (child.handle)
    self_->monitor(child.handle);
  if (spawn_hook_)
    spawn_hook_(child);
}

bool supervisor_core::handle_down(const caf::down_msg& msg) {
  child_entry* child = nullptr;
  for (auto& x : children_)
    if (x.handle && x.handle.address() == msg.source)
      child = &x;
  if (child == nullptr)
    return false;
  child->handle = nullptr;
  auto now = now_ms();
  if (child->status == child_status::parked)
    return true; // The exit we asked for: stays down until unparked.
  auto reason = to_string(msg.reason);
  if (is_normal_exit(msg.reason)) {
    child->status = child_status::stopped;
    monitoring::log_event(*logger_, config::log_level::info,
      "child exited normally",
      {{"supervisor", cfg_.name}, {"child", child->spec.name},
        {"exit_reason", reason}});
    return true;
  }
  auto decision = child->policy.on_exit(now);
  if (decision.what == restart_decision::action::escalate) {
    escalate(*child, msg.reason);
    return true;
  }
  child->status = child_status::restart_pending;
  auto generation = ++child->generation;
  monitoring::log_event(*logger_, config::log_level::warning,
    "child crashed, restart scheduled",
    {{"supervisor", cfg_.name}, {"child", child->spec.name},
      {"exit_reason", reason}, {"attempt", decision.attempt},
      {"delay_ms", decision.delay_ms}});
  self_->delayed_send(self_, std::chrono::milliseconds{decision.delay_ms},
    messages::restart_atom_v, child->spec.name, generation);
  return true;
}

void supervisor_core::handle_restart(
  std::string_view name, std::uint64_t generation) {
  auto child = find_mut(name);
  if (child == nullptr || child->status != child_status::restart_pending
    || child->generation != generation)
    return;
  spawn(*child);
  monitoring::log_event(*logger_, config::log_level::warning, "child restarted",
    {{"supervisor", cfg_.name}, {"child", child->spec.name},
      {"attempt", child->policy.attempt()},
      {"restarts", child->policy.total_restarts()}});
  send_metrics({messages::metric_entry{messages::metric_kind::counter_add,
    "actor_restarts_total", {{"actor", child->spec.name}}, 1.0}});
}

bool supervisor_core::park(std::string_view name, std::string_view reason) {
  auto child = find_mut(name);
  if (child == nullptr || child->status == child_status::parked
    || child->status == child_status::stopped)
    return false;
  ++child->generation; // Cancels a pending restart.
  child->status = child_status::parked;
  if (child->handle)
    self_->send_exit(child->handle, make_error(supervision_errc::parked));
  monitoring::log_event(*logger_, config::log_level::warning, "child parked",
    {{"supervisor", cfg_.name}, {"child", child->spec.name},
      {"reason", reason}});
  return true;
}

bool supervisor_core::unpark(std::string_view name) {
  auto child = find_mut(name);
  if (child == nullptr || child->status != child_status::parked)
    return false;
  ++child->generation;
  if (child->handle) {
    // Its exit has not arrived yet: stop watching the old incarnation.
    self_->demonitor(child->handle);
    child->handle = nullptr;
  }
  spawn(*child);
  monitoring::log_event(*logger_, config::log_level::info, "child unparked",
    {{"supervisor", cfg_.name}, {"child", child->spec.name}});
  return true;
}

const child_entry* supervisor_core::find(std::string_view name) const noexcept {
  for (auto& x : children_)
    if (x.spec.name == name)
      return &x;
  return nullptr;
}

child_entry* supervisor_core::find_mut(std::string_view name) noexcept {
  for (auto& x : children_)
    if (x.spec.name == name)
      return &x;
  return nullptr;
}

caf::actor supervisor_core::route(std::string_view key) const noexcept {
  for (auto& x : children_) {
    if (x.status != child_status::running || !x.handle)
      continue;
    if (x.spec.name == key)
      return x.handle;
    for (auto& r : x.spec.routes)
      if (r == key)
        return x.handle;
  }
  return {};
}

const child_entry* supervisor_core::serving(
  std::string_view key) const noexcept {
  for (auto& x : children_) {
    if (x.spec.name == key)
      return &x;
    for (auto& r : x.spec.routes)
      if (r == key)
        return &x;
  }
  return nullptr;
}

void supervisor_core::send_metrics(
  std::vector<messages::metric_entry> entries) {
  if (!cfg_.metrics || entries.empty())
    return;
  self_->send(cfg_.metrics, messages::metric_update{std::move(entries)});
}

void supervisor_core::shutdown_children(const caf::error& reason) {
  for (auto& child : children_) {
    ++child.generation;
    if (child.handle) {
      self_->demonitor(child.handle);
      self_->send_exit(child.handle, reason);
      child.handle = nullptr;
    }
    child.status = child_status::stopped;
  }
}

void supervisor_core::escalate(child_entry& child, const caf::error& reason) {
  auto& cfg = child.policy.config();
  monitoring::log_event(*logger_, config::log_level::error,
    "restart intensity exceeded, escalating",
    {{"supervisor", cfg_.name}, {"child", child.spec.name},
      {"exit_reason", to_string(reason)}, {"max_restarts", cfg.max_restarts},
      {"within_ms", cfg.within_ms}});
  send_metrics({messages::metric_entry{messages::metric_kind::counter_add,
    "supervisor_escalations_total", {{"supervisor", cfg_.name}}, 1.0}});
  auto err = make_error(
    supervision_errc::restart_intensity, caf::make_message(child.spec.name));
  shutdown_children(caf::exit_reason::user_shutdown);
  self_->quit(std::move(err));
}

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self,
  supervisor_config cfg, std::vector<child_spec> children) {
  auto& core = self->state.core;
  core.init(self, std::move(cfg));
  for (auto& spec : children)
    if (!core.add(std::move(spec)))
      monitoring::log_event(core.logger(), config::log_level::error,
        "duplicate or empty child spec", {{"supervisor", core.config().name}});
  return {
    [self](messages::restart_atom, const std::string& name,
      std::uint64_t generation) {
      self->state.core.handle_restart(name, generation);
    },
    [self](messages::park_atom, const std::string& name) {
      return self->state.core.park(name, "requested");
    },
    [self](messages::unpark_atom, const std::string& name) {
      return self->state.core.unpark(name);
    },
    [self](const std::string& key, caf::message& msg) {
      auto dest = self->state.core.route(key);
      if (!dest)
        return false;
      self->send(dest, std::move(msg));
      return true;
    },
  };
}

} // namespace csp::actors
