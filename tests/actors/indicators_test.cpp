#define CAF_SUITE indicators
#include "caf/test/unit_test.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "actors/indicators.hpp"

using namespace csp::actors;
using csp::messages::indicator;
using csp::messages::indicator_count;
using csp::messages::indicator_names;

namespace {

// -- test data ----------------------------------------------------------------

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

/// A deterministic generator (splitmix64) so the series is the same on every
/// machine.
class rng {
public:
  explicit rng(std::uint64_t seed) : state_(seed) {
    // nop
  }

  std::uint64_t next() {
    auto z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
  std::uint64_t state_;
};

struct series {
  std::vector<std::int64_t> time;
  std::vector<double> open, high, low, close, volume;

  std::size_t size() const { return close.size(); }

  ohlcv bar(std::size_t i) const {
    return {time[i], open[i], high[i], low[i], close[i], volume[i]};
  }
};

// 2024-01-15T20:00:00Z: hourly bars cross several UTC midnights.
constexpr std::int64_t t_start = 1705348800000;
constexpr std::int64_t hour_ms = 3600000;

/// A random walk with gaps, flat bars, a constant stretch and zero volumes,
/// so that every special case of the TA-Lib code is reached.
series make_series(std::size_t n, std::uint64_t seed) {
  series s;
  rng gen{seed};
  double price = 100.0;
  for (std::size_t i = 0; i < n; ++i) {
    auto open = price;
    double close;
    double high;
    double low;
    if (i >= 240 && i < 262) {
      // Constant stretch: zero ranges, zero changes.
      open = close = high = low = price;
    } else {
      close = open * (1.0 + (gen.uniform() - 0.5) * 0.04);
      high = std::max(open, close) * (1.0 + gen.uniform() * 0.01);
      low = std::min(open, close) * (1.0 - gen.uniform() * 0.01);
      if (i % 37 == 5)
        high = low = open = close; // a flat bar
    }
    auto volume = (i % 23 == 0) ? 0.0 : gen.uniform() * 1000.0;
    s.time.push_back(t_start + static_cast<std::int64_t>(i) * hour_ms);
    s.open.push_back(open);
    s.high.push_back(high);
    s.low.push_back(low);
    s.close.push_back(close);
    s.volume.push_back(volume);
    price = close;
  }
  return s;
}

// -- batch references, written as TA-Lib-style loops over whole arrays -------

using vec = std::vector<double>;

vec ref_sma(const vec& in, int n) {
  vec out(in.size(), nan_v);
  int size = static_cast<int>(in.size());
  if (size < n)
    return out;
  double total = 0.0;
  int i = 0;
  for (; i < n - 1; ++i)
    total += in[i];
  int trailing = 0;
  for (; i < size; ++i) {
    total += in[i];
    double tmp = total;
    total -= in[trailing++];
    out[i] = tmp / n;
  }
  return out;
}

vec ref_ema(const vec& in, int n) {
  vec out(in.size(), nan_v);
  int size = static_cast<int>(in.size());
  if (size < n)
    return out;
  double k = 2.0 / static_cast<double>(n + 1);
  double sum = 0.0;
  for (int i = 0; i < n; ++i)
    sum += in[i];
  double prev = sum / n;
  out[n - 1] = prev;
  for (int i = n; i < size; ++i) {
    prev = (in[i] - prev) * k + prev;
    out[i] = prev;
  }
  return out;
}

vec ref_rsi(const vec& in, int n) {
  vec out(in.size(), nan_v);
  int size = static_cast<int>(in.size());
  if (size <= n)
    return out;
  auto rsi = [](double gain, double loss) {
    double total = gain + loss;
    if (total > -1e-8 && total < 1e-8)
      return 0.0;
    return 100.0 * (gain / total);
  };
  double gain = 0.0;
  double loss = 0.0;
  for (int i = 1; i <= n; ++i) {
    double d = in[i] - in[i - 1];
    if (d < 0.0)
      loss -= d;
    else
      gain += d;
  }
  loss /= n;
  gain /= n;
  out[n] = rsi(gain, loss);
  for (int i = n + 1; i < size; ++i) {
    double d = in[i] - in[i - 1];
    loss *= n - 1;
    gain *= n - 1;
    if (d < 0.0)
      loss -= d;
    else
      gain += d;
    loss /= n;
    gain /= n;
    out[i] = rsi(gain, loss);
  }
  return out;
}

/// MACD as TA-Lib 0.4 composes it from whole-array EMAs: the slow EMA over
/// the series, the fast EMA over the tail starting so that both seed windows
/// end on the same bar, the signal EMA over the MACD line.
void ref_macd(const vec& in, int fast, int slow, int signal, vec& line_out,
  vec& signal_out, vec& hist_out) {
  auto size = in.size();
  line_out.assign(size, nan_v);
  signal_out.assign(size, nan_v);
  hist_out.assign(size, nan_v);
  auto offset = static_cast<std::size_t>(slow - fast);
  auto slow_ema = ref_ema(in, slow);
  vec tail(in.begin() + static_cast<std::ptrdiff_t>(offset), in.end());
  auto fast_ema = ref_ema(tail, fast);
  auto first_line = static_cast<std::size_t>(slow - 1);
  vec line;
  for (auto i = first_line; i < size; ++i)
    line.push_back(fast_ema[i - offset] - slow_ema[i]);
  auto sig = ref_ema(line, signal);
  for (std::size_t j = 0; j < line.size(); ++j) {
    if (std::isnan(sig[j]))
      continue;
    auto i = j + first_line;
    line_out[i] = line[j];
    signal_out[i] = sig[j];
    hist_out[i] = line[j] - sig[j];
  }
}

void ref_bbands(
  const vec& in, int n, double dev, vec& upper, vec& middle, vec& lower) {
  auto size = static_cast<int>(in.size());
  middle = ref_sma(in, n);
  upper.assign(in.size(), nan_v);
  lower.assign(in.size(), nan_v);
  double total2 = 0.0;
  for (int i = 0; i < n - 1 && i < size; ++i)
    total2 += in[i] * in[i];
  for (int i = n - 1, trailing = 0; i < size; ++i, ++trailing) {
    total2 += in[i] * in[i];
    double mean2 = total2 / n;
    total2 -= in[trailing] * in[trailing];
    mean2 -= middle[i] * middle[i];
    double sd = mean2 < 1e-8 ? 0.0 : std::sqrt(mean2);
    double width = sd * dev;
    upper[i] = middle[i] + width;
    lower[i] = middle[i] - width;
  }
}

/// Slow stochastic; the highest high and lowest low are tracked with
/// TA-Lib's index bookkeeping rather than a window scan.
void ref_stoch(const series& s, int k_period, int slow_k, int slow_d,
  vec& k_out, vec& d_out) {
  auto size = static_cast<int>(s.size());
  k_out.assign(s.size(), nan_v);
  d_out.assign(s.size(), nan_v);
  vec fast;
  int highest_idx = -1;
  int lowest_idx = -1;
  double highest = 0.0;
  double lowest = 0.0;
  for (int today = k_period - 1, trailing = 0; today < size;
       ++today, ++trailing) {
    if (lowest_idx < trailing) {
      lowest_idx = trailing;
      lowest = s.low[trailing];
      for (int i = trailing + 1; i <= today; ++i)
        if (s.low[i] < lowest) {
          lowest_idx = i;
          lowest = s.low[i];
        }
    } else if (s.low[today] <= lowest) {
      lowest_idx = today;
      lowest = s.low[today];
    }
    if (highest_idx < trailing) {
      highest_idx = trailing;
      highest = s.high[trailing];
      for (int i = trailing + 1; i <= today; ++i)
        if (s.high[i] > highest) {
          highest_idx = i;
          highest = s.high[i];
        }
    } else if (s.high[today] >= highest) {
      highest_idx = today;
      highest = s.high[today];
    }
    double diff = (highest - lowest) / 100.0;
    fast.push_back(diff != 0.0 ? (s.close[today] - lowest) / diff : 0.0);
  }
  auto sk = ref_sma(fast, slow_k);
  vec sk_valid(sk.begin() + (slow_k - 1), sk.end());
  auto sd = ref_sma(sk_valid, slow_d);
  auto first = k_period - 1 + slow_k - 1;
  for (std::size_t j = 0; j < sd.size(); ++j) {
    if (std::isnan(sd[j]))
      continue;
    auto i = j + static_cast<std::size_t>(first);
    k_out[i] = sk_valid[j];
    d_out[i] = sd[j];
  }
}

double ref_trange(const series& s, std::size_t i) {
  double greatest = s.high[i] - s.low[i];
  double v2 = std::fabs(s.close[i - 1] - s.high[i]);
  if (v2 > greatest)
    greatest = v2;
  double v3 = std::fabs(s.close[i - 1] - s.low[i]);
  if (v3 > greatest)
    greatest = v3;
  return greatest;
}

vec ref_atr(const series& s, int n) {
  vec out(s.size(), nan_v);
  auto size = static_cast<int>(s.size());
  if (size <= n)
    return out;
  vec tr(s.size(), nan_v);
  for (std::size_t i = 1; i < s.size(); ++i)
    tr[i] = ref_trange(s, i);
  double total = 0.0;
  for (int i = 1; i <= n; ++i)
    total += tr[i];
  double prev = total / n;
  out[n] = prev;
  for (int i = n + 1; i < size; ++i) {
    prev *= n - 1;
    prev += tr[i];
    prev /= n;
    out[i] = prev;
  }
  return out;
}

vec ref_adx(const series& s, int n) {
  vec out(s.size(), nan_v);
  auto size = static_cast<int>(s.size());
  if (size < 2 * n)
    return out;
  double plus_dm = 0.0;
  double minus_dm = 0.0;
  double tr = 0.0;
  auto directional = [&](int i) {
    double diff_p = s.high[i] - s.high[i - 1];
    double diff_m = s.low[i - 1] - s.low[i];
    if (diff_m > 0 && diff_p < diff_m)
      minus_dm += diff_m;
    else if (diff_p > 0 && diff_p > diff_m)
      plus_dm += diff_p;
  };
  // Returns false when DX is undefined (TR or the DI sum is zero).
  auto dx = [&](double& value) {
    if (tr > -1e-8 && tr < 1e-8)
      return false;
    double minus_di = 100.0 * (minus_dm / tr);
    double plus_di = 100.0 * (plus_dm / tr);
    double sum = minus_di + plus_di;
    if (sum > -1e-8 && sum < 1e-8)
      return false;
    value = 100.0 * (std::fabs(minus_di - plus_di) / sum);
    return true;
  };
  auto smooth = [&](int i) {
    minus_dm -= minus_dm / n;
    plus_dm -= plus_dm / n;
    directional(i);
    tr = tr - tr / n + ref_trange(s, static_cast<std::size_t>(i));
  };
  for (int i = 1; i < n; ++i) {
    directional(i);
    tr += ref_trange(s, static_cast<std::size_t>(i));
  }
  double sum_dx = 0.0;
  for (int i = n; i < 2 * n; ++i) {
    smooth(i);
    double value;
    if (dx(value))
      sum_dx += value;
  }
  double prev = sum_dx / n;
  out[2 * n - 1] = prev;
  for (int i = 2 * n; i < size; ++i) {
    smooth(i);
    double value;
    if (dx(value))
      prev = (prev * (n - 1) + value) / n;
    out[i] = prev;
  }
  return out;
}

/// VWAP recomputed from scratch for every bar over its UTC day.
vec ref_vwap(const series& s) {
  vec out(s.size(), nan_v);
  auto day_of = [](std::int64_t t) {
    auto d = t / 86400000;
    return (t % 86400000 < 0) ? d - 1 : d;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto first = i;
    while (first > 0 && day_of(s.time[first - 1]) == day_of(s.time[i]))
      --first;
    double pv = 0.0;
    double v = 0.0;
    for (auto j = first; j <= i; ++j) {
      pv += (s.high[j] + s.low[j] + s.close[j]) / 3.0 * s.volume[j];
      v += s.volume[j];
    }
    if (v > 0.0)
      out[i] = pv / v;
  }
  return out;
}

/// All reference columns in `indicator` order.
std::vector<vec> reference(const series& s) {
  std::vector<vec> cols(indicator_count);
  auto set = [&](indicator i, vec v) {
    cols[static_cast<std::size_t>(i)] = std::move(v);
  };
  set(indicator::sma_20, ref_sma(s.close, 20));
  set(indicator::sma_50, ref_sma(s.close, 50));
  set(indicator::sma_100, ref_sma(s.close, 100));
  set(indicator::sma_200, ref_sma(s.close, 200));
  set(indicator::ema_12, ref_ema(s.close, 12));
  set(indicator::ema_26, ref_ema(s.close, 26));
  set(indicator::ema_50, ref_ema(s.close, 50));
  set(indicator::rsi_14, ref_rsi(s.close, 14));
  vec line, sig, hist;
  ref_macd(s.close, 12, 26, 9, line, sig, hist);
  set(indicator::macd, line);
  set(indicator::macd_signal, sig);
  set(indicator::macd_hist, hist);
  vec up, mid, low;
  ref_bbands(s.close, 20, 2.0, up, mid, low);
  set(indicator::bb_upper, up);
  set(indicator::bb_middle, mid);
  set(indicator::bb_lower, low);
  vec k, d;
  ref_stoch(s, 14, 3, 3, k, d);
  set(indicator::stoch_k, k);
  set(indicator::stoch_d, d);
  set(indicator::atr_14, ref_atr(s, 14));
  set(indicator::adx_14, ref_adx(s, 14));
  set(indicator::vwap, ref_vwap(s));
  return cols;
}

/// Bitwise equality, with two NaNs equal.
bool same(double x, double y) {
  if (std::isnan(x) || std::isnan(y))
    return std::isnan(x) && std::isnan(y);
  return std::memcmp(&x, &y, sizeof(double)) == 0;
}

bool same(const indicator_calculator::values& x,
  const indicator_calculator::values& y) {
  for (std::size_t i = 0; i < indicator_count; ++i)
    if (!same(x[i], y[i]))
      return false;
  return true;
}

// The first valid index of every indicator, from the TA-Lib lookbacks.
constexpr std::size_t expected_first[indicator_count] = {
  19, 49, 99, 199, // SMA 20/50/100/200: n - 1
  11, 25, 49,      // EMA 12/26/50: n - 1
  14,              // RSI 14: n
  33, 33, 33,      // MACD 12/26/9: 25 + 8
  19, 19, 19,      // Bollinger 20: n - 1
  17, 17,          // Stochastic 14/3/3: 13 + 2 + 2
  14,              // ATR 14: n
  27,              // ADX 14: 2n - 1
  0,               // VWAP: first bar with volume
};

std::size_t idx(indicator i) {
  return static_cast<std::size_t>(i);
}

} // namespace

// -- comparison with the batch reference -------------------------------------

CAF_TEST(incremental values equal the batch reference bit for bit) {
  for (std::uint64_t seed : {1ull, 42ull, 20240115ull}) {
    auto s = make_series(420, seed);
    auto ref = reference(s);
    indicator_calculator calc;
    std::size_t mismatches = 0;
    std::size_t non_null = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      auto out = calc.update(s.bar(i));
      for (std::size_t c = 0; c < indicator_count; ++c) {
        if (!std::isnan(out[c]))
          ++non_null;
        if (!same(out[c], ref[c][i])) {
          if (mismatches++ < 5)
            CAF_MESSAGE("seed " << seed << " bar " << i << " "
                                << indicator_names[c] << ": got " << out[c]
                                << ", reference " << ref[c][i]);
        }
      }
    }
    CAF_CHECK_EQUAL(mismatches, 0u);
    // Guard against a vacuous pass: most values are defined.
    CAF_CHECK_GREATER(non_null, 420u * indicator_count / 2);
    CAF_CHECK_EQUAL(calc.bars(), 420u);
  }
}

