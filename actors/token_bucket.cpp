#include "actors/token_bucket.hpp"

#include <cmath>
#include <limits>

namespace csp::actors {

namespace {

constexpr double max_rate_per_second = 1e12;
constexpr std::int64_t max_capacity = 1'000'000'000'000'000;

} // namespace

std::string token_bucket_config::validate() const {
  if (capacity < 1)
    return "capacity must be at least 1";
  if (capacity > max_capacity)
    return "capacity must not exceed 1e15";
  if (!std::isfinite(refill_per_second) || refill_per_second <= 0.0)
    return "refill_per_second must be a positive finite number";
  if (refill_per_second > max_rate_per_second)
    return "refill_per_second must not exceed 1e12";
  if (std::llround(refill_per_second * 1000.0) < 1)
    return "refill_per_second must be at least 0.001";
  return {};
}

token_bucket::token_bucket(token_bucket_config cfg, std::int64_t now_ns)
    : cfg_(cfg), rate_milli_(std::llround(cfg.refill_per_second * 1000.0)),
      capacity_units_(static_cast<int128>(cfg.capacity) * units_per_token),
      level_(capacity_units_), last_ns_(now_ns) {
  // The bucket starts full.
}

token_bucket::int128 token_bucket::level_at(std::int64_t now_ns) const {
  if (now_ns <= last_ns_)
    return level_;
  auto missing = capacity_units_ - level_;
  // Elapsed time beyond what fills the bucket is irrelevant; clamping it
  // first keeps the product far from overflow.
  auto elapsed = static_cast<int128>(now_ns) - last_ns_;
  auto fill_ns = missing / rate_milli_ + 1;
  if (elapsed >= fill_ns)
    return capacity_units_;
  return level_ + elapsed * rate_milli_;
}

void token_bucket::refill(std::int64_t now_ns) {
  level_ = level_at(now_ns);
  if (now_ns > last_ns_)
    last_ns_ = now_ns;
}

acquire_status token_bucket::acquire(std::int64_t n, std::int64_t now_ns) {
  if (n < 0 || n > cfg_.capacity)
    return acquire_status::exceeds_capacity;
  refill(now_ns);
  auto need = static_cast<int128>(n) * units_per_token;
  if (need > level_)
    return acquire_status::insufficient;
  level_ -= need;
  return acquire_status::acquired;
}

std::optional<std::int64_t> token_bucket::retry_after_ns(
  std::int64_t n, std::int64_t now_ns) const {
  if (n < 0 || n > cfg_.capacity)
    return std::nullopt;
  auto need = static_cast<int128>(n) * units_per_token - level_at(now_ns);
  if (need <= 0)
    return std::int64_t{0};
  auto wait = (need + rate_milli_ - 1) / rate_milli_;
  // If the clock went backwards, tokens only start to flow again once it
  // passes the last time seen.
  if (now_ns < last_ns_)
    wait += static_cast<int128>(last_ns_) - now_ns;
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  return wait > max ? max : static_cast<std::int64_t>(wait);
}

std::optional<std::int64_t> token_bucket::retry_after_seconds(
  std::int64_t n, std::int64_t now_ns) const {
  auto ns = retry_after_ns(n, now_ns);
  if (!ns)
    return std::nullopt;
  constexpr std::int64_t ns_per_s = 1'000'000'000;
  return *ns / ns_per_s + (*ns % ns_per_s != 0 ? 1 : 0);
}

std::int64_t token_bucket::available(std::int64_t now_ns) const {
  return static_cast<std::int64_t>(level_at(now_ns) / units_per_token);
}

void token_bucket::drain(std::int64_t now_ns) {
  refill(now_ns);
  level_ = 0;
}

} // namespace csp::actors
