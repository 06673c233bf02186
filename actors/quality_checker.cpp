#include "actors/quality_checker.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace csp::actors {

namespace {

bool positive_finite(double x) {
  return std::isfinite(x) && x > 0.0;
}

std::int64_t floor_div(std::int64_t x, std::int64_t y) noexcept {
  auto q = x / y;
  return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q;
}

long long ll(std::int64_t x) noexcept {
  return static_cast<long long>(x);
}

} // namespace

// -- config -------------------------------------------------------------------

std::string quality_checker_config::validate() const {
  if (window_ms <= 0)
    return "window_ms must be positive";
  if (bucket_ms <= 0)
    return "bucket_ms must be positive";
  if (window_ms % bucket_ms != 0)
    return "bucket_ms must divide window_ms";
  if (window_ms / bucket_ms > 100000)
    return "window_ms / bucket_ms must not exceed 100000";
  if (max_age_ms <= 0)
    return "max_age_ms must be positive";
  if (price_window < 2)
    return "price_window must be at least 2";
  if (price_min_samples < 2 || price_min_samples > price_window)
    return "price_min_samples must be in [2, price_window]";
  if (!positive_finite(price_z_threshold))
    return "price_z_threshold must be positive";
  if (!positive_finite(price_move_percent))
    return "price_move_percent must be positive";
  if (!std::isfinite(min_return_stddev) || min_return_stddev < 0.0)
    return "min_return_stddev must not be negative";
  if (volume_window < 2)
    return "volume_window must be at least 2";
  if (!positive_finite(volume_z_threshold))
    return "volume_z_threshold must be positive";
  if (!std::isfinite(min_volume_stddev_fraction)
    || min_volume_stddev_fraction < 0.0)
    return "min_volume_stddev_fraction must not be negative";
  if (max_skew_ms <= 0)
    return "max_skew_ms must be positive";
  if (max_recent_issues < 1)
    return "max_recent_issues must be at least 1";
  if (max_tracked_gaps < 1)
    return "max_tracked_gaps must be at least 1";
  for (auto w : weights)
    if (!std::isfinite(w) || w < 0.0)
      return "weights must be finite and not negative";
  return {};
}

// -- rolling_stats ------------------------------------------------------------

rolling_stats::rolling_stats(std::size_t capacity)
    : buf_(std::max<std::size_t>(capacity, 1), 0.0) {
  // Values are written on push.
}

void rolling_stats::push(double x) noexcept {
  if (size_ == buf_.size()) {
    auto old = buf_[head_];
    sum_ -= old;
    sum_sq_ -= old * old;
  } else {
    ++size_;
  }
  buf_[head_] = x;
  sum_ += x;
  sum_sq_ += x * x;
  head_ = head_ + 1 == buf_.size() ? 0 : head_ + 1;
  if (++pushes_since_recompute_ >= buf_.size())
    recompute();
}

void rolling_stats::recompute() noexcept {
  pushes_since_recompute_ = 0;
  double sum = 0;
  double sum_sq = 0;
  // The held values are the `size_` slots before head_ (all slots when full).
  for (std::size_t i = 0; i < size_; ++i) {
    auto x = buf_[(head_ + buf_.size() - 1 - i) % buf_.size()];
    sum += x;
    sum_sq += x * x;
  }
  sum_ = sum;
  sum_sq_ = sum_sq;
}

double rolling_stats::mean() const noexcept {
  return size_ == 0 ? 0.0 : sum_ / static_cast<double>(size_);
}

double rolling_stats::stddev() const noexcept {
  if (size_ == 0)
    return 0.0;
  auto n = static_cast<double>(size_);
  auto m = sum_ / n;
  auto var = sum_sq_ / n - m * m;
  return var > 0.0 ? std::sqrt(var) : 0.0;
}

// -- quality_checker ----------------------------------------------------------

quality_checker::quality_checker(std::string exchange, std::string symbol,
  quality_checker_config cfg, std::int64_t start_ms)
    : exchange_(std::move(exchange)), symbol_(std::move(symbol)), cfg_(cfg),
      ids_(cfg.max_tracked_gaps), prices_(cfg.price_window),
      returns_(cfg.price_window - 1), volumes_(cfg.volume_window),
      last_receive_ms_(start_ms),
      buckets_(static_cast<std::size_t>(cfg.window_ms / cfg.bucket_ms)),
      issues_(cfg.max_recent_issues) {}

