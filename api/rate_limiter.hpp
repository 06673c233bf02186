#pragma once

// Per-client request rate limits for the HTTP and WebSocket API: one exact
// token bucket (actors/token_bucket) per client key, in a table of bounded
// size that several I/O threads share.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "actors/token_bucket.hpp"

namespace csp::api {

/// Tuning of a rate_limiter.
struct rate_limit_config {
  /// Requests per second each client regains (resolved to 0.001).
  double per_second = 100;
  /// Requests a client may make at once (the bucket's capacity).
  std::int64_t burst = 200;
  /// Most clients tracked at once (memory bound).
  std::size_t max_clients = 100000;
};

/// Answer of rate_limiter::check.
struct rate_decision {
  /// Whether the request may proceed (one token was taken).
  bool allowed;
  /// 0 when allowed; otherwise the whole seconds to wait (at least 1,
  /// rounded up) until a request will be allowed: the HTTP Retry-After.
  std::int64_t retry_after_s;
  /// Whole tokens left after this check.
  std::int64_t remaining;
};

/// Token buckets keyed by client (an IP address or a token subject).
///
/// Thread-safe: the table is split into shards by the hash of the key, each
/// with its own mutex. Memory is bounded: at most `max_clients` entries;
/// when a shard is full, the entry of its least recently seen client is
/// dropped (an entry whose bucket has filled up again carries no state, so
/// with burst / per_second shorter than the idle time of that client nothing
/// is lost). Recently active clients are never dropped before idle ones.
/// Time is passed in (`now_ns`, any monotonic origin); the class never reads
/// a clock.
class rate_limiter {
public:
  /// Longest client key kept; longer keys are cut to this length.
  static constexpr std::size_t max_key_size = 256;

  /// Throws std::invalid_argument naming the problem when per_second or
  /// burst is not positive (or not usable by a token_bucket) or
  /// max_clients is 0.
  explicit rate_limiter(rate_limit_config cfg);

  ~rate_limiter();

  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  /// Takes one token of `client` at `now_ns` if there is one.
  rate_decision check(std::string_view client, std::int64_t now_ns);

  /// Returns the number of clients in the table.
  std::size_t tracked() const;

  /// Returns the number of shards (1 for small tables).
  std::size_t shards() const noexcept { return shards_.size(); }

private:
  struct shard;

  rate_limit_config cfg_;
  actors::token_bucket_config bucket_cfg_;
  std::vector<std::unique_ptr<shard>> shards_;
};

} // namespace csp::api