CAF_TEST(the reference series reaches the special cases) {
  auto s = make_series(420, 1);
  auto ref = reference(s);
  // The constant stretch (bars 240..261) makes HH == LL for the stochastic
  // and the Bollinger bands zero width.
  // (The running sums of the SMA smoothing leave rounding residue, as in
  // TA-Lib, so the smoothed values are only near zero.)
  CAF_CHECK_LESS(std::fabs(ref[idx(indicator::stoch_k)][261]), 1e-9);
  CAF_CHECK_LESS(std::fabs(ref[idx(indicator::stoch_d)][261]), 1e-9);
  CAF_CHECK_EQUAL(
    ref[idx(indicator::bb_upper)][261], ref[idx(indicator::bb_lower)][261]);
  // Bar 0 has no volume: VWAP is null there, defined on bar 1.
  CAF_CHECK(std::isnan(ref[idx(indicator::vwap)][0]));
  CAF_CHECK(!std::isnan(ref[idx(indicator::vwap)][1]));
}

// -- first valid index
// ---------------------------------------------------------

CAF_TEST(every indicator is null before its first valid index) {
  for (std::size_t c = 0; c < indicator_count; ++c)
    CAF_CHECK_EQUAL(
      indicator_calculator::first_valid_index[c], expected_first[c]);
  auto s = make_series(220, 7);
  // Give bar 0 volume so VWAP is valid at once.
  s.volume[0] = 5.0;
  indicator_calculator calc;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto out = calc.update(s.bar(i));
    for (std::size_t c = 0; c < indicator_count; ++c) {
      bool want_null = i < expected_first[c];
      if (std::isnan(out[c]) != want_null)
        CAF_FAIL(indicator_names[c] << " at bar " << i << " is "
                                    << (want_null ? "non-null" : "null"));
    }
  }
}

