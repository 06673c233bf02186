#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace csp::messages {

/// Outcome of one attempt of a collector to do its work.
enum class collector_outcome : std::uint8_t { success = 0, failure = 1 };

/// Label values: "success", "failure".
constexpr std::string_view to_string(collector_outcome x) noexcept {
  return x == collector_outcome::success ? "success" : "failure";
}

/// A collector tells its supervisor how an attempt went: a connection (or
/// poll) that worked, or one that failed. The supervisor feeds these to the
/// collector's circuit breaker, whose transitions are supervision events.
struct collector_event {
  /// Collector name, the `collector` label (e.g. "binance-0").
  std::string collector;
  collector_outcome outcome = collector_outcome::success;
  /// What happened, e.g. "connected", "handshake_failed", "stalled".
  std::string reason;
  /// When, ms since the epoch (UTC).
  std::int64_t time_ms = 0;

  friend bool operator==(const collector_event& x, const collector_event& y) {
    return x.collector == y.collector && x.outcome == y.outcome
      && x.reason == y.reason && x.time_ms == y.time_ms;
  }
  friend bool operator!=(const collector_event& x, const collector_event& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
