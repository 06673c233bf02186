#include "actors/processing_supervisor.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/make_message.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/system_messages.hpp"

#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"

namespace csp::actors {

namespace {

/// One shard's memory and the messages routed to it but not yet handled.
struct shard_slot {
  std::string name;
  std::shared_ptr<processing_shard_memory> memory;
  /// (sequence number, message), oldest first; message n is the n-th the
  /// shard handles, counted across incarnations by its memory.
  std::deque<std::pair<std::uint64_t, caf::message>> unhandled;
  std::uint64_t routed = 0;

  /// Drops what the shard has handled.
  void trim() {
    auto done = handled_messages(*memory);
    while (!unhandled.empty() && unhandled.front().first <= done)
      unhandled.pop_front();
  }
};

struct processing_supervisor_state {
  supervisor_core core;
  std::vector<shard_slot> slots;
  /// An exit request arrived: the shards are finishing their mailboxes.
  bool stopping = false;
  caf::error stop_reason;

  shard_slot* slot(std::string_view child) noexcept {
    for (auto& x : slots)
      if (x.name == child)
        return &x;
    return nullptr;
  }

  static inline const char* name = "processing_supervisor";
};

using self_pointer = caf::stateful_actor<processing_supervisor_state>*;

void forward(self_pointer self, shard_slot& slot, caf::message msg) {
  slot.trim();
  slot.unhandled.emplace_back(++slot.routed, msg);
  // While the shard restarts, the message waits in `unhandled`.
  if (auto dest = self->state.core.route(slot.name))
    self->send(dest, std::move(msg));
}

shard_slot& slot_of(
  self_pointer self, const std::string& exchange, const std::string& symbol) {
  auto& slots = self->state.slots;
  return slots[shard_of(exchange, symbol, slots.size())];
}

/// Quits once no shard runs any more (after an exit request).
void quit_when_drained(self_pointer self) {
  auto& st = self->state;
  for (const auto& child : st.core.children())
    if (child.handle)
      return;
  self->quit(st.stop_reason);
}

caf::behavior processing_supervisor(
  self_pointer self, processing_supervisor_options opts) {
  auto& init = self->state;
  init.core.init(self, std::move(opts.supervision));
  init.core.log_peer_errors();
  // A new incarnation first gets what its predecessor had not handled.
  init.core.on_spawn([self](const child_entry& child) {
    auto slot = self->state.slot(child.spec.name);
    if (slot == nullptr || !child.handle)
      return;
    slot->trim();
    if (!slot->unhandled.empty() && child.spawns > 1)
      monitoring::log_event(self->state.core.logger(), config::log_level::info,
        "replaying messages to a restarted shard",
        {{"supervisor", self->state.core.config().name},
          {"child", child.spec.name},
          {"messages", static_cast<std::int64_t>(slot->unhandled.size())}});
    for (const auto& entry : slot->unhandled)
      self->send(child.handle, entry.second);
  });
  // An exit request stops the shards after their mailboxes (what the
  // collectors sent is processed before the next stage goes).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.stopping)
      return;
    st.stopping = true;
    st.stop_reason = msg.reason;
    for (const auto& child : st.core.children())
      if (child.handle)
        self->send_exit(child.handle, caf::exit_reason::user_shutdown);
    quit_when_drained(self);
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    st.core.handle_down(msg);
    if (st.stopping)
      quit_when_drained(self);
  });
  auto spawn = opts.spawn_shard;
  if (!spawn)
    spawn = [](caf::local_actor* parent, processing_options o) {
      return spawn_processing_shard(parent, std::move(o));
    };
  auto shards = std::max<std::size_t>(1, opts.shards);
  init.slots.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i)
    init.slots.push_back(
      shard_slot{shard_name(i), make_processing_shard_memory(), {}, 0});
  for (auto& slot : init.slots) {
    auto shard_opts = opts.shard;
    shard_opts.memory = slot.memory;
    init.core.add(
      child_spec{slot.name, {}, [spawn, shard_opts](caf::local_actor* parent) {
                   return spawn(parent, shard_opts);
                 }});
  }
  return {
    [self](messages::trade_batch& batch) {
      auto& slot = slot_of(self, batch.exchange, batch.symbol);
      forward(self, slot, caf::make_message(std::move(batch)));
    },
    [self](messages::candle_batch& batch) {
      auto& slot = slot_of(self, batch.exchange, batch.symbol);
      forward(self, slot, caf::make_message(std::move(batch)));
    },
    [self](const messages::feed_status& fs) {
      auto& slots = self->state.slots;
      std::vector<messages::feed_status> parts(slots.size());
      for (const auto& symbol : fs.symbols)
        parts[shard_of(fs.exchange, symbol, slots.size())].symbols.push_back(
          symbol);
      for (std::size_t i = 0; i < slots.size(); ++i) {
        if (parts[i].symbols.empty())
          continue;
        auto part = fs;
        part.symbols = std::move(parts[i].symbols);
        forward(self, slots[i], caf::make_message(std::move(part)));
      }
    },
    [self](caf::get_atom, const std::string& name) {
      return self->state.core.route(name);
    },
    [self](messages::restart_atom, const std::string& name,
      std::uint64_t generation) {
      self->state.core.handle_restart(name, generation);
    },
  };
}

} // namespace

std::size_t shard_of(
  std::string_view exchange, std::string_view symbol, std::size_t shards) {
  if (shards <= 1)
    return 0;
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(exchange);
  mix("/");
  mix(symbol);
  return static_cast<std::size_t>(h % shards);
}

std::string shard_name(std::size_t index) {
  return "shard-" + std::to_string(index);
}

caf::actor spawn_processing_supervisor(
  caf::actor_system& sys, processing_supervisor_options opts) {
  return sys.spawn(processing_supervisor, std::move(opts));
}

} // namespace csp::actors