CAF_TEST(component first valid indices) {
  CAF_CHECK_EQUAL(ta::sma<20>::first_valid_index, 19u);
  CAF_CHECK_EQUAL(ta::ema<12>::first_valid_index, 11u);
  CAF_CHECK_EQUAL(ta::rsi<14>::first_valid_index, 14u);
  CAF_CHECK_EQUAL((ta::macd<12, 26, 9>::first_valid_index), 33u);
  CAF_CHECK_EQUAL(ta::bollinger<20>::first_valid_index, 19u);
  CAF_CHECK_EQUAL((ta::stochastic<14, 3, 3>::first_valid_index), 17u);
  CAF_CHECK_EQUAL(ta::atr<14>::first_valid_index, 14u);
  CAF_CHECK_EQUAL(ta::adx<14>::first_valid_index, 27u);
}

// -- hand-computed cases
// -------------------------------------------------------

CAF_TEST(sma of 1 to 20) {
  ta::sma<20> avg;
  for (int i = 1; i <= 19; ++i)
    CAF_CHECK(std::isnan(avg.update(i)));
  CAF_CHECK_EQUAL(avg.update(20), 10.5);
  CAF_CHECK_EQUAL(avg.update(21), 11.5);
  ta::sma<3> small;
  CAF_CHECK(std::isnan(small.update(1)));
  CAF_CHECK(std::isnan(small.update(2)));
  CAF_CHECK_EQUAL(small.update(3), 2.0);
  CAF_CHECK_EQUAL(small.update(10), 5.0);
  CAF_CHECK_EQUAL(small.update(-1), 4.0);
}

