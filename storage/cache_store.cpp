#include "storage/cache_store.hpp"

#include <charconv>
#include <utility>

namespace csp::storage {

namespace {

/// Finds `name:value` on its own line of an INFO reply.
bool info_field(
  std::string_view text, std::string_view name, std::uint64_t& out) noexcept {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    auto line = text.substr(
      pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.size() > name.size() && line.substr(0, name.size()) == name
      && line[name.size()] == ':') {
      auto value = line.substr(name.size() + 1);
      auto [ptr, ec]
        = std::from_chars(value.data(), value.data() + value.size(), out);
      return ec == std::errc{} && ptr == value.data() + value.size();
    }
    if (eol == std::string_view::npos)
      break;
    pos = eol + 1;
  }
  return false;
}

} // namespace

std::optional<redis_info> parse_redis_info(std::string_view text) {
  redis_info result;
  if (!info_field(text, "used_memory", result.used_memory)
    || !info_field(text, "evicted_keys", result.evicted_keys))
    return std::nullopt;
  return result;
}

cache_store::cache_store(redis_options redis, cache_store_options opts,
  std::function<std::int64_t()> now_ms)
    : opts_(std::move(opts)), keys_(opts_.prefix), client_(std::move(redis)),
      now_ms_(std::move(now_ms)) {
  // nop
}

std::size_t cache_store::remembered_bars() const noexcept {
  std::size_t n = 0;
  for (const auto& kv : bars_)
    n += kv.second.size();
  return n;
}

bool cache_store::send() {
  auto replies = client_.execute(pipeline_);
  pipeline_.clear();
  if (!replies) {
    stale_ = true;
    ++counters_.errors;
    return false;
  }
  bool ok = true;
  for (const auto& r : *replies) {
    if (r.contains_error()) {
      ok = false;
      ++counters_.errors;
    }
  }
  return ok;
}

bool cache_store::put(const std::vector<messages::bar>& bars) {
  auto now = now_ms_();
  std::size_t closed = 0;
  // Forming keys whose bar has closed: deleted in Redis too.
  std::vector<std::string> closed_forming;
  for (const auto& b : bars) {
    auto fkey = keys_.forming(b.exchange, b.symbol, b.tf);
    auto& series = bars_[keys_.bars(b.exchange, b.symbol, b.tf)];
    if (b.closed) {
      series[b.open_time_ms] = b;
      while (series.size() > opts_.bars_per_key)
        series.erase(series.begin());
      auto f = forming_.find(fkey);
      if (f != forming_.end() && f->second.bar.open_time_ms <= b.open_time_ms) {
        forming_.erase(f);
        closed_forming.push_back(std::move(fkey));
      }
      ++closed;
    } else if (series.empty() || series.rbegin()->first < b.open_time_ms) {
      // A forming bar older than the newest closed one is stale.
      forming_[fkey] = timed_bar{b, now};
    }
  }
  if (!up_to_date()) {
    counters_.deferred += bars.size();
    return false;
  }
  pipeline_.clear();
  pipeline_.cmd("MULTI");
  add_closed_bars(pipeline_, keys_, bars, opts_.bars_per_key);
  for (const auto& key : closed_forming)
    pipeline_.cmd("DEL").arg(key);
  std::size_t forming = 0;
  for (const auto& b : bars) {
    if (b.closed)
      continue;
    auto f = forming_.find(keys_.forming(b.exchange, b.symbol, b.tf));
    if (f != forming_.end() && f->second.bar == b) {
      add_forming_bar(pipeline_, keys_, b);
      ++forming;
    }
  }
  pipeline_.cmd("EXEC");
  for (const auto& b : bars)
    add_chart_update(pipeline_, keys_, b);
  if (!send())
    return false;
  counters_.bars += closed;
  counters_.forming += forming;
  counters_.chart_updates += bars.size();
  return true;
}

