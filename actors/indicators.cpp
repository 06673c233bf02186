#include "actors/indicators.hpp"

namespace csp::actors {

namespace {

using messages::indicator;

constexpr std::size_t at(indicator i) noexcept {
  return static_cast<std::size_t>(i);
}

/// The UTC day number of a time in ms, flooring times before the epoch.
constexpr std::int64_t utc_day(std::int64_t ms) noexcept {
  auto day = ms / ta::vwap::day_ms;
  if (ms % ta::vwap::day_ms < 0)
    --day;
  return day;
}

} // namespace

ohlcv to_ohlcv(const messages::bar& b) noexcept {
  return {b.open_time_ms, b.open.to_double(), b.high.to_double(),
    b.low.to_double(), b.close.to_double(), b.volume.to_double()};
}

namespace ta {

double vwap::update(std::int64_t open_time_ms, double high, double low,
  double close, double volume) noexcept {
  auto day = utc_day(open_time_ms);
  if (!started_ || day != day_) {
    started_ = true;
    day_ = day;
    sum_pv_ = 0.0;
    sum_v_ = 0.0;
  }
  auto typical = (high + low + close) / 3.0;
  sum_pv_ += typical * volume;
  sum_v_ += volume;
  if (!(sum_v_ > 0.0))
    return null;
  return sum_pv_ / sum_v_;
}

} // namespace ta

const std::array<std::size_t, messages::indicator_count>
  indicator_calculator::first_valid_index = [] {
    std::array<std::size_t, messages::indicator_count> result{};
    result[at(indicator::sma_20)] = ta::sma<20>::first_valid_index;
    result[at(indicator::sma_50)] = ta::sma<50>::first_valid_index;
    result[at(indicator::sma_100)] = ta::sma<100>::first_valid_index;
    result[at(indicator::sma_200)] = ta::sma<200>::first_valid_index;
    result[at(indicator::ema_12)] = ta::ema<12>::first_valid_index;
    result[at(indicator::ema_26)] = ta::ema<26>::first_valid_index;
    result[at(indicator::ema_50)] = ta::ema<50>::first_valid_index;
    result[at(indicator::rsi_14)] = ta::rsi<14>::first_valid_index;
    constexpr auto macd_first = ta::macd<12, 26, 9>::first_valid_index;
    result[at(indicator::macd)] = macd_first;
    result[at(indicator::macd_signal)] = macd_first;
    result[at(indicator::macd_hist)] = macd_first;
    constexpr auto bb_first = ta::bollinger<20>::first_valid_index;
    result[at(indicator::bb_upper)] = bb_first;
    result[at(indicator::bb_middle)] = bb_first;
    result[at(indicator::bb_lower)] = bb_first;
    constexpr auto stoch_first = ta::stochastic<14, 3, 3>::first_valid_index;
    result[at(indicator::stoch_k)] = stoch_first;
    result[at(indicator::stoch_d)] = stoch_first;
    result[at(indicator::atr_14)] = ta::atr<14>::first_valid_index;
    result[at(indicator::adx_14)] = ta::adx<14>::first_valid_index;
    result[at(indicator::vwap)] = 0;
    return result;
  }();

indicator_calculator::values indicator_calculator::update(
  const ohlcv& bar) noexcept {
  values out;
  auto close = bar.close;
  out[at(indicator::sma_20)] = sma20_.update(close);
  out[at(indicator::sma_50)] = sma50_.update(close);
  out[at(indicator::sma_100)] = sma100_.update(close);
  out[at(indicator::sma_200)] = sma200_.update(close);
  out[at(indicator::ema_12)] = ema12_.update(close);
  out[at(indicator::ema_26)] = ema26_.update(close);
  out[at(indicator::ema_50)] = ema50_.update(close);
  out[at(indicator::rsi_14)] = rsi14_.update(close);
  auto m = macd_.update(close);
  out[at(indicator::macd)] = m.macd;
  out[at(indicator::macd_signal)] = m.signal;
  out[at(indicator::macd_hist)] = m.hist;
  auto bb = bollinger_.update(close);
  out[at(indicator::bb_upper)] = bb.upper;
  out[at(indicator::bb_middle)] = bb.middle;
  out[at(indicator::bb_lower)] = bb.lower;
  auto st = stoch_.update(bar.high, bar.low, close);
  out[at(indicator::stoch_k)] = st.k;
  out[at(indicator::stoch_d)] = st.d;
  out[at(indicator::atr_14)] = atr14_.update(bar.high, bar.low, close);
  out[at(indicator::adx_14)] = adx14_.update(bar.high, bar.low, close);
  out[at(indicator::vwap)]
    = vwap_.update(bar.open_time_ms, bar.high, bar.low, close, bar.volume);
  ++bars_;
  return out;
}

indicator_calculator::values indicator_calculator::peek(
  const ohlcv& bar) const noexcept {
  values out;
  auto close = bar.close;
  out[at(indicator::sma_20)] = sma20_.peek(close);
  out[at(indicator::sma_50)] = sma50_.peek(close);
  out[at(indicator::sma_100)] = sma100_.peek(close);
  out[at(indicator::sma_200)] = sma200_.peek(close);
  out[at(indicator::ema_12)] = ema12_.peek(close);
  out[at(indicator::ema_26)] = ema26_.peek(close);
  out[at(indicator::ema_50)] = ema50_.peek(close);
  out[at(indicator::rsi_14)] = rsi14_.peek(close);
  auto m = macd_.peek(close);
  out[at(indicator::macd)] = m.macd;
  out[at(indicator::macd_signal)] = m.signal;
  out[at(indicator::macd_hist)] = m.hist;
  auto bb = bollinger_.peek(close);
  out[at(indicator::bb_upper)] = bb.upper;
  out[at(indicator::bb_middle)] = bb.middle;
  out[at(indicator::bb_lower)] = bb.lower;
  auto st = stoch_.peek(bar.high, bar.low, close);
  out[at(indicator::stoch_k)] = st.k;
  out[at(indicator::stoch_d)] = st.d;
  out[at(indicator::atr_14)] = atr14_.peek(bar.high, bar.low, close);
  out[at(indicator::adx_14)] = adx14_.peek(bar.high, bar.low, close);
  out[at(indicator::vwap)]
    = vwap_.peek(bar.open_time_ms, bar.high, bar.low, close, bar.volume);
  return out;
}

} // namespace csp::actors
