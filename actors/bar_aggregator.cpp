#include "actors/bar_aggregator.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace csp::actors {

using messages::decimal;
using messages::int128;
using messages::ms_per_minute;
using messages::timeframe;

namespace {

constexpr std::int64_t far_past = std::numeric_limits<std::int64_t>::min() / 4;
constexpr std::int64_t far_future = std::numeric_limits<std::int64_t>::max();

bool earlier(std::int64_t t1, std::int64_t id1, std::int64_t t2,
  std::int64_t id2) noexcept {
  return t1 < t2 || (t1 == t2 && id1 < id2);
}

} // namespace

std::string bar_aggregator_config::validate() const {
  if (grace_ms < 0)
    return "grace_ms must be >= 0";
  if (allowed_lateness_ms < grace_ms)
    return "allowed_lateness_ms must be >= grace_ms";
  for (auto tf : higher_timeframes)
    if (tf == timeframe::m1)
      return "higher_timeframes must not contain 1m";
  return {};
}

// -- trade_agg ----------------------------------------------------------------

void bar_aggregator::trade_agg::add(const messages::trade& t) noexcept {
  auto p = t.price;
  if (count == 0) {
    open = high = low = close = p;
    open_time = close_time = t.trade_time_ms;
    open_id = close_id = first_id = last_id = t.id;
  } else {
    if (p > high)
      high = p;
    if (p < low)
      low = p;
    if (earlier(t.trade_time_ms, t.id, open_time, open_id)) {
      open = p;
      open_time = t.trade_time_ms;
      open_id = t.id;
    }
    if (earlier(close_time, close_id, t.trade_time_ms, t.id)) {
      close = p;
      close_time = t.trade_time_ms;
      close_id = t.id;
    }
    first_id = std::min(first_id, t.id);
    last_id = std::max(last_id, t.id);
  }
  ++count;
  auto pq = static_cast<int128>(p.units) * t.quantity.units;
  volume += t.quantity.units;
  quote_e16 += pq;
  if (!t.buyer_is_maker) {
    taker_volume += t.quantity.units;
    taker_quote_e16 += pq;
  }
}

void bar_aggregator::trade_agg::merge(const trade_agg& other) noexcept {
  if (other.count == 0)
    return;
  if (count == 0) {
    *this = other;
    return;
  }
  high = std::max(high, other.high);
  low = std::min(low, other.low);
  if (earlier(other.open_time, other.open_id, open_time, open_id)) {
    open = other.open;
    open_time = other.open_time;
    open_id = other.open_id;
  }
  if (earlier(close_time, close_id, other.close_time, other.close_id)) {
    close = other.close;
    close_time = other.close_time;
    close_id = other.close_id;
  }
  first_id = std::min(first_id, other.first_id);
  last_id = std::max(last_id, other.last_id);
  count += other.count;
  volume += other.volume;
  quote_e16 += other.quote_e16;
  taker_volume += other.taker_volume;
  taker_quote_e16 += other.taker_quote_e16;
}

bool bar_aggregator::trade_agg::operator==(
  const trade_agg& other) const noexcept {
  if (count != other.count)
    return false;
  if (count == 0)
    return true;
  return open == other.open && high == other.high && low == other.low
    && close == other.close && volume == other.volume
    && quote_e16 == other.quote_e16 && taker_volume == other.taker_volume
    && taker_quote_e16 == other.taker_quote_e16 && first_id == other.first_id
    && last_id == other.last_id;
}

bool bar_aggregator::bar_value::operator==(
  const bar_value& other) const noexcept {
  if (exists != other.exists)
    return false;
  if (!exists)
    return true;
  if (trades.count == 0)
    return other.trades.count == 0 && zero_price == other.zero_price;
  return trades == other.trades;
}

// -- construction -------------------------------------------------------------

bar_aggregator::bar_aggregator(std::string exchange, std::string symbol,
  bar_aggregator_config cfg, bar_sink& sink)
    : exchange_(std::move(exchange)), symbol_(std::move(symbol)),
      cfg_(std::move(cfg)), sink_(sink), clock_(far_past),
      next_action_(far_future) {
  for (auto tf : cfg_.higher_timeframes)
    periods_.push_back(period_series{tf, {}});
  scratch_.exchange = exchange_;
  scratch_.symbol = symbol_;
}

