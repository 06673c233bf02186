#define CAF_SUITE feature_calculator
#include "caf/test/unit_test.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "actors/feature_calculator.hpp"

using namespace csp::actors;
using csp::messages::feature;
using csp::messages::feature_count;
using csp::messages::feature_names;
using csp::messages::indicator;

namespace {

constexpr int64_t minute = 60000;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

using features = feature_calculator::values;
using indicators = indicator_calculator::values;

ohlcv make_bar(int64_t i, double close, double volume) {
  ohlcv b;
  b.open_time_ms = 1705312800000 + i * minute;
  b.open = close - 0.5;
  b.high = close + 1.25;
  b.low = close - 2;
  b.close = close;
  b.volume = volume;
  return b;
}

ohlcv random_bar(std::mt19937_64& rng, int64_t i) {
  auto close = 100 + static_cast<double>(rng() % 2000) / 10;
  auto volume = 1 + static_cast<double>(rng() % 5000) / 7;
  return make_bar(i, close, volume);
}

double ind(const indicators& v, indicator i) {
  return v[static_cast<size_t>(i)];
}

double& feat(features& v, feature f) {
  return v[static_cast<size_t>(f)];
}

double mean_of(const std::vector<double>& xs) {
  return std::accumulate(xs.begin(), xs.end(), 0.0)
    / static_cast<double>(xs.size());
}

/// Sample standard deviation (n - 1), two passes.
double stddev_of(const std::vector<double>& xs) {
  auto m = mean_of(xs);
  double sq = 0;
  for (auto x : xs)
    sq += (x - m) * (x - m);
  return std::sqrt(sq / static_cast<double>(xs.size() - 1));
}

/// The features of every bar of a whole series, computed in one batch
/// straight from the formulas of docs/FEATURES.md.
std::vector<features> reference(
  const std::vector<ohlcv>& bars, const std::vector<indicators>& inds) {
  std::vector<features> out;
  auto n = bars.size();
  std::vector<double> returns(n, nan);
  for (size_t t = 1; t < n; ++t)
    returns[t] = std::log(bars[t].close / bars[t - 1].close);
  for (size_t t = 0; t < n; ++t) {
    features f;
    f.fill(nan);
    const auto& b = bars[t];
    const auto& v = inds[t];
    auto c = b.close;
    feat(f, feature::log_return_1) = returns[t];
    if (t >= 5)
      feat(f, feature::log_return_5) = std::log(c / bars[t - 5].close);
    if (t >= 20) {
      std::vector<double> w(returns.begin() + static_cast<long>(t - 19),
        returns.begin() + static_cast<long>(t + 1));
      feat(f, feature::volatility_20) = stddev_of(w);
    }
    feat(f, feature::range_pct) = (b.high - b.low) / c;
    feat(f, feature::atr_pct) = ind(v, indicator::atr_14) / c;
    feat(f, feature::rsi_norm) = ind(v, indicator::rsi_14) / 100;
    feat(f, feature::macd_hist_pct) = ind(v, indicator::macd_hist) / c;
    auto up = ind(v, indicator::bb_upper);
    auto lo = ind(v, indicator::bb_lower);
    feat(f, feature::bb_percent_b) = (c - lo) / (up - lo);
    feat(f, feature::bb_width) = (up - lo) / ind(v, indicator::bb_middle);
    feat(f, feature::dist_sma_20) = c / ind(v, indicator::sma_20) - 1;
    feat(f, feature::dist_sma_50) = c / ind(v, indicator::sma_50) - 1;
    feat(f, feature::dist_ema_12) = c / ind(v, indicator::ema_12) - 1;
    feat(f, feature::dist_ema_26) = c / ind(v, indicator::ema_26) - 1;
    if (t >= 19) {
      std::vector<double> w;
      for (size_t i = t - 19; i <= t; ++i)
        w.push_back(bars[i].volume);
      feat(f, feature::volume_zscore_20)
        = (b.volume - mean_of(w)) / stddev_of(w);
      feat(f, feature::volume_ratio_20) = b.volume / mean_of(w);
    }
    out.push_back(f);
  }
  return out;
}

std::vector<indicators> indicators_of(const std::vector<ohlcv>& bars) {
  indicator_calculator calc;
  std::vector<indicators> out;
  for (const auto& b : bars)
    out.push_back(calc.update(b));
  return out;
}

bool close_enough(double got, double want) {
  if (std::isnan(want) || std::isnan(got))
    return std::isnan(want) && std::isnan(got);
  return std::fabs(got - want) <= 1e-9 * std::max(1.0, std::fabs(want));
}

/// Checks every feature of `got` against `want`; names the first mismatch.
bool agree(const features& got, const features& want, size_t bar) {
  for (size_t i = 0; i < feature_count; ++i) {
    if (!close_enough(got[i], want[i])) {
      CAF_MESSAGE("bar " << bar << " " << feature_names[i] << ": got " << got[i]
                         << ", want " << want[i]);
      return false;
    }
  }
  return true;
}

bool same(const features& x, const features& y) {
  return std::memcmp(x.data(), y.data(), sizeof(x)) == 0;
}

std::vector<ohlcv> random_series(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::vector<ohlcv> bars;
  for (size_t i = 0; i < n; ++i)
    bars.push_back(random_bar(rng, static_cast<int64_t>(i)));
  return bars;
}

} // namespace