CAF_TEST(ema seeded with the sma) {
  ta::ema<3> avg; // k = 0.5
  CAF_CHECK(std::isnan(avg.update(1)));
  CAF_CHECK(std::isnan(avg.update(2)));
  CAF_CHECK_EQUAL(avg.update(3), 2.0);  // (1 + 2 + 3) / 3
  CAF_CHECK_EQUAL(avg.update(4), 3.0);  // (4 - 2) * 0.5 + 2
  CAF_CHECK_EQUAL(avg.update(1), 2.0);  // (1 - 3) * 0.5 + 3
  CAF_CHECK_EQUAL(avg.update(10), 6.0); // (10 - 2) * 0.5 + 2
}

CAF_TEST(rsi of monotonic and constant series) {
  ta::rsi<14> rising;
  ta::rsi<14> falling;
  ta::rsi<14> flat;
  for (int i = 0; i < 14; ++i) {
    CAF_CHECK(std::isnan(rising.update(100 + i)));
    CAF_CHECK(std::isnan(falling.update(100 - i)));
    CAF_CHECK(std::isnan(flat.update(7)));
  }
  for (int i = 14; i < 40; ++i) {
    CAF_CHECK_EQUAL(rising.update(100 + i), 100.0);
    CAF_CHECK_EQUAL(falling.update(100 - i), 0.0);
    // No gain and no loss: TA_IS_ZERO(gain + loss) -> 0, not null.
    CAF_CHECK_EQUAL(flat.update(7), 0.0);
  }
  // Two changes: +2 then -1 -> gain 1, loss 0.5 -> RSI 200/3.
  ta::rsi<2> two;
  two.update(10);
  two.update(12);
  CAF_CHECK_EQUAL(two.update(11), 100.0 * (1.0 / 1.5));
  // Next change +3: gain (1 * 1 + 3) / 2 = 2, loss (0.5 * 1) / 2 = 0.25.
  CAF_CHECK_EQUAL(two.update(14), 100.0 * (2.0 / 2.25));
}