// -- trades -------------------------------------------------------------------

bool bar_aggregator::add(const messages::trade& t) {
  if (ids_.observe(t.id) == id_verdict::duplicate) {
    ++stats_.duplicates_dropped;
    return false;
  }
  if (t.trade_time_ms > clock_)
    clock_ = t.trade_time_ms;
  if (t.trade_time_ms < clock_ - cfg_.allowed_lateness_ms) {
    ++stats_.late_trades;
    sink_.on_late_trade(t);
    return true;
  }
  ++stats_.trades_applied;
  auto open = messages::bucket_open(t.trade_time_ms, timeframe::m1);
  if (hot_ != nullptr && open == hot_open_ && !hot_->closed) {
    hot_->trades.add(t);
  } else {
    auto& m = minute_at(open);
    m.trades.add(t);
    if (m.closed) {
      m.gap = false;
      on_closed_minute_changed(open);
    } else {
      hot_ = &m;
      hot_open_ = open;
    }
  }
  if (clock_ >= next_action_)
    close_due();
  return true;
}

void bar_aggregator::advance(std::int64_t now_ms) {
  if (now_ms > clock_)
    clock_ = now_ms;
  if (clock_ >= next_action_)
    close_due();
}

// -- minutes and periods ------------------------------------------------------

bar_aggregator::minute_slot& bar_aggregator::minute_at(std::int64_t open) {
  auto make = [this](std::int64_t o) {
    minute_slot m;
    m.open_ms = o;
    if (any_closed_ && o <= closed_through_) {
      // Only reachable when a trade precedes every minute seen so far.
      m.closed = true;
      m.gap = !healthy_;
    }
    return m;
  };
  if (minutes_.empty()) {
    auto first = any_closed_ ? closed_through_ + ms_per_minute : open;
    for (auto o = first; o <= open; o += ms_per_minute) {
      minutes_.push_back(make(o));
      ensure_periods(o);
    }
  } else if (open < minutes_.front().open_ms) {
    for (auto o = minutes_.front().open_ms - ms_per_minute; o >= open;
         o -= ms_per_minute) {
      minutes_.push_front(make(o));
      ensure_periods(o);
    }
  } else if (open > minutes_.back().open_ms) {
    for (auto o = minutes_.back().open_ms + ms_per_minute; o <= open;
         o += ms_per_minute) {
      minutes_.push_back(make(o));
      ensure_periods(o);
    }
  }
  update_next_action();
  return minutes_[minute_index(open)];
}

void bar_aggregator::ensure_periods(std::int64_t minute_open) {
  for (auto& ps : periods_) {
    auto dur = messages::duration_ms(ps.tf);
    auto po = messages::bucket_open(minute_open, ps.tf);
    auto make = [&](std::int64_t o) {
      period_slot p;
      p.open_ms = o;
      p.closed = any_closed_ && o + dur - ms_per_minute <= closed_through_;
      return p;
    };
    if (ps.slots.empty()) {
      ps.slots.push_back(make(po));
    } else if (po > ps.slots.back().open_ms) {
      for (auto o = ps.slots.back().open_ms + dur; o <= po; o += dur)
        ps.slots.push_back(make(o));
    } else if (po < ps.slots.front().open_ms) {
      for (auto o = ps.slots.front().open_ms - dur; o >= po; o -= dur)
        ps.slots.push_front(make(o));
    }
  }
}

void bar_aggregator::update_next_action() noexcept {
  std::int64_t next_close;
  if (any_closed_)
    next_close = closed_through_ + ms_per_minute;
  else if (!minutes_.empty())
    next_close = minutes_.front().open_ms;
  else {
    next_action_ = far_future;
    return;
  }
  next_action_ = next_close + ms_per_minute + cfg_.grace_ms;
  if (!minutes_.empty())
    next_action_ = std::min(next_action_,
      minutes_.front().open_ms + ms_per_minute + cfg_.allowed_lateness_ms);
}

void bar_aggregator::close_due() {
  for (;;) {
    std::int64_t next;
    if (any_closed_)
      next = closed_through_ + ms_per_minute;
    else if (!minutes_.empty())
      next = minutes_.front().open_ms;
    else
      break;
    if (next + ms_per_minute + cfg_.grace_ms > clock_)
      break;
    close_minute(minute_at(next));
    evict_final();
  }
  evict_final();
  update_next_action();
}

