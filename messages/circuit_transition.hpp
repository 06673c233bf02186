#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace csp::messages {

/// Circuit-breaker states; the numeric values are the values of the
/// circuit_breaker_state gauge.
enum class circuit_state : std::uint8_t { closed = 0, open = 1, half_open = 2 };

/// Label values: "closed", "open", "half_open".
constexpr std::string_view to_string(circuit_state s) noexcept {
  switch (s) {
    case circuit_state::closed:
      return "closed";
    case circuit_state::open:
      return "open";
    case circuit_state::half_open:
      return "half_open";
  }
  return "?";
}

/// One state change of a collector's circuit breaker, reported to the
/// collector's supervisor as a supervision event.
struct circuit_transition {
  /// Collector name, the `collector` label (e.g. "binance-0").
  std::string collector;
  circuit_state from = circuit_state::closed;
  circuit_state to = circuit_state::closed;
  /// Why: "failure_threshold", "open_timeout", "success_threshold",
  /// "half_open_failure", "reset".
  std::string reason;
  /// When, ms since the epoch (UTC).
  std::int64_t time_ms = 0;
  /// For a transition to open: how long it stays open before half-open.
  std::int64_t open_timeout_ms = 0;

  friend bool operator==(
    const circuit_transition& x, const circuit_transition& y) {
    return x.collector == y.collector && x.from == y.from && x.to == y.to
      && x.reason == y.reason && x.time_ms == y.time_ms
      && x.open_timeout_ms == y.open_timeout_ms;
  }
  friend bool operator!=(
    const circuit_transition& x, const circuit_transition& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