CAF_TEST(macd of a constant series is zero from bar 33) {
  ta::macd<12, 26, 9> m;
  for (int i = 0; i < 33; ++i) {
    auto v = m.update(50.0);
    CAF_CHECK(std::isnan(v.macd) && std::isnan(v.signal) && std::isnan(v.hist));
  }
  auto v = m.update(50.0);
  CAF_CHECK_EQUAL(v.macd, 0.0);
  CAF_CHECK_EQUAL(v.signal, 0.0);
  CAF_CHECK_EQUAL(v.hist, 0.0);
}

CAF_TEST(macd seeds both emas on windows ending on the same bar) {
  // Closes 0, 1, ..., 25: slow seed = mean(0..25) = 12.5, fast seed =
  // mean(14..25) = 19.5; the MACD line at bar 25 is 7. With a signal period
  // of 1 the signal equals the line, so the line shows at bar 25.
  ta::macd<12, 26, 1> m;
  for (int i = 0; i < 25; ++i)
    CAF_CHECK(std::isnan(m.update(i).macd));
  auto v = m.update(25);
  CAF_CHECK_EQUAL(v.macd, 7.0);
  CAF_CHECK_EQUAL(v.signal, 7.0);
  CAF_CHECK_EQUAL(v.hist, 0.0);
}

