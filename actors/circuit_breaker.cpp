#include "actors/circuit_breaker.hpp"

#include <cmath>
#include <utility>

namespace csp::actors {

using messages::circuit_state;

std::string circuit_breaker_config::validate() const {
  if (failure_threshold < 1)
    return "failure_threshold must be at least 1";
  if (success_threshold < 1)
    return "success_threshold must be at least 1";
  if (open_timeout_ms <= 0)
    return "open_timeout_ms must be positive";
  if (max_open_timeout_ms <= 0)
    return "max_open_timeout_ms must be positive";
  if (max_open_timeout_ms < open_timeout_ms)
    return "max_open_timeout_ms must not be below open_timeout_ms";
  if (!std::isfinite(timeout_multiplier) || timeout_multiplier < 1.0)
    return "timeout_multiplier must be a finite number >= 1";
  return {};
}

circuit_breaker::circuit_breaker(
  std::string collector, circuit_breaker_config cfg, sink_type sink)
    : collector_(std::move(collector)), cfg_(cfg), sink_(std::move(sink)),
      timeout_ms_(cfg.open_timeout_ms) {
  // Nothing else: a new breaker is closed with the base timeout.
}

bool circuit_breaker::allow_request(std::int64_t now_ms) {
  return poll(now_ms) != circuit_state::open;
}

circuit_state circuit_breaker::poll(std::int64_t now_ms) {
  if (state_ == circuit_state::open && now_ms >= half_open_at_ms()) {
    consecutive_successes_ = 0;
    transition(circuit_state::half_open, "open_timeout", now_ms);
  }
  return state_;
}

void circuit_breaker::record_success(std::int64_t now_ms) {
  ++total_successes_;
  switch (state_) {
    case circuit_state::closed:
      consecutive_failures_ = 0;
      break;
    case circuit_state::open:
      break;
    case circuit_state::half_open:
      if (++consecutive_successes_ >= cfg_.success_threshold) {
        consecutive_successes_ = 0;
        consecutive_failures_ = 0;
        timeout_ms_ = cfg_.open_timeout_ms;
        transition(circuit_state::closed, "success_threshold", now_ms);
      }
      break;
  }
}

void circuit_breaker::record_failure(std::int64_t now_ms) {
  ++total_failures_;
  switch (state_) {
    case circuit_state::closed:
      if (++consecutive_failures_ >= cfg_.failure_threshold)
        open("failure_threshold", now_ms);
      break;
    case circuit_state::open:
      break;
    case circuit_state::half_open:
      timeout_ms_ = next_timeout();
      open("half_open_failure", now_ms);
      break;
  }
}

void circuit_breaker::force_open(std::int64_t now_ms) {
  if (state_ != circuit_state::open)
    open("forced_open", now_ms);
}

void circuit_breaker::reset(std::int64_t now_ms) {
  consecutive_failures_ = 0;
  consecutive_successes_ = 0;
  timeout_ms_ = cfg_.open_timeout_ms;
  if (state_ != circuit_state::closed)
    transition(circuit_state::closed, "reset", now_ms);
}

void circuit_breaker::open(const char* reason, std::int64_t now_ms) {
  consecutive_failures_ = 0;
  consecutive_successes_ = 0;
  opened_at_ms_ = now_ms;
  transition(circuit_state::open, reason, now_ms);
}

std::int64_t circuit_breaker::next_timeout() const noexcept {
  auto cap = cfg_.max_open_timeout_ms;
  auto scaled = static_cast<double>(timeout_ms_) * cfg_.timeout_multiplier;
  // Compare in double before converting so a huge product cannot overflow.
  if (scaled >= static_cast<double>(cap))
    return cap;
  return static_cast<std::int64_t>(std::llround(scaled));
}

void circuit_breaker::transition(
  circuit_state to, const char* reason, std::int64_t now_ms) {
  auto from = state_;
  state_ = to;
  ++total_transitions_;
  if (!sink_)
    return;
  messages::circuit_transition ev;
  ev.collector = collector_;
  ev.from = from;
  ev.to = to;
  ev.reason = reason;
  ev.time_ms = now_ms;
  ev.open_timeout_ms = to == circuit_state::open ? timeout_ms_ : 0;
  sink_(ev);
}

} // namespace csp::actors
