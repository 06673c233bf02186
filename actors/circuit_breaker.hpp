#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "messages/circuit_transition.hpp"

namespace csp::actors {

/// Tuning of a circuit_breaker. All durations are in milliseconds.
struct circuit_breaker_config {
  /// Consecutive failures in closed state that open the circuit.
  int failure_threshold = 5;
  /// How long the circuit stays open the first time it opens.
  std::int64_t open_timeout_ms = 60000;
  /// Consecutive successes in half-open state that close the circuit.
  int success_threshold = 2;
  /// Upper bound of the open timeout after repeated half-open failures.
  std::int64_t max_open_timeout_ms = 300000;
  /// Factor applied to the open timeout on every half-open failure.
  double timeout_multiplier = 2.0;

  /// Returns an empty string when the configuration is usable, otherwise a
  /// description of the first problem found.
  std::string validate() const;
};

/// The closed → open → half-open → closed state machine guarding a collector.
///
/// - closed: requests pass. `failure_threshold` consecutive failures open the
///   circuit (reason "failure_threshold"); a success resets the count.
/// - open: `allow_request` refuses until `now >= opened_at + timeout`; the
///   first call of `allow_request` or `poll` at or after that instant moves
///   the circuit to half-open (reason "open_timeout").
/// - half_open: requests pass. `success_threshold` consecutive successes
///   close the circuit (reason "success_threshold") and restore the base
///   timeout; any failure re-opens it (reason "half_open_failure") with the
///   timeout multiplied by `timeout_multiplier`, capped at
///   `max_open_timeout_ms`.
///
/// Outcomes reported while open are counted in the totals but change no
/// state. Time is always passed in (ms since the epoch); the class never reads
/// a clock. Every transition is handed to the sink; the success and failure
/// paths without a transition do not allocate.
class circuit_breaker {
public:
  /// Receives every state change.
  using sink_type = std::function<void(const messages::circuit_transition&)>;

  /// Creates a closed breaker for the collector `collector`. The config must
  /// be valid (see circuit_breaker_config::validate).
  explicit circuit_breaker(std::string collector,
    circuit_breaker_config cfg = {}, sink_type sink = nullptr);

  /// Replaces the transition sink.
  void set_sink(sink_type sink) { sink_ = std::move(sink); }

  /// Returns whether a request may be made at `now_ms`. In open state this
  /// moves the circuit to half-open once the open timeout has elapsed.
  bool allow_request(std::int64_t now_ms);

  /// Applies the open timeout at `now_ms` without asking for a request:
  /// moves open to half-open when due. Returns the state afterwards.
  messages::circuit_state poll(std::int64_t now_ms);

  /// Records a successful call (or connection) at `now_ms`.
  void record_success(std::int64_t now_ms);

  /// Records a failed call (or connection) at `now_ms`.
  void record_failure(std::int64_t now_ms);

  /// Opens the circuit by operator decision (reason "forced_open") with the
  /// current timeout. Does nothing when already open.
  void force_open(std::int64_t now_ms);

  /// Closes the circuit by operator decision (reason "reset"), clears the
  /// consecutive counts and restores the base timeout. Reports a transition
  /// only when the circuit was not closed.
  void reset(std::int64_t now_ms);

  /// Returns the current state.
  messages::circuit_state state() const noexcept { return state_; }

  /// Returns how long the circuit stays (or would stay) open.
  std::int64_t open_timeout_ms() const noexcept { return timeout_ms_; }

  /// Returns when the open circuit becomes half-open; meaningful only in
  /// open state.
  std::int64_t half_open_at_ms() const noexcept {
    return opened_at_ms_ + timeout_ms_;
  }

  /// Returns the consecutive failures counted in closed state.
  int consecutive_failures() const noexcept { return consecutive_failures_; }

  /// Returns the consecutive successes counted in half-open state.
  int consecutive_successes() const noexcept { return consecutive_successes_; }

  /// Returns every failure ever recorded (circuit_breaker_failures_total).
  std::uint64_t total_failures() const noexcept { return total_failures_; }

  /// Returns every success ever recorded (circuit_breaker_successes_total).
  std::uint64_t total_successes() const noexcept { return total_successes_; }

  /// Returns the number of transitions (circuit_breaker_transitions_total).
  std::uint64_t total_transitions() const noexcept {
    return total_transitions_;
  }

  /// Returns the collector name used in transitions.
  const std::string& collector() const noexcept { return collector_; }

  /// Returns the configuration.
  const circuit_breaker_config& config() const noexcept { return cfg_; }

private:
  void transition(
    messages::circuit_state to, const char* reason, std::int64_t now_ms);

  void open(const char* reason, std::int64_t now_ms);

  std::int64_t next_timeout() const noexcept;

  std::string collector_;
  circuit_breaker_config cfg_;
  sink_type sink_;
  messages::circuit_state state_ = messages::circuit_state::closed;
  int consecutive_failures_ = 0;
  int consecutive_successes_ = 0;
  std::int64_t timeout_ms_;
  std::int64_t opened_at_ms_ = 0;
  std::uint64_t total_failures_ = 0;
  std::uint64_t total_successes_ = 0;
  std::uint64_t total_transitions_ = 0;
};

} // namespace csp::actors
