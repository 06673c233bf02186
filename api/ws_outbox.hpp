#pragma once

// The outgoing queue of one WebSocket connection, with conflation of
// forming-bar updates. Pure and single-threaded; time is a parameter.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace csp::api {

/// One message text, shared by every outbox (and socket queue) it goes to:
/// a bar update is rendered once and fanned out without copies.
using ws_payload = std::shared_ptr<const std::string>;

/// Limits of one connection's outbox.
struct outbox_options {
  /// Least time between two forming-bar updates of one subscription.
  std::int64_t forming_interval_ms = 1000;
  /// Most messages that must not be dropped (acks, snapshots, errors,
  /// closed bars) waiting before the client counts as a slow consumer.
  std::size_t max_pending = 256;
};

/// Per-connection outgoing queue. Messages that must never be dropped wait
/// in arrival order; forming-bar updates are conflated per subscription:
/// only the newest waits, and one is handed out at most once per
/// `forming_interval_ms` (the first at once, later ones when the interval
/// has passed since the previous one, always the newest).
class ws_outbox {
public:
  explicit ws_outbox(outbox_options options);

  /// Queues a message that must never be dropped (ack, snapshot, error).
  /// Returns false when more than `max_pending` such messages wait: the
  /// caller disconnects the client as a slow consumer.
  bool push_reliable(ws_payload payload);

  /// Same, for a message of this client alone.
  bool push_reliable(std::string payload) {
    return push_reliable(
      std::make_shared<const std::string>(std::move(payload)));
  }

  /// Queues the closed bar of subscription `sub` opening at
  /// `open_time_ms`, like push_reliable. A waiting forming update of `sub`
  /// opening at or before `open_time_ms` is dropped: the closed bar
  /// supersedes it.
  bool push_closed(
    std::uint64_t sub, std::int64_t open_time_ms, ws_payload payload);

  /// Same, for a message of this client alone.
  bool push_closed(
    std::uint64_t sub, std::int64_t open_time_ms, std::string payload) {
    return push_closed(sub, open_time_ms,
      std::make_shared<const std::string>(std::move(payload)));
  }

  /// Offers a forming-bar update of `sub`. It replaces a waiting one
  /// (counted in conflated()); it is dropped (counted in dropped_stale())
  /// when its bar opens at or before a closed bar already queued or sent
  /// for `sub`, or before the waiting update's bar.
  void push_forming(std::uint64_t sub, std::int64_t open_time_ms,
    ws_payload payload, std::int64_t now_ms);

  /// Same, for a message of this client alone.
  void push_forming(std::uint64_t sub, std::int64_t open_time_ms,
    std::string payload, std::int64_t now_ms) {
    push_forming(sub, open_time_ms,
      std::make_shared<const std::string>(std::move(payload)), now_ms);
  }

  /// Up to `max` payloads ready at `now_ms`: waiting reliable and closed
  /// ones first in arrival order, then due forming updates, longest due
  /// first (ties by subscription).
  std::vector<ws_payload> take(std::size_t max, std::int64_t now_ms);

  /// When the earliest waiting forming update becomes due (possibly in the
  /// past), or nullopt when none waits. Reliable messages are always due.
  std::optional<std::int64_t> next_due_ms() const;

  /// Messages waiting: reliable and closed ones plus forming updates.
  std::size_t pending() const noexcept;

  /// Forming updates replaced by newer ones before they were sent.
  std::uint64_t conflated() const noexcept { return conflated_; }

  /// Forming updates dropped because a closed bar or a newer bar of the
  /// same subscription superseded them.
  std::uint64_t dropped_stale() const noexcept { return dropped_stale_; }

  /// Forgets the forming state of `sub` (it was unsubscribed): its waiting
  /// forming update, its send time and its newest closed bar. Reliable
  /// messages already queued stay.
  void drop(std::uint64_t sub);

private:
  struct subscription {
    /// Open time of the newest closed bar queued or sent.
    std::optional<std::int64_t> closed_open_ms;
    /// When the last forming update was handed out.
    std::optional<std::int64_t> last_sent_ms;
    /// The waiting forming update, if any.
    ws_payload held;
    std::int64_t held_open_ms = 0;
    /// When the waiting update (or the one it replaced) arrived.
    std::int64_t held_since_ms = 0;

    std::int64_t due_ms(std::int64_t interval) const noexcept {
      return last_sent_ms && *last_sent_ms + interval > held_since_ms
        ? *last_sent_ms + interval
        : held_since_ms;
    }
  };

  outbox_options options_;
  std::deque<ws_payload> reliable_;
  std::map<std::uint64_t, subscription> subs_;
  std::size_t held_count_ = 0;
  std::uint64_t conflated_ = 0;
  std::uint64_t dropped_stale_ = 0;
};

} // namespace csp::api
