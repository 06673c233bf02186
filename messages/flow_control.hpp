#pragma once

#include <cstdint>
#include <string>

namespace csp::messages {

/// Back-pressure signal from a sink to its producers: the storage
/// supervisor sends paused=true when the rows it has handed to its writers
/// and not yet seen written (or spooled) reach the high-water mark, and
/// paused=false once they fall to the low-water mark. Producers that can
/// wait (the WebSocket collectors) stop reading meanwhile, for a bounded
/// time.
struct flow_control {
  /// True: slow down (stop reading); false: go on.
  bool paused = false;
  /// Why, e.g. "storage_inflight_high" or "storage_inflight_low".
  std::string reason;
  /// Rows in flight when the signal was sent.
  std::int64_t inflight_rows = 0;
  /// When it was sent, ms since the epoch (UTC).
  std::int64_t time_ms = 0;

  friend bool operator==(const flow_control& x, const flow_control& y) {
    return x.paused == y.paused && x.reason == y.reason
      && x.inflight_rows == y.inflight_rows && x.time_ms == y.time_ms;
  }
  friend bool operator!=(const flow_control& x, const flow_control& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
