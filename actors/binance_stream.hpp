#pragma once

// Pure logic of the Binance collector: stream names, subscription
// requests, per-symbol trade id tracking, batching and reconnect backoff.
// No sockets, no clocks, no CAF: every time is passed in.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "messages/trade.hpp"

namespace csp::actors {

/// Binance's limit of streams per WebSocket connection.
inline constexpr std::size_t binance_max_streams = 1024;

/// Returns the trade stream name of `symbol`, e.g. "btcusdt@trade".
std::string trade_stream_name(std::string_view symbol);

/// Returns the combined-stream target for `symbols` under `base_target`
/// (the path of the configured WebSocket URL), e.g. "/stream?streams=
/// btcusdt@trade/ethusdt@trade". Returns an empty string when `symbols` is
/// empty or holds more than `max_streams` entries.
std::string combined_stream_target(std::string_view base_target,
  const std::vector<std::string>& symbols,
  std::size_t max_streams = binance_max_streams);

/// Longest request target the collector puts in a connection URL. Request
/// lines beyond a few KB are refused by common HTTP stacks (Beast's
/// default header limit is 8 KB); the streams that do not fit are
/// subscribed after the handshake.
inline constexpr std::size_t max_url_target_bytes = 2048;

/// Streams per live SUBSCRIBE request. Binance accepts 5 incoming messages
/// per second and 1024 streams per connection: 4 requests at most.
inline constexpr std::size_t max_streams_per_request = 256;

/// Returns how many of `symbols`, from the front, fit in a combined-stream
/// target under `base_target` of at most `max_target_bytes`: at least one
/// when `symbols` is not empty, at most binance_max_streams.
std::size_t symbols_in_target(std::string_view base_target,
  const std::vector<std::string>& symbols,
  std::size_t max_target_bytes = max_url_target_bytes);

/// Splits `symbols` into groups of at most `per_connection` (>= 1, at most
/// binance_max_streams), keeping their order: one group per connection.
std::vector<std::vector<std::string>> partition_symbols(
  const std::vector<std::string>& symbols, std::size_t per_connection);

/// Returns a live subscription request, e.g. {"method":"SUBSCRIBE",
/// "params":["btcusdt@trade"],"id":7}. `subscribe` false gives UNSUBSCRIBE.
std::string subscription_request(
  bool subscribe, const std::vector<std::string>& symbols, std::int64_t id);

/// Returns the live subscription requests for `symbols`, at most
/// max_streams_per_request streams each, with ids from `next_id` + 1 on
/// (`next_id` is advanced past the last one used).
std::vector<std::string> subscription_requests(bool subscribe,
  const std::vector<std::string>& symbols, std::int64_t& next_id);

/// Returns the REST target of a backfill page:
/// "/api/v3/historicalTrades?symbol=X&fromId=N&limit=L".
std::string historical_trades_target(
  std::string_view symbol, std::int64_t from_id, int limit);

/// Parses a /api/v3/historicalTrades answer (a JSON array of {"id",
/// "price","qty","time","isBuyerMaker",...}) into trades (event time = trade
/// time, receive time 0). Returns false on malformed input.
bool parse_historical_trades(
  std::string_view body, std::vector<messages::trade>& out);

/// A closed range of trade ids [first, last].
struct id_range {
  std::int64_t first = 0;
  std::int64_t last = 0;

  friend bool operator==(const id_range& x, const id_range& y) noexcept {
    return x.first == y.first && x.last == y.last;
  }
};

/// What trade_sequence::observe decided about one trade id.
enum class sequence_verdict : std::uint8_t {
  /// The next id, the first id seen, or a missing id arriving late.
  accept,
  /// An id beyond the next one: accepted, and the skipped ids are missing.
  gap,
  /// An id already seen (or older than anything tracked): drop it.
  duplicate,
};

/// Tracks the trade ids of one symbol: drops duplicates, detects gaps and
/// remembers which ids are still missing until they arrive (from the
/// stream out of order, or from a REST backfill). Continuity survives a
/// reconnect, so a reconnect that lost trades shows up as a gap.
class trade_sequence {
public:
  /// At most this many missing ranges are remembered; older ones are
  /// given up (counted by abandoned()).
  static constexpr std::size_t max_ranges = 256;

