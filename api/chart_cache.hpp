#pragma once

// The rendered-response cache of GET /api/v1/charts/{symbol}: one body (and
// its gzip form) per symbol, timeframe, exchange, range and limit, so a hit
// costs a lookup and a socket write instead of Redis, PostgreSQL and 500
// bars of JSON. Pure and thread-safe (one mutex); no CAF.
//
// Correctness: a cached body must equal what a read of storage returns.
// Storage changes through closed bars, their revisions and their
// indicators, which the API receives from the processing shards before (or
// while) the writers store them. So:
// - every such event drops the stream's entries and bumps its generation;
// - a fill records the generation when it starts and is stored only when no
//   event arrived since, and only when its bars include the recent events
//   (same or newer revision, with indicators once they were announced):
//   a read that raced ahead of the writers is served but not kept;
// - entries expire after `max_age_ms` in any case (a node whose storage is
//   also written by others), and admin symbol changes clear everything.
// Concurrent misses of one key are coalesced: the first starts the fill,
// the others wait for its result (single flight).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "messages/bar.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/timeframe.hpp"

namespace csp::api {

/// What identifies one chart response.
struct chart_key {
  /// As requested (empty: resolved from the symbol).
  std::string exchange;
  std::string symbol;
  messages::timeframe tf = messages::timeframe::m1;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::size_t limit = 0;

  friend bool operator<(const chart_key& x, const chart_key& y) noexcept {
    return std::tie(x.symbol, x.tf, x.exchange, x.start_ms, x.end_ms, x.limit)
      < std::tie(y.symbol, y.tf, y.exchange, y.start_ms, y.end_ms, y.limit);
  }
};

/// A rendered response body, shared by every request that gets it.
struct chart_body {
  unsigned status = 200;
  std::string json;
  /// `json` gzip-compressed; empty when not made (errors, uncached fills).
  std::string gzip;
};

using chart_body_ptr = std::shared_ptr<const chart_body>;

/// Called with the result of the fill a request waited for.
using chart_waiter = std::function<void(const chart_body_ptr&)>;

/// Settings of a chart_cache.
struct chart_cache_options {
  /// Most entries; the oldest is dropped to make room.
  std::size_t max_entries = 256;
  /// An entry is never served after this age.
  std::int64_t max_age_ms = 60'000;
  /// Closed-bar events remembered per stream for the freshness check.
  std::size_t tracked_events = 32;
  /// A fill running longer than this is presumed lost (its worker died):
  /// the next miss starts a new one.
  std::int64_t fill_timeout_ms = 15'000;
};

/// The cache. Every member is thread-safe.
class chart_cache {
public:
  explicit chart_cache(chart_cache_options opts = {});

  /// The cached body of `key`, or null (missing or older than max_age_ms).
  chart_body_ptr find(const chart_key& key, std::int64_t now_ms);

  /// Registers `w` for the fill of `key`. Returns true when the caller is
  /// the first (it must start a fill and later call complete()), false when
  /// a fill is already running (w is called when it completes).
  bool join(const chart_key& key, chart_waiter w, std::int64_t now_ms);

  /// Ends the fill of `key`: stores `body` when it is a 200 that is still
  /// fresh (see the file comment; `bars` and `indicators` are what it was
  /// rendered from), then calls every waiter with it. Returns whether it
  /// was stored.
  bool complete(const chart_key& key, const chart_body_ptr& body,
    const std::vector<messages::bar>& bars,
    const std::vector<messages::indicator_snapshot>& indicators,
    std::int64_t now_ms);

  /// A closed bar or a revision (forming bars are ignored): drops the
  /// stream's entries.
  void on_bar(const messages::bar& b);

  /// Indicators of a closed bar (forming ones are ignored): drops the
  /// stream's entries.
  void on_indicators(const messages::indicator_snapshot& x);

  /// Drops every entry (symbols were added or removed).
  void clear();

  /// Entries held.
  std::size_t size() const;

private:
  using stream_key = std::pair<std::string, messages::timeframe>;

  /// A closed-bar event of a stream.
  struct event {
    std::string exchange;
    std::int64_t open_time_ms = 0;
    std::int32_t revision = 0;
    bool has_indicators = false;
  };

  struct stream {
    std::uint64_t generation = 0;
    std::deque<event> events;
  };

  struct entry {
    chart_body_ptr body;
    std::int64_t stored_ms = 0;
  };

  struct flight {
    std::uint64_t generation = 0;
    std::int64_t started_ms = 0;
    std::vector<chart_waiter> waiters;
  };

  /// Under the lock: drops the entries of `s` and bumps its generation.
  void invalidate_locked(const stream_key& s);

  /// Under the lock: whether bars rendered for `key` include every
  /// remembered event of its stream that falls into their range.
  bool covers_events_locked(const chart_key& key,
    const std::vector<messages::bar>& bars,
    const std::vector<messages::indicator_snapshot>& indicators) const;

  chart_cache_options opts_;
  mutable std::mutex mtx_;
  std::map<chart_key, entry> entries_;
  std::map<stream_key, stream> streams_;
  std::map<chart_key, flight> flights_;
};

/// The clock of the cache's ages: steady milliseconds.
std::int64_t chart_cache_clock_ms();

/// `text` gzip-compressed (RFC 1952) at zlib `level` (1 fastest .. 9
/// smallest; -1 zlib's default, 6), or nullopt when zlib fails.
std::optional<std::string> gzip_compress(
  const std::string& text, int level = -1);

/// Whether an Accept-Encoding header value accepts gzip (a `gzip` coding
/// not weighted q=0).
bool accepts_gzip(std::string_view accept_encoding);

} // namespace csp::api