std::int64_t quality_checker::bucket_index(
  std::int64_t time_ms) const noexcept {
  return floor_div(time_ms, cfg_.bucket_ms);
}

quality_checker::bucket* quality_checker::bucket_at(std::int64_t time_ms) {
  auto idx = bucket_index(time_ms);
  auto n = static_cast<std::int64_t>(buckets_.size());
  auto& b = buckets_[static_cast<std::size_t>(idx - floor_div(idx, n) * n)];
  if (b.index == idx)
    return &b;
  if (b.index > idx)
    return nullptr; // older than the window: the slot holds newer data
  b.index = idx;
  b.observations = 0;
  b.failed.fill(0);
  return &b;
}

void quality_checker::fail(check_type x, std::int64_t trade_id,
  std::int64_t time_ms, const char* detail) {
  auto i = static_cast<std::size_t>(x);
  ++failed_total_[i];
  if (auto b = bucket_at(time_ms))
    ++b->failed[i];
  auto& slot = issues_[issues_head_];
  slot.check_type.assign(to_string(x));
  slot.detail.assign(detail);
  slot.trade_id = trade_id;
  slot.time_ms = time_ms;
  issues_head_ = issues_head_ + 1 == issues_.size() ? 0 : issues_head_ + 1;
  if (issues_size_ < issues_.size())
    ++issues_size_;
}

std::uint8_t quality_checker::check(const messages::trade& t) {
  auto now_ms = t.receive_time_ns != 0 ? floor_div(t.receive_time_ns, 1'000'000)
                                       : t.trade_time_ms;
  ++observations_total_;
  if (auto b = bucket_at(now_ms))
    ++b->observations;
  last_receive_ms_ = std::max(last_receive_ms_, now_ms);
  stale_ = false;
  std::uint8_t mask = 0;
  char buf[160];
  auto failed = [&](check_type x) {
    fail(x, t.id, now_ms, buf);
    mask |= check_bit(x);
  };
  // Identity.
  auto status = ids_.observe(t.id);
  if (status == id_verdict::duplicate) {
    std::snprintf(buf, sizeof(buf), "id %lld already seen", ll(t.id));
    failed(check_type::duplicate);
    return mask;
  }
  if (status == id_verdict::gap) {
    auto [gap_lo, gap_hi] = ids_.last_gap();
    missing_ids_total_ += gap_hi - gap_lo + 1;
    std::snprintf(
      buf, sizeof(buf), "ids %lld..%lld missing", ll(gap_lo), ll(gap_hi));
    failed(check_type::id_gap);
  }
  // Values.
  if (t.price.units <= 0 || t.quantity.units <= 0 || t.trade_time_ms <= 0) {
    if (t.price.units <= 0)
      std::snprintf(buf, sizeof(buf), "price %s <= 0",
        messages::to_string(t.price).c_str());
    else if (t.quantity.units <= 0)
      std::snprintf(buf, sizeof(buf), "quantity %s <= 0",
        messages::to_string(t.quantity).c_str());
    else
      std::snprintf(
        buf, sizeof(buf), "trade time %lld <= 0", ll(t.trade_time_ms));
    failed(check_type::invalid_value);
    return mask;
  }
  // Trades below every id seen or filling a gap (backfill, out of order)
  // are only checked for invalid values.
  if (status == id_verdict::below || status == id_verdict::fill)
    return mask;
  // Timestamps.
  if (t.receive_time_ns != 0) {
    auto skew = now_ms - t.trade_time_ms;
    if (skew > cfg_.max_skew_ms || -skew > cfg_.max_skew_ms) {
      std::snprintf(buf, sizeof(buf),
        "receive time - trade time = %lld ms, limit %lld", ll(skew),
        ll(cfg_.max_skew_ms));
      failed(check_type::timestamp_skew);
    }
  }
  // Price.
  auto p = t.price.to_double();
  double r = 0;
  if (have_price_)
    r = std::log(p / last_price_);
  if (prices_.size() >= cfg_.price_min_samples) {
    auto m = prices_.mean();
    auto move = std::fabs(p - m) / m * 100.0;
    auto sd = std::max(returns_.stddev(), cfg_.min_return_stddev);
    auto z = sd > 0.0 ? std::fabs(r - returns_.mean()) / sd : 0.0;
    if (z > cfg_.price_z_threshold) {
      std::snprintf(buf, sizeof(buf), "log return z-score %.2f > %.2f", z,
        cfg_.price_z_threshold);
      failed(check_type::price_anomaly);
    } else if (move > cfg_.price_move_percent) {
      std::snprintf(buf, sizeof(buf), "price %.2f%% from mean > %.2f%%", move,
        cfg_.price_move_percent);
      failed(check_type::price_anomaly);
    }
  }
  if (have_price_)
    returns_.push(r);
  prices_.push(p);
  last_price_ = p;
  have_price_ = true;
  // Volume.
  auto q = t.quantity.to_double();
  if (volumes_.full()) {
    auto m = volumes_.mean();
    auto sd = std::max(volumes_.stddev(), cfg_.min_volume_stddev_fraction * m);
    auto z = sd > 0.0 ? (q - m) / sd : 0.0;
    if (z > cfg_.volume_z_threshold) {
      std::snprintf(buf, sizeof(buf), "quantity z-score %.2f > %.2f", z,
        cfg_.volume_z_threshold);
      failed(check_type::volume_anomaly);
    }
  }
  volumes_.push(q);
  return mask;
}

