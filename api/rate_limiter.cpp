#include "api/rate_limiter.hpp"

#include <algorithm>
#include <functional>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

namespace csp::api {

namespace {

/// Entries per shard below which a table is not split: small tables keep
/// one exact least-recently-seen order.
constexpr std::size_t min_shard_size = 64;

constexpr std::size_t max_shards = 16;

} // namespace

struct rate_limiter::shard {
  struct entry {
    actors::token_bucket bucket;
    /// Position in `order`.
    std::list<const std::string*>::iterator pos;
  };

  explicit shard(std::size_t cap) : capacity(cap) {
    // nop
  }

  std::mutex mtx;
  const std::size_t capacity;
  /// Keys of `table`, most recently seen first.
  std::list<const std::string*> order;
  std::unordered_map<std::string, entry> table;

  /// Drops the least recently seen client.
  void evict_one() {
    auto i = table.find(*order.back());
    order.pop_back();
    table.erase(i);
  }
};

rate_limiter::rate_limiter(rate_limit_config cfg) : cfg_(cfg) {
  if (!(cfg.per_second > 0.0))
    throw std::invalid_argument(
      "rate_limiter: per_second must be greater than 0, got "
      + std::to_string(cfg.per_second));
  if (cfg.burst <= 0)
    throw std::invalid_argument("rate_limiter: burst must be at least 1, got "
      + std::to_string(cfg.burst));
  if (cfg.max_clients == 0)
    throw std::invalid_argument("rate_limiter: max_clients must be at least 1");
  bucket_cfg_.capacity = cfg.burst;
  bucket_cfg_.refill_per_second = cfg.per_second;
  if (auto err = bucket_cfg_.validate(); !err.empty())
    throw std::invalid_argument("rate_limiter: " + err);
  auto n
    = std::clamp(cfg.max_clients / min_shard_size, std::size_t{1}, max_shards);
  shards_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Shard capacities add up to max_clients exactly.
    auto cap = cfg.max_clients / n + (i < cfg.max_clients % n ? 1 : 0);
    shards_.push_back(std::make_unique<shard>(cap));
  }
}

rate_limiter::~rate_limiter() = default;

rate_decision rate_limiter::check(
  std::string_view client, std::int64_t now_ns) {
  auto key = client.substr(0, max_key_size);
  auto& s = *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
  std::string key_str{key};
  std::lock_guard<std::mutex> guard{s.mtx};
  auto i = s.table.find(key_str);
  if (i == s.table.end()) {
    if (s.table.size() >= s.capacity)
      s.evict_one();
    i = s.table
          .emplace(std::move(key_str),
            shard::entry{actors::token_bucket{bucket_cfg_, now_ns}, {}})
          .first;
    s.order.push_front(&i->first);
    i->second.pos = s.order.begin();
  } else {
    s.order.splice(s.order.begin(), s.order, i->second.pos);
  }
  auto& bucket = i->second.bucket;
  if (bucket.try_acquire(1, now_ns))
    return {true, 0, bucket.available(now_ns)};
  auto wait = bucket.retry_after_seconds(1, now_ns).value_or(1);
  return {false, std::max(wait, std::int64_t{1}), bucket.available(now_ns)};
}

std::size_t rate_limiter::tracked() const {
  std::size_t total = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s->mtx};
    total += s->table.size();
  }
  return total;
}

} // namespace csp::api
