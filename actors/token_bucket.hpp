#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace csp::actors {

/// Tuning of a token_bucket.
struct token_bucket_config {
  /// Most tokens the bucket holds (the burst size).
  std::int64_t capacity = 1;
  /// Tokens added per second. Resolved to 0.001 tokens per second.
  double refill_per_second = 1.0;

  /// Returns an empty string when the configuration is usable, otherwise a
  /// description of the first problem found.
  std::string validate() const;
};

/// Result of token_bucket::acquire.
enum class acquire_status {
  /// The tokens were taken.
  acquired,
  /// Not enough tokens yet; retry_after_ns tells how long to wait.
  insufficient,
  /// More tokens than the capacity (or a negative count) were asked for:
  /// no amount of waiting will help.
  exceeds_capacity,
};

/// A token-bucket rate limiter with exact integer arithmetic.
///
/// Time is passed in as nanoseconds (any monotonic origin, typically
/// steady_clock or the Unix epoch); the class never reads a clock. Internally
/// one token is 10^12 units and the rate is kept in milli-tokens per second,
/// so one nanosecond adds exactly `rate_milli` units: refilling is exact, and
/// the level after a run of many small steps equals the level after one step
/// of the same total length (no floating-point drift). Time going backwards
/// adds nothing, and the bucket never holds more than `capacity` tokens.
class token_bucket {
public:
  /// Units per token.
  static constexpr std::int64_t units_per_token = 1'000'000'000'000;

  /// Creates a full bucket at time `now_ns`. The config must be valid.
  token_bucket(token_bucket_config cfg, std::int64_t now_ns);

  /// Takes `n` tokens at `now_ns` if available and says what happened.
  /// Taking zero tokens always succeeds.
  acquire_status acquire(std::int64_t n, std::int64_t now_ns);

  /// Takes `n` tokens at `now_ns` if available; returns whether it did.
  bool try_acquire(std::int64_t n, std::int64_t now_ns) {
    return acquire(n, now_ns) == acquire_status::acquired;
  }

  /// Returns the nanoseconds to wait from `now_ns` until `n` tokens are
  /// available (0 when they are available now), or nullopt when `n` exceeds
  /// the capacity or is negative. Exact: try_acquire(n, now + result)
  /// succeeds and try_acquire(n, now + result - 1) fails, absent other use.
  std::optional<std::int64_t> retry_after_ns(
    std::int64_t n, std::int64_t now_ns) const;

  /// Returns retry_after_ns rounded up to whole seconds (HTTP Retry-After).
  std::optional<std::int64_t> retry_after_seconds(
    std::int64_t n, std::int64_t now_ns) const;

  /// Returns the whole tokens available at `now_ns`.
  std::int64_t available(std::int64_t now_ns) const;

  /// Removes every token at `now_ns`, e.g. after the peer answered 429.
  void drain(std::int64_t now_ns);

  /// Returns the capacity in tokens.
  std::int64_t capacity() const noexcept { return cfg_.capacity; }

  /// Returns the refill rate in milli-tokens per second as used internally.
  std::int64_t rate_milli_per_second() const noexcept { return rate_milli_; }

private:
  __extension__ using int128 = __int128;

  int128 level_at(std::int64_t now_ns) const;

  void refill(std::int64_t now_ns);

  token_bucket_config cfg_;
  std::int64_t rate_milli_;
  int128 capacity_units_;
  int128 level_;
  std::int64_t last_ns_;
};

} // namespace csp::actors
