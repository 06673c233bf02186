#include "storage/bar_reader.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

#include "messages/calendar.hpp"

namespace csp::storage {

namespace {

/// Adds a bar only when no member has its open time (atomic, so a
/// revision the writer stored in the meantime is never duplicated).
constexpr std::string_view add_if_absent_script
  = "if redis.call('ZCOUNT', KEYS[1], ARGV[1], ARGV[1]) == 0 then "
    "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) return 1 end return 0";

bool parse_score(const std::string& s, std::int64_t& out) noexcept {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

/// Merges two ascending answers by open time, `preferred` winning on equal
/// open times, and keeps the newest `limit`.
std::vector<messages::bar> merge(const std::vector<messages::bar>& other,
  const std::vector<messages::bar>& preferred, std::size_t limit) {
  if (preferred.empty() && other.size() <= limit)
    return other;
  std::vector<messages::bar> out;
  out.reserve(other.size() + preferred.size());
  auto a = other.begin();
  auto b = preferred.begin();
  while (a != other.end() || b != preferred.end()) {
    if (b == preferred.end()
      || (a != other.end() && a->open_time_ms < b->open_time_ms)) {
      out.push_back(*a++);
    } else {
      if (a != other.end() && a->open_time_ms == b->open_time_ms)
        ++a;
      out.push_back(*b++);
    }
  }
  if (out.size() > limit)
    out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
  return out;
}

} // namespace

bar_reader::bar_reader(
  redis_options redis, bar_reader_options opts, bar_fallback db)
    : client_(std::move(redis)), opts_(std::move(opts)), keys_(opts_.prefix),
      db_(std::move(db)) {
  if (!opts_.now_ms)
    opts_.now_ms = messages::wall_clock_ms;
}

bar_read_stats bar_reader::take_stats() noexcept {
  bar_read_stats delta;
  delta.hits = stats_.hits - taken_.hits;
  delta.misses = stats_.misses - taken_.misses;
  delta.errors = stats_.errors - taken_.errors;
  delta.refilled_bars = stats_.refilled_bars - taken_.refilled_bars;
  taken_ = stats_;
  return delta;
}

bool bar_reader::ensure_connected() {
  if (client_.connected())
    return true;
  auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_)
    return false;
  if (client_.connect())
    return true;
  next_attempt_ = now + opts_.retry_after;
  return false;
}

std::vector<messages::bar> bar_reader::read_bars(const std::string& exchange,
  const std::string& symbol, messages::timeframe tf, std::int64_t start_ms,
  std::int64_t end_ms, std::size_t limit) {
  return read_bars(bar_query{exchange, symbol, tf, start_ms, end_ms, limit});
}

std::vector<messages::bar> bar_reader::read_bars(const bar_query& q) {
  if (q.limit == 0 || q.start_ms > q.end_ms)
    return {};
  std::vector<messages::bar> cached;
  if (!ensure_connected())
    return miss(q, false, cached, false, 0);
  auto key = keys_.bars(q.exchange, q.symbol, q.tf);
  pipeline_.clear();
  pipeline_.cmd("ZREVRANGEBYSCORE")
    .arg(key)
    .arg(q.end_ms)
    .arg(q.start_ms)
    .arg("LIMIT")
    .arg(std::int64_t{0})
    .arg(static_cast<std::int64_t>(q.limit));
  pipeline_.cmd("ZRANGE")
    .arg(key)
    .arg(std::int64_t{0})
    .arg(std::int64_t{0})
    .arg("WITHSCORES");
  auto replies = client_.execute(pipeline_);
  if (!replies) {
    next_attempt_ = std::chrono::steady_clock::now() + opts_.retry_after;
    return miss(q, false, cached, false, 0);
  }
  const auto& range = (*replies)[0];
  const auto& first = (*replies)[1];
  if (!range.is_array() || !first.is_array())
    return miss(q, false, cached, false, 0);
  cached.resize(range.elements.size());
  // ZREVRANGEBYSCORE answers newest first.
  auto n = range.elements.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& member = range.elements[i];
    if (!member.is_string() || !decode_bar(member.str, cached[n - 1 - i]))
      return miss(q, false, {}, false, 0);
  }
  std::int64_t oldest = 0;
  bool have_oldest
    = first.elements.size() == 2 && parse_score(first.elements[1].str, oldest);
  if (cached.size() == q.limit || (have_oldest && oldest <= q.start_ms)) {
    ++stats_.hits;
    return cached;
  }
  return miss(q, true, cached, have_oldest, oldest);
}

std::vector<messages::bar> bar_reader::miss(const bar_query& q, bool redis_ok,
  const std::vector<messages::bar>& cached, bool have_oldest,
  std::int64_t oldest_ms) {
  ++stats_.misses;
  if (!redis_ok)
    ++stats_.errors;
  auto from_db = db_ ? db_(q) : std::vector<messages::bar>{};
  auto result = merge(from_db, cached, q.limit);
  if (!redis_ok || from_db.empty() || !client_.connected())
    return result;
  auto bar_ms = messages::duration_ms(q.tf);
  bool touches = have_oldest ? q.end_ms >= oldest_ms - bar_ms
                             : q.end_ms >= opts_.now_ms() - 2 * bar_ms;
  if (!touches)
    return result;
  std::set<std::int64_t> known;
  for (const auto& b : cached)
    known.insert(b.open_time_ms);
  auto key = keys_.bars(q.exchange, q.symbol, q.tf);
  pipeline_.clear();
  std::string json;
  std::uint64_t added = 0;
  for (const auto& b : from_db) {
    if (!b.closed || known.count(b.open_time_ms) != 0
      || b.exchange != q.exchange || b.symbol != q.symbol || b.tf != q.tf)
      continue;
    json.clear();
    append_bar_json(json, b);
    pipeline_.cmd("EVAL")
      .arg(add_if_absent_script)
      .arg(std::int64_t{1})
      .arg(key)
      .arg(b.open_time_ms)
      .arg(json);
    ++added;
  }
  if (added == 0)
    return result;
  pipeline_.cmd("ZREMRANGEBYRANK")
    .arg(key)
    .arg(std::int64_t{0})
    .arg(-static_cast<std::int64_t>(opts_.bars_per_key) - 1);
  auto replies = client_.execute(pipeline_);
  if (!replies) {
    ++stats_.errors;
    return result;
  }
  for (std::size_t i = 0; i + 1 < replies->size(); ++i)
    if ((*replies)[i].is_integer() && (*replies)[i].integer == 1)
      ++stats_.refilled_bars;
  return result;
}

} // namespace csp::storage