void quality_checker::check(const messages::trade_batch& batch) {
  for (const auto& t : batch.trades)
    check(t);
}

bool quality_checker::check_staleness(std::int64_t now_ms) {
  if (!is_stale(now_ms))
    return false;
  if (!stale_) {
    stale_ = true;
    char buf[128];
    std::snprintf(buf, sizeof(buf), "no trade for %lld ms, limit %lld",
      ll(now_ms - last_receive_ms_), ll(cfg_.max_age_ms));
    fail(check_type::stale_feed, -1, now_ms, buf);
  }
  return true;
}

double quality_checker::score(std::int64_t now_ms) const {
  if (is_stale(now_ms))
    return 0.0;
  auto now_idx = bucket_index(now_ms);
  auto n = static_cast<std::int64_t>(buckets_.size());
  std::int64_t obs = 0;
  double weighted = 0;
  for (const auto& b : buckets_) {
    if (b.index > now_idx - n && b.index <= now_idx) {
      obs += b.observations;
      for (std::size_t i = 0; i < check_type_count; ++i)
        weighted += cfg_.weights[i] * static_cast<double>(b.failed[i]);
    }
  }
  if (obs == 0)
    return weighted > 0.0 ? 0.0 : 100.0;
  return 100.0 * std::max(0.0, 1.0 - weighted / static_cast<double>(obs));
}

messages::quality_report quality_checker::report(std::int64_t now_ms) const {
  messages::quality_report rep;
  rep.exchange = exchange_;
  rep.symbol = symbol_;
  rep.time_ms = now_ms;
  rep.window_ms = cfg_.window_ms;
  rep.score = score(now_ms);
  auto now_idx = bucket_index(now_ms);
  auto n = static_cast<std::int64_t>(buckets_.size());
  std::array<std::int64_t, check_type_count> failed{};
  for (const auto& b : buckets_) {
    if (b.index > now_idx - n && b.index <= now_idx) {
      rep.observations += b.observations;
      for (std::size_t i = 0; i < check_type_count; ++i)
        failed[i] += b.failed[i];
    }
  }
  for (std::size_t i = 0; i < check_type_count; ++i)
    if (failed[i] > 0)
      rep.failed_checks.push_back(
        {std::string{to_string(static_cast<check_type>(i))}, failed[i]});
  auto cap = issues_.size();
  auto oldest = (issues_head_ + cap - issues_size_) % cap;
  for (std::size_t i = 0; i < issues_size_; ++i) {
    const auto& x = issues_[(oldest + i) % cap];
    if (x.time_ms > now_ms - cfg_.window_ms && x.time_ms <= now_ms)
      rep.recent_issues.push_back(x);
  }
  return rep;
}

} // namespace csp::actors