CAF_TEST(bollinger bands of a constant series collapse) {
  ta::bollinger<20> bb{2.0};
  for (int i = 0; i < 19; ++i)
    CAF_CHECK(std::isnan(bb.update(42.25).middle));
  for (int i = 0; i < 5; ++i) {
    auto v = bb.update(42.25);
    CAF_CHECK_EQUAL(v.middle, 42.25);
    CAF_CHECK_EQUAL(v.upper, 42.25);
    CAF_CHECK_EQUAL(v.lower, 42.25);
  }
  // Values 1, 3: mean 2, population stddev 1 -> bands 0 and 4.
  ta::bollinger<2> two{2.0};
  two.update(1);
  auto v = two.update(3);
  CAF_CHECK_EQUAL(v.middle, 2.0);
  CAF_CHECK_EQUAL(v.upper, 4.0);
  CAF_CHECK_EQUAL(v.lower, 0.0);
}

CAF_TEST(stochastic with flat high and low is zero) {
  ta::stochastic<14, 3, 3> st;
  for (int i = 0; i < 17; ++i)
    CAF_CHECK(std::isnan(st.update(10, 10, 10).k));
  auto v = st.update(10, 10, 10);
  CAF_CHECK_EQUAL(v.k, 0.0);
  CAF_CHECK_EQUAL(v.d, 0.0);
}