bool cache_store::put(const std::vector<messages::indicator_snapshot>& xs) {
  auto now = now_ms_();
  for (const auto& x : xs) {
    auto key = keys_.indicators(x.exchange, x.symbol, x.tf);
    auto& slot = indicators_[key];
    // Keep the newest bar's values; a peek on the forming bar is newer
    // than the closed bar before it.
    if (slot.received_ms == 0 || x.open_time_ms >= slot.snapshot.open_time_ms)
      slot = timed_indicators{x, now};
  }
  if (!up_to_date()) {
    counters_.deferred += xs.size();
    return false;
  }
  pipeline_.clear();
  for (const auto& x : xs)
    add_indicators(pipeline_, keys_, x, opts_.indicators_ttl_ms);
  if (!send())
    return false;
  counters_.indicators += xs.size();
  return true;
}

bool cache_store::put(const messages::health_status& x) {
  health_[x.component] = x;
  if (!up_to_date()) {
    ++counters_.deferred;
    return false;
  }
  pipeline_.clear();
  add_health(pipeline_, keys_, x);
  if (!send())
    return false;
  ++counters_.health;
  return true;
}

bool cache_store::publish(const messages::trade_batch& x) {
  if (x.trades.empty())
    return true;
  if (!up_to_date()) {
    ++counters_.dropped;
    return false;
  }
  pipeline_.clear();
  add_trades(pipeline_, keys_, x);
  if (!send())
    return false;
  ++counters_.trade_batches;
  return true;
}

bool cache_store::connect_and_refill() {
  if (up_to_date())
    return true;
  if (!client_.connected() && !client_.connect()) {
    ++counters_.errors;
    return false;
  }
  // Everything remembered, in round trips of at most refill_batch
  // commands. A bar write is two commands plus one trim per key.
  auto flush_if_full = [&](std::size_t extra) {
    if (pipeline_.size() + extra <= opts_.refill_batch)
      return true;
    return send();
  };
  pipeline_.clear();
  std::vector<messages::bar> chunk;
  for (const auto& kv : bars_) {
    auto per_round = opts_.refill_batch > 4 ? (opts_.refill_batch - 1) / 2 : 1;
    chunk.clear();
    for (const auto& bar_kv : kv.second) {
      chunk.push_back(bar_kv.second);
      if (chunk.size() == per_round) {
        if (!flush_if_full(2 * chunk.size() + 1))
          return false;
        add_closed_bars(pipeline_, keys_, chunk, opts_.bars_per_key);
        chunk.clear();
      }
    }
    if (!chunk.empty()) {
      if (!flush_if_full(2 * chunk.size() + 1))
        return false;
      add_closed_bars(pipeline_, keys_, chunk, opts_.bars_per_key);
    }
  }
  auto now = now_ms_();
  for (const auto& kv : forming_) {
    auto lifetime = 2 * messages::duration_ms(kv.second.bar.tf);
    auto left = lifetime - (now - kv.second.received_ms);
    if (left <= 0)
      continue;
    if (!flush_if_full(1))
      return false;
    pipeline_.cmd("SET")
      .arg(kv.first)
      .arg(encode_bar(kv.second.bar))
      .arg("PX")
      .arg(left);
  }
  for (const auto& kv : indicators_) {
    auto left = opts_.indicators_ttl_ms - (now - kv.second.received_ms);
    if (left <= 0)
      continue;
    if (!flush_if_full(1))
      return false;
    add_indicators(pipeline_, keys_, kv.second.snapshot, left);
  }
  for (const auto& kv : health_) {
    if (!flush_if_full(1))
      return false;
    add_health(pipeline_, keys_, kv.second);
  }
  if (!pipeline_.empty() && !send())
    return false;
  if (!client_.connected())
    return false;
  stale_ = false;
  ++counters_.refills;
  return true;
}

std::optional<redis_info> cache_store::info() {
  if (!client_.connected())
    return std::nullopt;
  auto reply = client_.command({"INFO", "memory", "stats"});
  if (!reply) {
    stale_ = true;
    ++counters_.errors;
    return std::nullopt;
  }
  if (!reply->is_string()) {
    ++counters_.errors;
    return std::nullopt;
  }
  return parse_redis_info(reply->str);
}

} // namespace csp::storage