void bar_aggregator::close_minute(minute_slot& m) {
  m.closed = true;
  closed_through_ = m.open_ms;
  any_closed_ = true;
  if (m.trades.count == 0 && !healthy_) {
    m.gap = true;
  } else {
    auto v = minute_value(minute_index(m.open_ms));
    if (v.exists) {
      emit(timeframe::m1, m.open_ms, v, 0, true);
      m.revision = 0;
      m.emitted = v;
    }
  }
  auto minute_end = m.open_ms + ms_per_minute;
  for (auto& ps : periods_) {
    auto dur = messages::duration_ms(ps.tf);
    if (minute_end % dur != 0)
      continue;
    auto po = minute_end - dur;
    auto& front = ps.slots.front();
    auto& p = ps.slots[static_cast<std::size_t>((po - front.open_ms) / dur)];
    p.closed = true;
    auto v = period_value(ps, p);
    if (v.exists) {
      emit(ps.tf, p.open_ms, v, 0, true);
      p.revision = 0;
      p.emitted = v;
    }
  }
}

void bar_aggregator::on_closed_minute_changed(std::int64_t first_open) {
  auto first = minute_index(first_open);
  auto last = first;
  for (auto j = first; j < minutes_.size() && minutes_[j].closed; ++j) {
    auto& m = minutes_[j];
    if (j > first && m.trades.count > 0)
      break; // later bars with trades do not depend on earlier closes
    last = j;
    if (m.gap)
      continue;
    auto v = minute_value(j);
    if (v != m.emitted) {
      ++m.revision;
      emit(timeframe::m1, m.open_ms, v, m.revision, true);
      m.emitted = v;
    }
  }
  auto last_open = minutes_[last].open_ms;
  for (auto& ps : periods_) {
    auto dur = messages::duration_ms(ps.tf);
    for (auto& p : ps.slots) {
      if (p.open_ms + dur <= first_open || p.open_ms > last_open || !p.closed)
        continue;
      auto v = period_value(ps, p);
      if (v != p.emitted) {
        ++p.revision;
        emit(ps.tf, p.open_ms, v, p.revision, true);
        p.emitted = v;
      }
    }
  }
}

void bar_aggregator::evict_final() {
  while (!minutes_.empty()) {
    auto& m = minutes_.front();
    if (!m.closed
      || m.open_ms + ms_per_minute > clock_ - cfg_.allowed_lateness_ms)
      break;
    for (auto& ps : periods_) {
      auto dur = messages::duration_ms(ps.tf);
      auto po = messages::bucket_open(m.open_ms, ps.tf);
      auto& front = ps.slots.front();
      auto& p = ps.slots[static_cast<std::size_t>((po - front.open_ms) / dur)];
      p.sealed.merge(m.trades);
      p.sealed_exists = p.sealed_exists || !m.gap;
    }
    if (m.trades.count > 0)
      evicted_close_ = m.trades.close;
    if (hot_ == &m)
      hot_ = nullptr;
    auto evicted_end = m.open_ms + ms_per_minute;
    minutes_.pop_front();
    for (auto& ps : periods_) {
      auto dur = messages::duration_ms(ps.tf);
      while (!ps.slots.empty() && ps.slots.front().closed
        && ps.slots.front().open_ms + dur <= evicted_end)
        ps.slots.pop_front();
    }
  }
}

void bar_aggregator::flush() {
  if (!minutes_.empty()) {
    auto back = minutes_.back().open_ms;
    for (;;) {
      auto next = any_closed_ ? closed_through_ + ms_per_minute
                              : minutes_.front().open_ms;
      if (next > back)
        break;
      close_minute(minute_at(next));
    }
  }
  for (auto& ps : periods_) {
    for (auto& p : ps.slots) {
      if (p.closed)
        continue;
      p.closed = true;
      auto v = period_value(ps, p);
      if (v.exists) {
        emit(ps.tf, p.open_ms, v, 0, true);
        p.revision = 0;
        p.emitted = v;
      }
    }
  }
  update_next_action();
}

// -- values -------------------------------------------------------------------

std::optional<decimal> bar_aggregator::effective_close_before(
  std::size_t index) const {
  for (auto j = index; j > 0; --j) {
    const auto& m = minutes_[j - 1];
    if (m.trades.count > 0)
      return m.trades.close;
  }
  return evicted_close_;
}