CAF_TEST(stochastic by hand) {
  // K = 2, slow 1/1: fastK over two bars.
  ta::stochastic<2, 1, 1> st;
  CAF_CHECK(std::isnan(st.update(10, 8, 9).k));
  // HH 12, LL 8, close 11 -> (11 - 8) / (4 / 100) = 75.
  auto v = st.update(12, 9, 11);
  CAF_CHECK_EQUAL(v.k, 75.0);
  CAF_CHECK_EQUAL(v.d, 75.0);
  // Window drops bar 0: HH 13, LL 9, close 9 -> 0.
  CAF_CHECK_EQUAL(st.update(13, 10, 9).k, 0.0);
  // With slow 2/2 smoothing.
  ta::stochastic<2, 2, 2> sm;
  sm.update(10, 8, 9);
  sm.update(12, 9, 11);           // fastK 75
  sm.update(13, 10, 9);           // fastK 0 -> slowK 37.5
  auto w = sm.update(14, 12, 14); // fastK 100 -> slowK 50, slowD 43.75
  CAF_CHECK_EQUAL(w.k, 50.0);
  CAF_CHECK_EQUAL(w.d, 43.75);
}

CAF_TEST(atr by hand) {
  ta::atr<2> a;
  CAF_CHECK(std::isnan(a.update(10, 8, 9)));
  CAF_CHECK(std::isnan(a.update(11, 9, 10)));     // TR 2
  CAF_CHECK_EQUAL(a.update(15, 12, 14), 3.5);     // TR 5 (15 - 10): (2 + 5) / 2
  CAF_CHECK_EQUAL(a.update(14, 13, 13.5), 2.25);  // TR 1: (3.5 + 1) / 2
  CAF_CHECK_EQUAL(ta::true_range(5, 4, 10), 6.0); // gap down
}

CAF_TEST(adx of a steady uptrend is 100) {
  // Every bar 1 higher: +DM 1, -DM 0, so -DI = 0 and DX = 100.
  ta::adx<14> a;
  for (int i = 0; i < 27; ++i)
    CAF_CHECK(std::isnan(a.update(11 + i, 9 + i, 10 + i)));
  for (int i = 27; i < 40; ++i)
    CAF_CHECK_EQUAL(a.update(11 + i, 9 + i, 10 + i), 100.0);
}

CAF_TEST(adx with no movement keeps its previous value) {
  ta::adx<2> a;
  a.update(11, 9, 10);
  a.update(12, 10, 11);              // +DM 1
  a.update(13, 11, 12);              // +DM, DX 100
  auto first = a.update(14, 12, 13); // first ADX at 2n - 1 = 3: 100
  CAF_CHECK_EQUAL(first, 100.0);
  // Then a strong down bar: -DM 5 now dominates.
  auto next = a.update(13, 7, 8);
  CAF_CHECK_LESS(next, 100.0);
}

CAF_TEST(vwap resets at midnight utc) {
  // 2024-01-15T23:59Z and 2024-01-16T00:00Z.
  constexpr std::int64_t before = 1705363140000;
  constexpr std::int64_t midnight = 1705363200000;
  ta::vwap v;
  // Typical price (12 + 6 + 9) / 3 = 9, volume 0: null.
  CAF_CHECK(std::isnan(v.update(before - 60000, 12, 6, 9, 0)));
  // Typical 10, volume 1.
  CAF_CHECK_EQUAL(v.update(before, 11, 9, 10, 1), 10.0);
  // Typical 20, volume 3 -> day sum would be 70 / 4 = 17.5; after the reset
  // it is 20.
  CAF_CHECK_EQUAL(v.update(midnight, 21, 19, 20, 3), 20.0);
  // Same day: (20 * 3 + 30 * 1) / 4 = 22.5.
  CAF_CHECK_EQUAL(v.update(midnight + 60000, 31, 29, 30, 1), 22.5);
  // A new day starting with zero volume is null again.
  CAF_CHECK(std::isnan(v.update(midnight + 86400000, 31, 29, 30, 0)));
  // Before the epoch days floor downwards: -1 ms and -2 ms share a day,
  // 0 starts the next one.
  ta::vwap w;
  w.update(-2, 4, 4, 4, 1);
  CAF_CHECK_EQUAL(w.update(-1, 8, 8, 8, 1), 6.0);
  CAF_CHECK_EQUAL(w.update(0, 1, 1, 1, 1), 1.0);
}