  /// Classifies trade `id`; for a gap, `missing` receives the skipped ids.
  sequence_verdict observe(std::int64_t id, id_range* missing = nullptr);

  /// Highest id seen, or -1.
  std::int64_t last_id() const noexcept { return last_; }

  /// Ids skipped and not yet received, oldest first.
  const std::vector<id_range>& missing() const noexcept { return missing_; }

  /// Gives up on every missing id up to and including `id`.
  void abandon_through(std::int64_t id);

  /// Number of ranges given up because of max_ranges.
  std::size_t abandoned() const noexcept { return abandoned_; }

private:
  bool take_missing(std::int64_t id);

  std::int64_t last_ = -1;
  std::vector<id_range> missing_;
  std::size_t abandoned_ = 0;
};

/// When the I/O thread wakes a collector actor for the parsed frames in its
/// inbox. Every wake-up costs a scheduler thread's sleep/wake cycle, so it
/// notifies only when no notification is pending and either `count`
/// frames wait or the actor last drained at least `interval_ns` ago: a
/// quiet feed is delivered at once, a busy one in chunks. Frames left
/// below both limits wait for the actor's own timer. Not thread-safe (the
/// inbox's mutex guards it).
class inbox_wakeup {
public:
  /// count 1 (or 0) and interval 0: notify whenever the inbox turns
  /// non-empty.
  inbox_wakeup(std::size_t count, std::int64_t interval_ns) noexcept;

  /// A frame was added and `waiting` frames wait now; true: notify.
  bool on_push(std::size_t waiting, std::int64_t now_ns) noexcept;

  /// The actor took every waiting frame at `now_ns`.
  void on_drain(std::int64_t now_ns) noexcept;

private:
  std::size_t count_;
  std::int64_t interval_ns_;
  std::int64_t last_drain_ns_ = 0;
  bool notified_ = false;
};

/// Collects the trades of one symbol until the batch is full or old.
class trade_batcher {
public:
  /// A batch is due at `max_trades` trades or `max_age_ms` after its first.
  trade_batcher(std::size_t max_trades, std::int64_t max_age_ms);

  /// Adds a trade received at `now_ms`; returns whether the batch is full.
  bool add(const messages::trade& t, std::int64_t now_ms);

  /// Returns whether the batch is non-empty and full or old at `now_ms`.
  bool due(std::int64_t now_ms) const noexcept;

  /// Moves the trades out (leaving the batch empty).
  std::vector<messages::trade> take();

  /// Number of trades waiting.
  std::size_t size() const noexcept { return trades_.size(); }

private:
  std::size_t max_trades_;
  std::int64_t max_age_ms_;
  std::int64_t first_ms_ = 0;
  std::vector<messages::trade> trades_;
};

/// Exponential backoff with jitter: the n-th delay (n from 0) is drawn
/// uniformly from [d/2, d] with d = min(max_ms, base_ms * 2^n).
class backoff {
public:
  /// Creates a backoff whose jitter comes from a generator seeded `seed`.
  backoff(std::int64_t base_ms, std::int64_t max_ms, std::uint64_t seed);

  /// Returns the next delay in ms and counts the attempt.
  std::int64_t next();

  /// Starts over at the base delay (after a success).
  void reset() noexcept { attempt_ = 0; }

  /// Number of delays handed out since the last reset.
  int attempts() const noexcept { return attempt_; }

  /// Upper bound of the next delay (before jitter).
  std::int64_t ceiling() const noexcept;

private:
  std::int64_t base_ms_;
  std::int64_t max_ms_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

} // namespace csp::actors
