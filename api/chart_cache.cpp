#include "api/chart_cache.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>
#include <utility>

#include <zlib.h>

namespace csp::api {

chart_cache::chart_cache(chart_cache_options opts) : opts_(opts) {
  // Nothing else.
}

std::int64_t chart_cache_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

chart_body_ptr chart_cache::find(const chart_key& key, std::int64_t now_ms) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(key);
  if (i == entries_.end())
    return nullptr;
  if (now_ms - i->second.stored_ms > opts_.max_age_ms) {
    entries_.erase(i);
    return nullptr;
  }
  return i->second.body;
}

bool chart_cache::join(
  const chart_key& key, chart_waiter w, std::int64_t now_ms) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = flights_.find(key);
  if (i != flights_.end()
    && now_ms - i->second.started_ms <= opts_.fill_timeout_ms) {
    i->second.waiters.push_back(std::move(w));
    return false;
  }
  // A lost fill's waiters get the server's handler timeout.
  flight f;
  f.generation = streams_[stream_key{key.symbol, key.tf}].generation;
  f.started_ms = now_ms;
  f.waiters.push_back(std::move(w));
  flights_[key] = std::move(f);
  return true;
}

bool chart_cache::complete(const chart_key& key, const chart_body_ptr& body,
  const std::vector<messages::bar>& bars,
  const std::vector<messages::indicator_snapshot>& indicators,
  std::int64_t now_ms) {
  std::vector<chart_waiter> waiters;
  bool stored = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    std::uint64_t started = 0;
    if (auto f = flights_.find(key); f != flights_.end()) {
      started = f->second.generation;
      waiters = std::move(f->second.waiters);
      flights_.erase(f);
    } else {
      // Completed without join(): fresh only if nothing ever happened.
      started = 0;
    }
    const auto& s = streams_[stream_key{key.symbol, key.tf}];
    if (body && body->status == 200 && s.generation == started
      && covers_events_locked(key, bars, indicators)) {
      if (entries_.size() >= opts_.max_entries && entries_.count(key) == 0) {
        auto oldest = std::min_element(
          entries_.begin(), entries_.end(), [](const auto& x, const auto& y) {
            return x.second.stored_ms < y.second.stored_ms;
          });
        entries_.erase(oldest);
      }
      entries_[key] = entry{body, now_ms};
      stored = true;
    }
  }
  for (auto& w : waiters)
    w(body);
  return stored;
}

void chart_cache::on_bar(const messages::bar& b) {
  if (!b.closed)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  stream_key k{b.symbol, b.tf};
  auto& s = streams_[k];
  auto e = std::find_if(s.events.begin(), s.events.end(),
    [&](const event& x) { return x.open_time_ms == b.open_time_ms; });
  if (e != s.events.end()) {
    // A revision: its indicators are announced again if at all.
    e->revision = std::max(e->revision, b.revision);
    e->exchange = b.exchange;
  } else {
    s.events.push_back(event{b.exchange, b.open_time_ms, b.revision, false});
    while (s.events.size() > opts_.tracked_events)
      s.events.pop_front();
  }
  invalidate_locked(k);
}

void chart_cache::on_indicators(const messages::indicator_snapshot& x) {
  if (!x.closed)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  stream_key k{x.symbol, x.tf};
  auto& s = streams_[k];
  for (auto& e : s.events)
    if (e.open_time_ms == x.open_time_ms)
      e.has_indicators = true;
  invalidate_locked(k);
}

void chart_cache::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  entries_.clear();
  // Fills running now read the symbol table before the change.
  for (auto& [k, s] : streams_)
    ++s.generation;
}

std::size_t chart_cache::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return entries_.size();
}

void chart_cache::invalidate_locked(const stream_key& s) {
  ++streams_[s].generation;
  chart_key low;
  low.symbol = s.first;
  low.tf = s.second;
  low.exchange.clear();
  low.start_ms = std::numeric_limits<std::int64_t>::min();
  low.end_ms = std::numeric_limits<std::int64_t>::min();
  low.limit = 0;
  auto i = entries_.lower_bound(low);
  while (i != entries_.end() && i->first.symbol == s.first
    && i->first.tf == s.second)
    i = entries_.erase(i);
}

bool chart_cache::covers_events_locked(const chart_key& key,
  const std::vector<messages::bar>& bars,
  const std::vector<messages::indicator_snapshot>& indicators) const {
  auto s = streams_.find(stream_key{key.symbol, key.tf});
  if (s == streams_.end())
    return true;
  // With a full page the window starts at its oldest bar; newer events
  // must be in it.
  auto from = key.start_ms;
  if (!bars.empty() && bars.size() >= key.limit)
    from = std::max(from, bars.front().open_time_ms);
  for (const auto& e : s->second.events) {
    if (e.open_time_ms < from || e.open_time_ms > key.end_ms)
      continue;
    if (!bars.empty() && !e.exchange.empty()
      && bars.front().exchange != e.exchange)
      continue;
    auto b = std::find_if(bars.begin(), bars.end(),
      [&](const messages::bar& x) { return x.open_time_ms == e.open_time_ms; });
    if (b == bars.end() || b->revision < e.revision)
      return false;
    if (e.has_indicators
      && std::none_of(indicators.begin(), indicators.end(),
        [&](const messages::indicator_snapshot& x) {
          return x.open_time_ms == e.open_time_ms;
        }))
      return false;
  }
  return true;
}

std::optional<std::string> gzip_compress(const std::string& text, int level) {
  z_stream z{};
  // 15 window bits + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
    != Z_OK)
    return std::nullopt;
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(text.size())));
  // zlib's interface is not const-correct; it does not write the input.
  z.next_in
    = reinterpret_cast<Bytef*>(const_cast<char*>(text.data())); // NOLINT
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data()); // NOLINT
  z.avail_out = static_cast<uInt>(out.size());
  auto rc = deflate(&z, Z_FINISH);
  auto written = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END)
    return std::nullopt;
  out.resize(written);
  return out;
}

bool accepts_gzip(std::string_view accept_encoding) {
  auto s = accept_encoding;
  while (!s.empty()) {
    auto comma = s.find(',');
    auto item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view{}
                                        : s.substr(comma + 1);
    auto trim = [](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
        v.remove_suffix(1);
      return v;
    };
    auto semi = item.find(';');
    auto coding = trim(item.substr(0, semi));
    std::string lower;
    for (char c : coding)
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower != "gzip" && lower != "*")
      continue;
    if (semi == std::string_view::npos)
      return true;
    auto params = trim(item.substr(semi + 1));
    // q=0, q=0.0, q=0.00, q=0.000 refuse it.
    if (params.size() >= 3 && (params[0] == 'q' || params[0] == 'Q')
      && params[1] == '=') {
      auto q = params.substr(2);
      bool zero = !q.empty() && q[0] == '0'
        && q.find_first_not_of("0.", 0) == std::string_view::npos;
      if (zero)
        return false;
    }
    return true;
  }
  return false;
}

} // namespace csp::api
