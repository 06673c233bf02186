#pragma once

// The processing subtree: N processing shards under a supervisor that is
// also the collectors' sink. Every instrument maps to one shard (a stable
// hash of exchange and symbol); a crashed shard is restarted with backoff
// and loses nothing: it works in a memory the supervisor keeps, and the
// supervisor replays the messages it had not handled yet.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "actors/processing_shard.hpp"
#include "actors/supervisor.hpp"

namespace csp::actors {

/// Settings of the processing subtree.
struct processing_supervisor_options {
  /// Number of shards (>= 1).
  std::size_t shards = 1;
  /// Template of every shard's settings (the memory is set per shard).
  processing_options shard;
  /// Restart policy, jitter seed, metrics actor and clock; the name
  /// defaults to "processing_supervisor".
  supervisor_config supervision = default_supervision();
  /// Spawns one shard; empty: spawn_processing_shard. Tests put a wrapper
  /// here.
  std::function<caf::actor(caf::local_actor* parent, processing_options)>
    spawn_shard;

  /// Supervision settings named "processing_supervisor".
  static supervisor_config default_supervision() {
    supervisor_config result;
    result.name = "processing_supervisor";
    return result;
  }
};

/// Returns the shard (0 .. shards - 1) of an instrument: FNV-1a (64 bit) of
/// "exchange/symbol" modulo `shards`, the same on every run and machine.
std::size_t shard_of(
  std::string_view exchange, std::string_view symbol, std::size_t shards);

/// Returns the child name of shard `index`: "shard-<index>".
std::string shard_name(std::size_t index);

/// Spawns the processing supervisor with its shards ("shard-0" ...).
///
/// Messages:
/// - `trade_batch`, `candle_batch`: forwarded to the shard of the
///   instrument; `feed_status`: split by shard, each part to its shard.
///   Every forwarded message is kept (shared, not copied) until the shard
///   has handled it (processing_shard_memory counts them).
/// - `(caf::get_atom, std::string name)` -> caf::actor: the running shard
///   of that name, or an invalid handle (for fault injection in tests).
/// - `(restart_atom, std::string, std::uint64_t)`: its own backoff timers.
///
/// A shard that exits abnormally is restarted after the restart policy's
/// backoff with the same memory (instruments, forming bars, indicator
/// series, quality windows, unsent closed bars, metric deltas), and the
/// messages it had not handled are sent to the new incarnation, in order,
/// before anything newer; meanwhile messages for it are held. At the
/// restart-intensity limit the supervisor stops every shard and quits with
/// `supervision_errc::restart_intensity`. On exit it stops its shards.
caf::actor spawn_processing_supervisor(
  caf::actor_system& sys, processing_supervisor_options opts);

} // namespace csp::actors
