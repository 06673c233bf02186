#include "actors/candle_rollup.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace csp::actors {

using messages::bar;
using messages::ms_per_minute;
using messages::timeframe;

namespace {

constexpr std::int64_t far_past = std::numeric_limits<std::int64_t>::min() / 4;
constexpr std::int64_t far_future = std::numeric_limits<std::int64_t>::max();

bool has_volume(const bar& c) noexcept {
  return c.volume.units != 0 || c.trade_count != 0;
}

/// Same content (revision and closed flag aside).
bool same_values(const bar& x, const bar& y) noexcept {
  return x.open == y.open && x.high == y.high && x.low == y.low
    && x.close == y.close && x.volume == y.volume
    && x.quote_volume == y.quote_volume
    && x.taker_buy_volume == y.taker_buy_volume
    && x.taker_buy_quote_volume == y.taker_buy_quote_volume
    && x.trade_count == y.trade_count && x.first_trade_id == y.first_trade_id
    && x.last_trade_id == y.last_trade_id;
}

} // namespace

candle_rollup::candle_rollup(std::string exchange, std::string symbol,
  bar_aggregator_config cfg, bar_sink& sink)
    : exchange_(std::move(exchange)), symbol_(std::move(symbol)),
      cfg_(std::move(cfg)), sink_(sink), clock_(far_past) {
  for (auto tf : cfg_.higher_timeframes)
    series_.push_back(period_series{tf, {}});
}

bool candle_rollup::add(const bar& candle) {
  if (candle.tf != timeframe::m1 || !candle.closed)
    return false;
  auto open = messages::bucket_open(candle.open_time_ms, timeframe::m1);
  if (open + ms_per_minute + cfg_.allowed_lateness_ms <= clock_) {
    ++stats_.late;
    return false;
  }
  bar c = candle;
  c.exchange = exchange_;
  c.symbol = symbol_;
  c.open_time_ms = open;
  c.close_time_ms = messages::close_time(open, timeframe::m1);
  auto [pos, fresh] = minutes_.try_emplace(open);
  if (fresh) {
    c.revision = 0;
    ++stats_.bars_closed;
  } else {
    if (same_values(pos->second, c)) {
      ++stats_.duplicates;
      return false;
    }
    c.revision = pos->second.revision + 1;
    ++stats_.revisions;
  }
  pos->second = c;
  ++stats_.candles_applied;
  sink_.on_bar(c);
  for (auto& ps : series_) {
    auto po = messages::bucket_open(open, ps.tf);
    auto& p = ps.slots[po];
    if (p.closed)
      revise_period(ps, po, p);
  }
  clock_ = std::max(clock_, open + ms_per_minute);
  close_through(clock_);
  evict();
  return true;
}

void candle_rollup::advance(std::int64_t now_ms) {
  for (auto& ps : series_) {
    auto dur = messages::duration_ms(ps.tf);
    for (auto& [open, p] : ps.slots)
      if (!p.closed && open + dur + cfg_.allowed_lateness_ms <= now_ms)
        close_period(ps, open, p);
  }
}

std::int64_t candle_rollup::next_due_ms() const noexcept {
  auto due = far_future;
  for (const auto& ps : series_) {
    auto dur = messages::duration_ms(ps.tf);
    for (const auto& [open, p] : ps.slots)
      if (!p.closed)
        due = std::min(due, open + dur + cfg_.allowed_lateness_ms);
  }
  return due;
}

bool candle_rollup::period_value(
  timeframe tf, std::int64_t open_ms, bar& out) const {
  auto end = open_ms + messages::duration_ms(tf);
  bool any = false;
  bool traded = false;
  for (auto i = minutes_.lower_bound(open_ms);
       i != minutes_.end() && i->first < end; ++i) {
    const auto& c = i->second;
    if (!any) {
      any = true;
      // A zero-volume bar at the first candle's close unless one trades.
      out.open = out.high = out.low = out.close = c.close;
    }
    if (!has_volume(c))
      continue;
    if (!traded) {
      traded = true;
      out.open = c.open;
      out.high = c.high;
      out.low = c.low;
      out.volume = out.quote_volume = out.taker_buy_volume
        = out.taker_buy_quote_volume = messages::wide_decimal{};
      out.trade_count = 0;
      out.first_trade_id = c.first_trade_id;
    }
    out.high = std::max(out.high, c.high);
    out.low = std::min(out.low, c.low);
    out.close = c.close;
    out.volume += c.volume;
    out.quote_volume += c.quote_volume;
    out.taker_buy_volume += c.taker_buy_volume;
    out.taker_buy_quote_volume += c.taker_buy_quote_volume;
    out.trade_count += c.trade_count;
    if (c.last_trade_id >= 0)
      out.last_trade_id = c.last_trade_id;
  }
  if (!any)
    return false;
  if (!traded) {
    out.volume = out.quote_volume = out.taker_buy_volume
      = out.taker_buy_quote_volume = messages::wide_decimal{};
    out.trade_count = 0;
    out.first_trade_id = out.last_trade_id = -1;
  }
  out.exchange = exchange_;
  out.symbol = symbol_;
  out.tf = tf;
  out.open_time_ms = open_ms;
  out.close_time_ms = messages::close_time(open_ms, tf);
  out.closed = true;
  return true;
}

void candle_rollup::close_period(
  period_series& ps, std::int64_t open_ms, period_slot& p) {
  p.closed = true;
  bar b;
  if (!period_value(ps.tf, open_ms, b))
    return;
  b.revision = 0;
  p.revision = 0;
  p.emitted = b;
  ++stats_.bars_closed;
  sink_.on_bar(b);
}

void candle_rollup::revise_period(
  period_series& ps, std::int64_t open_ms, period_slot& p) {
  bar b;
  if (!period_value(ps.tf, open_ms, b))
    return;
  if (p.revision >= 0 && same_values(p.emitted, b))
    return;
  b.revision = p.revision + 1;
  p.revision = b.revision;
  p.emitted = b;
  if (b.revision == 0)
    ++stats_.bars_closed;
  else
    ++stats_.revisions;
  sink_.on_bar(b);
}

void candle_rollup::close_through(std::int64_t data_clock_ms) {
  for (auto& ps : series_) {
    auto dur = messages::duration_ms(ps.tf);
    for (auto& [open, p] : ps.slots) {
      if (open + dur > data_clock_ms)
        break;
      if (!p.closed)
        close_period(ps, open, p);
    }
  }
}

void candle_rollup::evict() {
  // Everything that ended at or before this can no longer change.
  auto final_before = clock_ - cfg_.allowed_lateness_ms;
  auto keep_from = final_before - ms_per_minute + 1;
  for (auto& ps : series_) {
    auto dur = messages::duration_ms(ps.tf);
    while (!ps.slots.empty()) {
      auto& [open, p] = *ps.slots.begin();
      if (!p.closed || open + dur > final_before)
        break;
      ps.slots.erase(ps.slots.begin());
    }
    if (!ps.slots.empty())
      keep_from = std::min(keep_from, ps.slots.begin()->first);
  }
  minutes_.erase(minutes_.begin(), minutes_.lower_bound(keep_from));
}

} // namespace csp::actors