CAF_TEST(incremental features equal the batch reference) {
  auto bars = random_series(11, 400);
  auto inds = indicators_of(bars);
  auto want = reference(bars, inds);
  feature_calculator calc;
  for (size_t t = 0; t < bars.size(); ++t)
    CAF_REQUIRE(agree(calc.update(bars[t], inds[t]), want[t], t));
  CAF_CHECK_EQUAL(calc.bars(), 400u);
}

CAF_TEST(features are null until their first valid index) {
  // Written out from docs/FEATURES.md, not taken from the implementation.
  const std::map<feature, size_t> documented{{feature::log_return_1, 1},
    {feature::log_return_5, 5}, {feature::volatility_20, 20},
    {feature::range_pct, 0}, {feature::atr_pct, 14}, {feature::rsi_norm, 14},
    {feature::macd_hist_pct, 33}, {feature::bb_percent_b, 19},
    {feature::bb_width, 19}, {feature::dist_sma_20, 19},
    {feature::dist_sma_50, 49}, {feature::dist_ema_12, 11},
    {feature::dist_ema_26, 25}, {feature::volume_zscore_20, 19},
    {feature::volume_ratio_20, 19}};
  CAF_REQUIRE_EQUAL(documented.size(), feature_count);
  auto bars = random_series(5, 80);
  auto inds = indicators_of(bars);
  feature_calculator calc;
  std::vector<features> got;
  for (size_t t = 0; t < bars.size(); ++t)
    got.push_back(calc.update(bars[t], inds[t]));
  for (auto [f, first] : documented) {
    auto i = static_cast<size_t>(f);
    CAF_MESSAGE(feature_names[i]);
    CAF_CHECK_EQUAL(feature_calculator::first_valid_index[i], first);
    for (size_t t = 0; t < bars.size(); ++t)
      CAF_CHECK_EQUAL(std::isnan(got[t][i]), t < first);
  }
}

CAF_TEST(hand computed values) {
  feature_calculator calc;
  indicators none;
  none.fill(nan);
  auto first = calc.update(make_bar(0, 100, 10), none);
  // (H - L) / C = (101.25 - 98) / 100.
  CAF_CHECK(close_enough(feat(first, feature::range_pct), 0.0325));
  CAF_CHECK(std::isnan(feat(first, feature::log_return_1)));
  CAF_CHECK(std::isnan(feat(first, feature::rsi_norm)));
  auto second = calc.update(make_bar(1, 110, 10), none);
  CAF_CHECK(
    close_enough(feat(second, feature::log_return_1), 0.0953101798043249));
  // Indicator-derived features scale the given indicator values.
  indicators given = none;
  given[static_cast<size_t>(indicator::rsi_14)] = 70;
  given[static_cast<size_t>(indicator::bb_upper)] = 130;
  given[static_cast<size_t>(indicator::bb_middle)] = 120;
  given[static_cast<size_t>(indicator::bb_lower)] = 110;
  given[static_cast<size_t>(indicator::sma_20)] = 100;
  given[static_cast<size_t>(indicator::atr_14)] = 6;
  given[static_cast<size_t>(indicator::macd_hist)] = -1.2;
  auto third = calc.update(make_bar(2, 120, 10), given);
  CAF_CHECK(close_enough(feat(third, feature::rsi_norm), 0.7));
  CAF_CHECK(close_enough(feat(third, feature::bb_percent_b), 0.5));
  CAF_CHECK(close_enough(feat(third, feature::bb_width), 20.0 / 120.0));
  CAF_CHECK(close_enough(feat(third, feature::dist_sma_20), 0.2));
  CAF_CHECK(close_enough(feat(third, feature::atr_pct), 0.05));
  CAF_CHECK(close_enough(feat(third, feature::macd_hist_pct), -0.01));
  CAF_CHECK(std::isnan(feat(third, feature::dist_sma_50)));
}

