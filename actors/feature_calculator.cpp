#include "actors/feature_calculator.hpp"

#include <algorithm>
#include <cmath>

namespace csp::actors {

namespace {

using messages::feature;
using messages::indicator;

constexpr std::size_t at(feature f) noexcept {
  return static_cast<std::size_t>(f);
}

constexpr std::size_t at(indicator i) noexcept {
  return static_cast<std::size_t>(i);
}

/// A window whose standard deviation is below this fraction of its mean
/// is flat: its z-score is null, not a rounding artefact.
constexpr double flat_fraction = 1e-9;

/// close / average - 1, null unless the average is positive.
double distance(double close, double average) noexcept {
  return average > 0.0 ? close / average - 1.0 : ta::null;
}

} // namespace

const std::array<std::size_t, messages::feature_count>
  feature_calculator::first_valid_index = [] {
    const auto& ind = indicator_calculator::first_valid_index;
    std::array<std::size_t, messages::feature_count> result{};
    result[at(feature::log_return_1)] = 1;
    result[at(feature::log_return_5)] = long_return;
    result[at(feature::volatility_20)] = window;
    result[at(feature::range_pct)] = 0;
    result[at(feature::atr_pct)] = ind[at(indicator::atr_14)];
    result[at(feature::rsi_norm)] = ind[at(indicator::rsi_14)];
    result[at(feature::macd_hist_pct)] = ind[at(indicator::macd_hist)];
    result[at(feature::bb_percent_b)] = ind[at(indicator::bb_upper)];
    result[at(feature::bb_width)] = ind[at(indicator::bb_upper)];
    result[at(feature::dist_sma_20)] = ind[at(indicator::sma_20)];
    result[at(feature::dist_sma_50)] = ind[at(indicator::sma_50)];
    result[at(feature::dist_ema_12)] = ind[at(indicator::ema_12)];
    result[at(feature::dist_ema_26)] = ind[at(indicator::ema_26)];
    result[at(feature::volume_zscore_20)] = window - 1;
    result[at(feature::volume_ratio_20)] = window - 1;
    return result;
  }();

void feature_calculator::ring::push(double x) noexcept {
  slots[pos] = x;
  if (++pos == window)
    pos = 0;
  if (count < window)
    ++count;
}

double feature_calculator::ring::at(std::size_t back) const noexcept {
  return slots[(pos + window - 1 - back) % window];
}

std::pair<double, double> feature_calculator::window_stats(
  const ring& r, double x) noexcept {
  constexpr std::size_t older = window - 1;
  if (r.count < older)
    return {ta::null, ta::null};
  auto sum = x;
  for (std::size_t i = 0; i < older; ++i)
    sum += r.at(i);
  auto mean = sum / static_cast<double>(window);
  auto squares = (x - mean) * (x - mean);
  for (std::size_t i = 0; i < older; ++i) {
    auto d = r.at(i) - mean;
    squares += d * d;
  }
  return {mean, std::sqrt(squares / static_cast<double>(older))};
}

double feature_calculator::log_return(double close) const noexcept {
  if (closes_.count == 0)
    return ta::null;
  auto prev = closes_.at(0);
  if (!(prev > 0.0) || !(close > 0.0))
    return ta::null;
  return std::log(close / prev);
}

feature_calculator::values feature_calculator::peek(
  const ohlcv& bar, const indicator_values& ind) const noexcept {
  values out;
  out.fill(ta::null);
  auto close = bar.close;
  auto r1 = log_return(close);
  out[at(feature::log_return_1)] = r1;
  if (closes_.count >= long_return && close > 0.0) {
    auto then = closes_.at(long_return - 1);
    if (then > 0.0)
      out[at(feature::log_return_5)] = std::log(close / then);
  }
  out[at(feature::volatility_20)] = window_stats(returns_, r1).second;
  if (close > 0.0) {
    out[at(feature::range_pct)] = (bar.high - bar.low) / close;
    out[at(feature::atr_pct)] = ind[at(indicator::atr_14)] / close;
    out[at(feature::macd_hist_pct)] = ind[at(indicator::macd_hist)] / close;
  }
  out[at(feature::rsi_norm)] = ind[at(indicator::rsi_14)] / 100.0;
  auto upper = ind[at(indicator::bb_upper)];
  auto lower = ind[at(indicator::bb_lower)];
  auto middle = ind[at(indicator::bb_middle)];
  auto width = upper - lower;
  if (width > 0.0)
    out[at(feature::bb_percent_b)] = (close - lower) / width;
  if (middle > 0.0)
    out[at(feature::bb_width)] = width / middle;
  out[at(feature::dist_sma_20)] = distance(close, ind[at(indicator::sma_20)]);
  out[at(feature::dist_sma_50)] = distance(close, ind[at(indicator::sma_50)]);
  out[at(feature::dist_ema_12)] = distance(close, ind[at(indicator::ema_12)]);
  out[at(feature::dist_ema_26)] = distance(close, ind[at(indicator::ema_26)]);
  auto [mean, stddev] = window_stats(volumes_, bar.volume);
  if (stddev > flat_fraction * std::fabs(mean))
    out[at(feature::volume_zscore_20)] = (bar.volume - mean) / stddev;
  if (mean > 0.0)
    out[at(feature::volume_ratio_20)] = bar.volume / mean;
  return out;
}

feature_calculator::values feature_calculator::update(
  const ohlcv& bar, const indicator_values& ind) noexcept {
  auto out = peek(bar, ind);
  if (bars_ > 0)
    returns_.push(out[at(feature::log_return_1)]);
  closes_.push(bar.close);
  volumes_.push(bar.volume);
  ++bars_;
  return out;
}

bool feature_series::on_bar(
  const ohlcv& bar, const indicator_series::output& ind, output& out) {
  if (ind.empty())
    return false;
  // A replayed bar takes its indicators from `ind` (which covers the
  // same bars, oldest first) when they changed.
  auto next = ind.begin();
  return replay_.apply(
    bar, ind.front().second,
    [&](std::int64_t t, feature_calculator::indicator_values& stored) {
      while (next != ind.end() && next->first < t)
        ++next;
      if (next != ind.end() && next->first == t)
        stored = next->second;
    },
    [&out](const ohlcv& b, const feature_calculator::indicator_values& iv,
      feature_calculator& calc) {
      out.emplace_back(b.open_time_ms, calc.update(b, iv));
    });
}

} // namespace csp::actors