CAF_TEST(to_ohlcv converts a bar) {
  csp::messages::bar b;
  b.open_time_ms = 60000;
  b.open = csp::messages::decimal::from_double(1.5);
  b.high = csp::messages::decimal::from_double(2.0);
  b.low = csp::messages::decimal::from_double(1.25);
  b.close = csp::messages::decimal::from_double(1.75);
  b.volume.units = 300000000; // 3.0
  auto x = to_ohlcv(b);
  CAF_CHECK_EQUAL(x.open_time_ms, 60000);
  CAF_CHECK_EQUAL(x.open, 1.5);
  CAF_CHECK_EQUAL(x.high, 2.0);
  CAF_CHECK_EQUAL(x.low, 1.25);
  CAF_CHECK_EQUAL(x.close, 1.75);
  CAF_CHECK_EQUAL(x.volume, 3.0);
}

// -- peek
// ----------------------------------------------------------------------

CAF_TEST(peek equals the following update and changes nothing) {
  auto s = make_series(300, 99);
  indicator_calculator peeked;
  indicator_calculator plain;
  rng gen{5};
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Peek at a few forming versions of the bar first.
    auto forming = s.bar(i);
    forming.close = forming.open;
    forming.high = forming.low = forming.open;
    forming.volume = 0.0;
    auto p1 = peeked.peek(forming);
    auto p1_again = peeked.peek(forming);
    CAF_CHECK(same(p1, p1_again));
    forming.high = s.high[i] * (1.0 + gen.uniform() * 0.01);
    forming.close = s.close[i] * (1.0 + (gen.uniform() - 0.5) * 0.01);
    forming.volume = s.volume[i] * 0.5;
    peeked.peek(forming);
    // The final version: peek, then update returns the same.
    auto p = peeked.peek(s.bar(i));
    auto u = peeked.update(s.bar(i));
    auto r = plain.update(s.bar(i));
    if (!same(p, u))
      CAF_FAIL("peek differs from update at bar " << i);
    if (!same(u, r))
      CAF_FAIL("peeking changed the state before bar " << i);
  }
  CAF_CHECK_EQUAL(peeked.bars(), plain.bars());
}

CAF_TEST(component peeks match updates) {
  auto s = make_series(120, 3);
  ta::sma<5> a;
  ta::ema<5> b;
  ta::rsi<5> c;
  ta::macd<3, 6, 4> d;
  ta::bollinger<5> e{2.0};
  ta::stochastic<4, 2, 3> f;
  ta::atr<5> g;
  ta::adx<5> h;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto x = s.close[i];
    auto hi = s.high[i];
    auto lo = s.low[i];
    // Peek first, then update: never both in one call's arguments, whose
    // evaluation order is unspecified.
    auto check = [](auto& ind, auto... args) {
      auto p = ind.peek(args...);
      auto u = ind.update(args...);
      return same(p, u);
    };
    CAF_CHECK(check(a, x));
    CAF_CHECK(check(b, x));
    CAF_CHECK(check(c, x));
    auto dp = d.peek(x);
    auto du = d.update(x);
    CAF_CHECK(same(dp.macd, du.macd) && same(dp.signal, du.signal)
      && same(dp.hist, du.hist));
    auto ep = e.peek(x);
    auto eu = e.update(x);
    CAF_CHECK(same(ep.upper, eu.upper) && same(ep.middle, eu.middle)
      && same(ep.lower, eu.lower));
    auto fp = f.peek(hi, lo, x);
    auto fu = f.update(hi, lo, x);
    CAF_CHECK(same(fp.k, fu.k) && same(fp.d, fu.d));
    CAF_CHECK(check(g, hi, lo, x));
    CAF_CHECK(check(h, hi, lo, x));
  }
}
