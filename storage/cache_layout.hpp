#pragma once

// The Redis cache layout (docs/REDIS.md): key and channel names, the JSON
// encoding of cached values, and the commands that write them. Pure
// functions; the I/O is in redis_client, the actor in actors/cache_writer.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/bar.hpp"
#include "messages/health_status.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/timeframe.hpp"
#include "messages/trade.hpp"

namespace csp::storage {

class redis_pipeline;

/// Closed bars kept per exchange/symbol/timeframe.
inline constexpr std::size_t cached_bars_per_key = 1000;

/// Lifetime of the latest-indicators keys.
inline constexpr std::int64_t indicators_ttl_ms = 300'000;

/// The `key_pattern` label of the bar cache in cache_hits_total and
/// cache_misses_total.
inline constexpr std::string_view bars_key_pattern
  = "bars:{exchange}:{symbol}:{timeframe}";

/// Names of every key and channel, each starting with `prefix` (default
/// empty; tests use their own prefix as a namespace).
class cache_keys {
public:
  explicit cache_keys(std::string prefix = {}) : prefix_(std::move(prefix)) {}

  const std::string& prefix() const noexcept { return prefix_; }

  /// Sorted set of the last closed bars, scored by open time:
  /// `bars:{exchange}:{symbol}:{tf}`.
  std::string bars(std::string_view exchange, std::string_view symbol,
    messages::timeframe tf) const;

  /// String holding the forming bar: `bar:forming:{exchange}:{symbol}:{tf}`.
  std::string forming(std::string_view exchange, std::string_view symbol,
    messages::timeframe tf) const;

  /// String holding the latest indicators (TTL 5 min):
  /// `indicators:{exchange}:{symbol}:{tf}`.
  std::string indicators(std::string_view exchange, std::string_view symbol,
    messages::timeframe tf) const;

  /// Hash component -> health JSON: `system:health`.
  std::string health() const;

  /// Pub/sub channel of bar updates: `chart_updates`.
  std::string chart_updates() const;

  /// Pub/sub channel of trade batches: `trades:{exchange}`.
  std::string trades(std::string_view exchange) const;

private:
  std::string instrument_key(std::string_view kind, std::string_view exchange,
    std::string_view symbol, messages::timeframe tf) const;

  std::string prefix_;
};

// -- JSON encoding
// -------------------------------------------------------------

/// Appends the JSON of a bar: prices and volumes as decimal strings exactly
/// as messages::format_units prints them, times in ms, the timeframe label.
void append_bar_json(std::string& out, const messages::bar& b);

/// Appends the members of append_bar_json's object without the braces
/// (`"exchange":...,"closed":...`), so that other documents (the API's bar
/// with indicators) extend the one bar shape instead of repeating it.
void append_bar_members(std::string& out, const messages::bar& b);

/// The JSON of a bar.
std::string encode_bar(const messages::bar& b);

/// Parses the JSON of a bar (members in any order, all required; unknown
/// members ignored). Returns false on any error.
bool decode_bar(std::string_view json, messages::bar& out);

/// The JSON of an indicator snapshot: one member per indicator name, a
/// number or null.
std::string encode_indicators(const messages::indicator_snapshot& x);

/// Parses the JSON of an indicator snapshot (null -> NaN).
bool decode_indicators(
  std::string_view json, messages::indicator_snapshot& out);

/// The JSON of a health status.
std::string encode_health(const messages::health_status& x);

/// Parses the JSON of a health status.
bool decode_health(std::string_view json, messages::health_status& out);

/// The JSON of a trade batch: exchange, symbol and an array of trades with
/// decimal strings for price and quantity.
std::string encode_trades(const messages::trade_batch& x);

/// Parses the JSON of a trade batch.
bool decode_trades(std::string_view json, messages::trade_batch& out);

// -- write commands
// ------------------------------------------------------------

/// Queues the commands that store closed bars: per bar, the member of the
/// same open time is removed and the new one added (a revision replaces
/// its bar); per key, the set is then trimmed to `keep` members (the
/// newest). Returns the number of bars queued. Bars that are not closed are
/// skipped.
std::size_t add_closed_bars(redis_pipeline& p, const cache_keys& keys,
  const std::vector<messages::bar>& bars,
  std::size_t keep = cached_bars_per_key);

/// Queues SET of the forming bar with a lifetime of two bar durations.
void add_forming_bar(
  redis_pipeline& p, const cache_keys& keys, const messages::bar& b);

/// Queues SET of the latest indicators with a lifetime of `ttl_ms`.
void add_indicators(redis_pipeline& p, const cache_keys& keys,
  const messages::indicator_snapshot& x,
  std::int64_t ttl_ms = indicators_ttl_ms);

/// Queues HSET of one component's health.
void add_health(
  redis_pipeline& p, const cache_keys& keys, const messages::health_status& x);

/// Queues PUBLISH of a bar update on `chart_updates`.
void add_chart_update(
  redis_pipeline& p, const cache_keys& keys, const messages::bar& b);

/// Queues PUBLISH of a trade batch on `trades:{exchange}`.
void add_trades(
  redis_pipeline& p, const cache_keys& keys, const messages::trade_batch& x);

} // namespace csp::storage
