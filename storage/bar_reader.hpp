#pragma once

// The read path of bar history for the API: Redis first, the database
// (a fallback function) on a miss, then the cache is refilled with what the
// fallback returned. No CAF.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "messages/bar.hpp"
#include "messages/timeframe.hpp"
#include "storage/cache_layout.hpp"
#include "storage/redis_client.hpp"

namespace csp::storage {

/// One history query. The answer holds the closed bars with
/// start_ms <= open time <= end_ms in ascending open time; when more than
/// `limit` match, the newest `limit` of them.
struct bar_query {
  std::string exchange;
  std::string symbol;
  messages::timeframe tf = messages::timeframe::m1;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::size_t limit = 500;
};

/// The database side of a read: must answer a bar_query with the same
/// contract (ascending, the newest `limit` of the range).
using bar_fallback
  = std::function<std::vector<messages::bar>(const bar_query&)>;

/// Counts of a bar_reader since its creation.
struct bar_read_stats {
  /// Queries answered by Redis alone (cache_hits_total{key_pattern}).
  std::uint64_t hits = 0;
  /// Queries answered by the fallback (cache_misses_total{key_pattern}).
  std::uint64_t misses = 0;
  /// Misses because Redis was unreachable or answered with an error.
  std::uint64_t errors = 0;
  /// Bars written back into Redis after a miss.
  std::uint64_t refilled_bars = 0;
};

/// Settings of a bar_reader.
struct bar_reader_options {
  /// Prepended to every key (as for the writer).
  std::string prefix;
  /// The size bound of the bar sets (the writer's bars_per_key).
  std::size_t bars_per_key = cached_bars_per_key;
  /// After Redis was unreachable, reads go straight to the fallback for
  /// this long before the next connection attempt.
  std::chrono::milliseconds retry_after{1000};
  /// Wall clock in ms since the epoch; decides whether a range reaches the
  /// newest closed bar (see read_bars).
  std::function<std::int64_t()> now_ms;
};

/// Reads bar history, Redis first. Not thread-safe: one per thread.
///
/// A query is a **hit** when Redis alone gives the exact answer: the key
/// holds the newest closed bars without holes (the cache_writer appends
/// every closed bar and trims the oldest), so its answer is exact when
/// (a) it returned `limit` bars (the newest `limit` of the range), or
/// (b) its oldest cached bar opens at or before `start_ms` (the whole
/// range is inside the cached span). Anything else is a **miss**: the
/// fallback answers, merged with the bars Redis returned (those win on the
/// same open time: the database may lag behind the cache by its write
/// batching), and the fallback's bars are written back when that keeps the
/// set free of holes: when the set is not empty and the range reaches its
/// oldest bar (end_ms >= oldest open time - one bar), or when the set is
/// empty and the range reaches the newest closed bar (end_ms >= now - two
/// bars). Only bars whose open time is not cached are added, so a newer
/// revision written by the cache_writer is never replaced by an older one.
class bar_reader {
public:
  bar_reader(redis_options redis, bar_reader_options opts, bar_fallback db);

  /// Answers one query (see the class comment).
  std::vector<messages::bar> read_bars(const bar_query& q);

  /// Same, with the parts of the query as arguments.
  std::vector<messages::bar> read_bars(const std::string& exchange,
    const std::string& symbol, messages::timeframe tf, std::int64_t start_ms,
    std::int64_t end_ms, std::size_t limit);

  /// Counts since creation.
  const bar_read_stats& stats() const noexcept { return stats_; }

  /// Counts since the previous call (for a metrics flush tick: add `hits`
  /// to cache_hits_total and `misses` to cache_misses_total, both with
  /// key_pattern = bars_key_pattern).
  bar_read_stats take_stats() noexcept;

  const std::string& last_error() const noexcept {
    return client_.last_error();
  }

private:
  bool ensure_connected();
  std::vector<messages::bar> miss(const bar_query& q, bool redis_ok,
    const std::vector<messages::bar>& cached, bool have_oldest,
    std::int64_t oldest_ms);

  redis_client client_;
  bar_reader_options opts_;
  cache_keys keys_;
  bar_fallback db_;
  bar_read_stats stats_;
  bar_read_stats taken_;
  redis_pipeline pipeline_;
  std::chrono::steady_clock::time_point next_attempt_{};
};

} // namespace csp::storage