CAF_TEST(flat and empty windows give null not zero) {
  feature_calculator calc;
  indicators flat_bands;
  flat_bands.fill(nan);
  // A constant price: TA-Lib's bands collapse onto the middle.
  for (auto i :
    {indicator::bb_upper, indicator::bb_middle, indicator::bb_lower})
    flat_bands[static_cast<size_t>(i)] = 50;
  features last{};
  for (int64_t i = 0; i < 30; ++i)
    last = calc.update(make_bar(i, 50, 0.1), flat_bands);
  // Constant volume: no spread, no z-score; the ratio is 1.
  CAF_CHECK(std::isnan(feat(last, feature::volume_zscore_20)));
  CAF_CHECK(close_enough(feat(last, feature::volume_ratio_20), 1.0));
  CAF_CHECK(std::isnan(feat(last, feature::bb_percent_b)));
  CAF_CHECK_EQUAL(feat(last, feature::bb_width), 0.0);
  // A flat price has zero volatility, a real value.
  CAF_CHECK_EQUAL(feat(last, feature::volatility_20), 0.0);
  // Zero-volume bars: the ratio has no denominator.
  feature_calculator idle;
  for (int64_t i = 0; i < 25; ++i)
    last = idle.update(make_bar(i, 50, 0), flat_bands);
  CAF_CHECK(std::isnan(feat(last, feature::volume_ratio_20)));
  CAF_CHECK(std::isnan(feat(last, feature::volume_zscore_20)));
}

CAF_TEST(peek equals the update of the same bar without changing state) {
  auto bars = random_series(3, 60);
  auto inds = indicators_of(bars);
  feature_calculator calc;
  for (size_t t = 0; t < bars.size(); ++t) {
    auto peeked = calc.peek(bars[t], inds[t]);
    CAF_CHECK_EQUAL(calc.bars(), t);
    CAF_CHECK(same(peeked, calc.update(bars[t], inds[t])));
  }
}

CAF_TEST(revisions replay to the features of the final bars) {
  // Random revisions of recent bars and backfilled holes, fed through an
  // indicator_series as the processing shard does, must end with the
  // features of the final bars fed once, in order.
  std::mt19937_64 rng(17);
  indicator_series ind_series(10);
  feature_series series(10);
  std::map<int64_t, ohlcv> final_bars;
  std::map<int64_t, features> latest;
  int64_t next = 0;
  size_t revisions = 0;
  for (int step = 0; step < 3000; ++step) {
    ohlcv b;
    if (rng() % 10 < 6 || next < 8) {
      if (rng() % 20 == 0)
        ++next; // an outage minute, backfilled later (or never)
      b = random_bar(rng, next++);
    } else {
      b = random_bar(rng, next - 1 - static_cast<int64_t>(rng() % 6));
      ++revisions;
    }
    indicator_series::output ind;
    CAF_REQUIRE(ind_series.on_bar(b, ind));
    feature_series::output out;
    CAF_REQUIRE(series.on_bar(b, ind, out));
    CAF_REQUIRE_EQUAL(out.size(), ind.size());
    final_bars[b.open_time_ms] = b;
    for (auto& [t, v] : out)
      latest[t] = v;
  }
  CAF_CHECK_GREATER(revisions, 500u);
  std::vector<ohlcv> bars;
  for (auto& [t, b] : final_bars)
    bars.push_back(b);
  auto inds = indicators_of(bars);
  auto want = reference(bars, inds);
  feature_calculator fresh;
  for (size_t i = 0; i < bars.size(); ++i) {
    auto t = bars[i].open_time_ms;
    CAF_REQUIRE(latest.count(t) == 1);
    CAF_REQUIRE(same(latest[t], fresh.update(bars[i], inds[i])));
    CAF_REQUIRE(agree(latest[t], want[i], i));
  }
}

CAF_TEST(bars older than the history are refused) {
  indicator_series ind_series(4);
  feature_series series(4);
  indicator_series::output ind;
  feature_series::output out;
  std::mt19937_64 rng(1);
  for (int64_t i = 0; i < 10; ++i) {
    auto b = random_bar(rng, i);
    ind.clear();
    CAF_REQUIRE(ind_series.on_bar(b, ind));
    CAF_REQUIRE(series.on_bar(b, ind, out));
  }
  out.clear();
  auto old = random_bar(rng, 2);
  indicators values;
  values.fill(1.0);
  ind = {{old.open_time_ms, values}};
  CAF_CHECK(!series.on_bar(old, ind, out));
  CAF_CHECK(!series.on_bar(random_bar(rng, 11), {}, out));
  CAF_CHECK(out.empty());
}
