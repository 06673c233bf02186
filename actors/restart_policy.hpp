#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

namespace csp::actors {

/// Tuning of a restart_policy. All durations are in milliseconds.
struct restart_policy_config {
  /// Delay before the first restart of a child.
  std::int64_t initial_backoff_ms = 1000;
  /// Upper bound of the delay before jitter.
  std::int64_t max_backoff_ms = 60000;
  /// Factor applied to the delay on every further restart.
  double multiplier = 2.0;
  /// Relative jitter: the delay is spread uniformly over
  /// [d * (1 - jitter), d * (1 + jitter)). 0 disables jitter.
  double jitter = 0.2;
  /// Restarts allowed within `within_ms`; one more exit escalates.
  int max_restarts = 5;
  /// Length of the restart-intensity window.
  std::int64_t within_ms = 60000;
  /// A child that stayed up at least this long starts again from
  /// `initial_backoff_ms`.
  std::int64_t reset_after_ms = 30000;

  /// Returns an empty string when the configuration is usable, otherwise a
  /// description of the first problem found.
  std::string validate() const;
};

/// What a supervisor does after a child exited abnormally.
struct restart_decision {
  /// The two possible reactions.
  enum class action : std::uint8_t { restart = 0, escalate = 1 };
  action what = action::restart;
  /// Delay before the restart (0 for escalate).
  std::int64_t delay_ms = 0;
  /// 1 for the first restart of a backoff sequence, 2 for the next...
  int attempt = 0;
};

/// The restart logic of one supervised child: exponential backoff with
/// jitter between restarts, a restart-intensity limit (more than
/// `max_restarts` exits within `within_ms` escalate) and a backoff reset
/// once the child has stayed up for `reset_after_ms`.
///
/// The k-th restart of a sequence (k = 1, 2, ...) waits
/// b = min(initial * multiplier^(k-1), max) scaled by
/// (1 + jitter * (2u - 1)), u drawn from the injected uniform source in
/// [0, 1), rounded to the nearest millisecond. Time is always passed in;
/// the class never reads a clock.
class restart_policy {
public:
  /// Source of uniform numbers in [0, 1).
  using uniform_source = std::function<double()>;

  /// Creates a policy. The config must be valid (see validate); `uniform`
  /// may be empty when `cfg.jitter` is 0.
  explicit restart_policy(
    restart_policy_config cfg = {}, uniform_source uniform = nullptr);

  /// Records that the child (re)started at `now_ms`.
  void on_start(std::int64_t now_ms) noexcept;

  /// Decides what to do about an abnormal exit of the child at `now_ms`.
  /// A restart decision counts as a restart in the intensity window.
  restart_decision on_exit(std::int64_t now_ms);

  /// Returns the restarts decided since construction.
  std::uint64_t total_restarts() const noexcept { return total_restarts_; }

  /// Returns the restarts inside the current backoff sequence.
  int attempt() const noexcept { return attempt_; }

  /// Returns the configuration.
  const restart_policy_config& config() const noexcept { return cfg_; }

private:
  std::int64_t base_delay(int attempt) const noexcept;

  restart_policy_config cfg_;
  uniform_source uniform_;
  std::deque<std::int64_t> restarts_;
  std::int64_t started_at_ms_ = 0;
  bool started_ = false;
  int attempt_ = 0;
  std::uint64_t total_restarts_ = 0;
};

/// Returns a uniform source in [0, 1) from a 64-bit Mersenne twister seeded
/// with `seed`, so that jitter is reproducible.
restart_policy::uniform_source make_seeded_uniform(std::uint64_t seed);

} // namespace csp::actors
