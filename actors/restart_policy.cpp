#include "actors/restart_policy.hpp"

#include <cmath>
#include <memory>
#include <random>
#include <utility>

namespace csp::actors {

std::string restart_policy_config::validate() const {
  if (initial_backoff_ms < 0)
    return "initial_backoff_ms must not be negative";
  if (max_backoff_ms < initial_backoff_ms)
    return "max_backoff_ms must not be below initial_backoff_ms";
  if (!std::isfinite(multiplier) || multiplier < 1.0)
    return "multiplier must be a finite number >= 1";
  if (!std::isfinite(jitter) || jitter < 0.0 || jitter >= 1.0)
    return "jitter must be in [0, 1)";
  if (max_restarts < 0)
    return "max_restarts must not be negative";
  if (within_ms <= 0)
    return "within_ms must be positive";
  if (reset_after_ms <= 0)
    return "reset_after_ms must be positive";
  return {};
}

restart_policy::restart_policy(
  restart_policy_config cfg, uniform_source uniform)
    : cfg_(cfg), uniform_(std::move(uniform)) {
  // Nothing else: no restart yet.
}

void restart_policy::on_start(std::int64_t now_ms) noexcept {
  started_at_ms_ = now_ms;
  started_ = true;
}

restart_decision restart_policy::on_exit(std::int64_t now_ms) {
  // A child that stayed up long enough starts a new backoff sequence.
  if (started_ && now_ms - started_at_ms_ >= cfg_.reset_after_ms)
    attempt_ = 0;
  started_ = false;
  // Forget restarts that left the intensity window (now - within, now].
  while (!restarts_.empty() && restarts_.front() <= now_ms - cfg_.within_ms)
    restarts_.pop_front();
  restart_decision result;
  if (restarts_.size() >= static_cast<std::size_t>(cfg_.max_restarts)) {
    result.what = restart_decision::action::escalate;
    return result;
  }
  restarts_.push_back(now_ms);
  ++attempt_;
  ++total_restarts_;
  auto delay = static_cast<double>(base_delay(attempt_));
  if (cfg_.jitter > 0.0 && uniform_)
    delay *= 1.0 + cfg_.jitter * (2.0 * uniform_() - 1.0);
  result.what = restart_decision::action::restart;
  result.delay_ms = static_cast<std::int64_t>(std::llround(delay));
  result.attempt = attempt_;
  return result;
}

std::int64_t restart_policy::base_delay(int attempt) const noexcept {
  auto cap = static_cast<double>(cfg_.max_backoff_ms);
  auto delay = static_cast<double>(cfg_.initial_backoff_ms);
  for (int i = 1; i < attempt && delay < cap; ++i)
    delay *= cfg_.multiplier;
  if (delay >= cap)
    return cfg_.max_backoff_ms;
  return static_cast<std::int64_t>(std::llround(delay));
}

restart_policy::uniform_source make_seeded_uniform(std::uint64_t seed) {
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine] {
    return std::uniform_real_distribution<double>{0.0, 1.0}(*engine);
  };
}

} // namespace csp::actors