bar_aggregator::bar_value bar_aggregator::minute_value(
  std::size_t index) const {
  bar_value v;
  const auto& m = minutes_[index];
  if (m.gap)
    return v;
  if (m.trades.count > 0) {
    v.exists = true;
    v.trades = m.trades;
    return v;
  }
  if (auto price = effective_close_before(index)) {
    v.exists = true;
    v.zero_price = *price;
  }
  return v;
}

bar_aggregator::bar_value bar_aggregator::period_value(
  const period_series& ps, const period_slot& p) const {
  bar_value v;
  v.trades = p.sealed;
  bool exists = p.sealed_exists;
  auto end = p.open_ms + messages::duration_ms(ps.tf);
  std::optional<std::size_t> first_retained;
  if (!minutes_.empty()) {
    auto lo = std::max(p.open_ms, minutes_.front().open_ms);
    auto hi = std::min(end, minutes_.back().open_ms + ms_per_minute);
    for (auto o = lo; o < hi; o += ms_per_minute) {
      auto idx = minute_index(o);
      const auto& m = minutes_[idx];
      if (!first_retained)
        first_retained = idx;
      if (m.gap)
        continue;
      exists = true;
      v.trades.merge(m.trades);
    }
  }
  if (!exists)
    return v;
  if (v.trades.count > 0) {
    v.exists = true;
    return v;
  }
  auto price
    = first_retained ? effective_close_before(*first_retained) : evicted_close_;
  if (price) {
    v.exists = true;
    v.zero_price = *price;
  }
  return v;
}

std::optional<messages::bar> bar_aggregator::forming(
  messages::timeframe tf) const {
  if (minutes_.empty() || minutes_.back().closed)
    return std::nullopt;
  auto last = minutes_.size() - 1;
  if (tf == timeframe::m1) {
    auto v = minute_value(last);
    if (!v.exists)
      return std::nullopt;
    return make_bar(tf, minutes_.back().open_ms, v, 0, false);
  }
  for (const auto& ps : periods_) {
    if (ps.tf != tf)
      continue;
    auto po = messages::bucket_open(minutes_.back().open_ms, tf);
    for (const auto& p : ps.slots) {
      if (p.open_ms != po)
        continue;
      auto v = period_value(ps, p);
      if (!v.exists)
        return std::nullopt;
      return make_bar(tf, p.open_ms, v, 0, false);
    }
  }
  return std::nullopt;
}

// -- output -------------------------------------------------------------------

messages::bar bar_aggregator::make_bar(timeframe tf, std::int64_t open_ms,
  const bar_value& v, std::int32_t revision, bool closed) const {
  fill_scratch(tf, open_ms, v, revision, closed);
  return scratch_;
}

void bar_aggregator::fill_scratch(timeframe tf, std::int64_t open_ms,
  const bar_value& v, std::int32_t revision, bool closed) const {
  auto& b = scratch_;
  b.tf = tf;
  b.open_time_ms = open_ms;
  b.close_time_ms = messages::close_time(open_ms, tf);
  b.revision = revision;
  b.closed = closed;
  const auto& a = v.trades;
  if (a.count > 0) {
    b.open = a.open;
    b.high = a.high;
    b.low = a.low;
    b.close = a.close;
    b.volume.units = a.volume;
    b.quote_volume = messages::round_product(a.quote_e16);
    b.taker_buy_volume.units = a.taker_volume;
    b.taker_buy_quote_volume = messages::round_product(a.taker_quote_e16);
    b.trade_count = a.count;
    b.first_trade_id = a.first_id;
    b.last_trade_id = a.last_id;
  } else {
    b.open = b.high = b.low = b.close = v.zero_price;
    b.volume = b.quote_volume = b.taker_buy_volume = b.taker_buy_quote_volume
      = messages::wide_decimal{};
    b.trade_count = 0;
    b.first_trade_id = b.last_trade_id = -1;
  }
}

void bar_aggregator::emit(timeframe tf, std::int64_t open_ms,
  const bar_value& v, std::int32_t revision, bool closed) {
  fill_scratch(tf, open_ms, v, revision, closed);
  if (revision == 0)
    ++stats_.bars_closed;
  else
    ++stats_.revisions;
  sink_.on_bar(scratch_);
}

} // namespace csp::actors
