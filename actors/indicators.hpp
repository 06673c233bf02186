#pragma once

// Incremental technical indicators with TA-Lib's default definitions.
//
// Every class here is fed one closed bar at a time and costs O(1) per bar
// (fixed-size rings and running sums, no allocation). Each reproduces the
// floating-point operation order of the TA-Lib 0.4 C functions it names, so
// its output is bit-for-bit the value TA-Lib returns for the same bar of the
// whole series. A value is NaN (null) until the indicator has enough history,
// never 0. `peek(...)` returns what `update(...)` would return for the same
// input without changing any state.
//
// Pure logic: no CAF in this header.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "messages/bar.hpp"
#include "messages/indicator_snapshot.hpp"

namespace csp::actors {

/// One bar as the indicator calculator sees it: times in ms, prices as doubles.
struct ohlcv {
  std::int64_t open_time_ms = 0;
  double open = 0.0;
  double high = 0.0;
  double low = 0.0;
  double close = 0.0;
  double volume = 0.0;
};

/// Converts a bar of the message vocabulary to the calculator's input.
ohlcv to_ohlcv(const messages::bar& b) noexcept;

namespace ta {

/// The null value of every indicator (a quiet NaN).
inline constexpr double null = std::numeric_limits<double>::quiet_NaN();

/// TA-Lib 0.4's epsilon of TA_IS_ZERO and TA_IS_ZERO_OR_NEG.
inline constexpr double epsilon = 0.00000001;

/// TA-Lib's TA_IS_ZERO: |v| < 1e-8.
constexpr bool is_zero(double v) noexcept {
  return -epsilon < v && v < epsilon;
}

/// TA-Lib's TA_IS_ZERO_OR_NEG: v < 1e-8.
constexpr bool is_zero_or_neg(double v) noexcept {
  return v < epsilon;
}

/// TA-Lib's TRANGE of one bar: the greatest of high - low,
/// |previous close - high| and |previous close - low|, compared in that order.
inline double true_range(double high, double low, double prev_close) noexcept {
  auto greatest = high - low;
  auto val2 = std::fabs(prev_close - high);
  if (val2 > greatest)
    greatest = val2;
  auto val3 = std::fabs(prev_close - low);
  if (val3 > greatest)
    greatest = val3;
  return greatest;
}

/// Simple moving average over N values with TA-Lib's running sum (TA_SMA):
/// add the new value, output sum / N, subtract the trailing value. First
/// valid at index N - 1.
template <std::size_t N>
class sma {
public:
  static_assert(N >= 1);

  /// Index (0-based, in values fed) of the first non-null output.
  static constexpr std::size_t first_valid_index = N - 1;

  /// Feeds the next value; returns the average or null.
  double update(double x) noexcept {
    ring_[pos_] = x;
    if (++pos_ == N)
      pos_ = 0;
    ++count_;
    total_ += x;
    if (count_ < N)
      return null;
    auto out = total_ / static_cast<double>(N);
    // The slot written next holds the oldest value of the window.
    total_ -= ring_[pos_];
    return out;
  }

  /// Returns what `update(x)` would return, without changing state.
  double peek(double x) const noexcept {
    if (count_ + 1 < N)
      return null;
    return (total_ + x) / static_cast<double>(N);
  }

  /// Number of values fed so far.
  std::size_t count() const noexcept { return count_; }

private:
  std::array<double, N> ring_{};
  std::size_t pos_ = 0;
  std::size_t count_ = 0;
  double total_ = 0.0;
};

/// Exponential moving average with k = 2 / (N + 1), seeded with the simple
/// average of the first N values (TA_EMA, default compatibility): first
/// valid at index N - 1, then prev = (x - prev) * k + prev.
template <std::size_t N>
class ema {
public:
  static_assert(N >= 1);

  /// Index (0-based, in values fed) of the first non-null output.
  static constexpr std::size_t first_valid_index = N - 1;

  /// The smoothing factor 2 / (N + 1).
  static constexpr double k = 2.0 / static_cast<double>(N + 1);

  /// Feeds the next value; returns the average or null.
  double update(double x) noexcept {
    if (count_ < N) {
      sum_ += x;
      if (++count_ < N)
        return null;
      prev_ = sum_ / static_cast<double>(N);
      return prev_;
    }
    prev_ = (x - prev_) * k + prev_;
    return prev_;
  }

  /// Returns what `update(x)` would return, without changing state.
  double peek(double x) const noexcept {
    auto copy = *this;
    return copy.update(x);
  }

  /// Number of values fed so far (saturates at N).
  std::size_t count() const noexcept { return count_; }

private:
  std::size_t count_ = 0;
  double sum_ = 0.0;
  double prev_ = 0.0;
};

/// Wilder's relative strength index (TA_RSI, classic, not Metastock): the
/// average gain and loss of the first N changes are plain averages, then
/// avg = (avg * (N - 1) + change) / N; RSI = 100 * gain / (gain + loss), or
/// 0 when gain + loss is zero per TA_IS_ZERO. First valid at index N.
template <std::size_t N>
class rsi {
public:
  static_assert(N >= 2);

  /// Index (0-based, in bars fed) of the first non-null output.
  static constexpr std::size_t first_valid_index = N;

  /// Feeds the next close; returns the RSI or null.
  double update(double close) noexcept {
    if (count_ == 0) {
      prev_ = close;
      count_ = 1;
      return null;
    }
    auto diff = close - prev_;
    prev_ = close;
    if (count_ <= N) {
      accumulate(diff);
      if (count_++ < N)
        return null;
      loss_ /= static_cast<double>(N);
      gain_ /= static_cast<double>(N);
      return value();
    }
    loss_ *= static_cast<double>(N - 1);
    gain_ *= static_cast<double>(N - 1);
    accumulate(diff);
    loss_ /= static_cast<double>(N);
    gain_ /= static_cast<double>(N);
    return value();
  }

  /// Returns what `update(close)` would return, without changing state.
  double peek(double close) const noexcept {
    auto copy = *this;
    return copy.update(close);
  }

private:
  void accumulate(double diff) noexcept {
    if (diff < 0.0)
      loss_ -= diff;
    else
      gain_ += diff;
  }

  double value() const noexcept {
    auto total = gain_ + loss_;
    if (is_zero(total))
      return 0.0;
    return 100.0 * (gain_ / total);
  }

  std::size_t count_ = 0;
  double prev_ = 0.0;
  double gain_ = 0.0;
  double loss_ = 0.0;
};

/// The three MACD lines of one bar.
struct macd_value {
  double macd = null;
  double signal = null;
  double hist = null;
};

/// MACD with TA-Lib's seeding (TA_MACD, default compatibility): the slow EMA
/// is seeded with the average of closes 0..Slow-1 and the fast EMA with the
/// average of closes Slow-Fast..Slow-1, so both seed windows end on bar
/// Slow - 1; the signal EMA is seeded with the average of the first Signal
/// MACD values. All three lines are first valid at index Slow + Signal - 2.
template <std::size_t Fast, std::size_t Slow, std::size_t Signal>
class macd {
public:
  static_assert(Fast >= 1 && Fast < Slow && Signal >= 1);

  /// Index (0-based, in bars fed) of the first non-null output.
  static constexpr std::size_t first_valid_index = Slow + Signal - 2;

  /// Feeds the next close; returns the three lines (all null or none).
  macd_value update(double close) noexcept {
    auto slow = slow_.update(close);
    auto fast = null;
    if (count_ >= Slow - Fast)
      fast = fast_.update(close);
    else
      ++count_;
    if (std::isnan(slow))
      return {};
    auto line = fast - slow;
    auto signal = signal_.update(line);
    if (std::isnan(signal))
      return {};
    return {line, signal, line - signal};
  }

  /// Returns what `update(close)` would return, without changing state.
  macd_value peek(double close) const noexcept {
    auto copy = *this;
    return copy.update(close);
  }

private:
  ema<Fast> fast_;
  ema<Slow> slow_;
  ema<Signal> signal_;
  /// Bars fed before the fast EMA starts (saturates at Slow - Fast).
  std::size_t count_ = 0;
};

/// The three Bollinger bands of one bar.
struct bands_value {
  double upper = null;
  double middle = null;
  double lower = null;
};

/// Bollinger bands with an SMA middle and the population standard deviation
/// TA_BBANDS computes from the SMA (stddev_using_precalc_ma): a running sum
/// of squares, variance = sum(x^2) / N - sma^2, 0 when TA_IS_ZERO_OR_NEG.
/// Bands = middle +/- deviations * stddev. First valid at index N - 1.
template <std::size_t N>
class bollinger {
public:
  static_assert(N >= 2);

  /// Index (0-based, in values fed) of the first non-null output.
  static constexpr std::size_t first_valid_index = N - 1;

  /// Creates the bands at `deviations` standard deviations (TA-Lib: 2).
  explicit bollinger(double deviations = 2.0) noexcept
      : deviations_(deviations) {
    // nop
  }

  /// Feeds the next close; returns the bands or nulls.
  bands_value update(double x) noexcept {
    ring_[pos_] = x;
    if (++pos_ == N)
      pos_ = 0;
    ++count_;
    total_ += x;
    auto square = x;
    square *= square;
    total2_ += square;
    if (count_ < N)
      return {};
    auto middle = total_ / static_cast<double>(N);
    auto mean2 = total2_ / static_cast<double>(N);
    auto trailing = ring_[pos_];
    total_ -= trailing;
    trailing *= trailing;
    total2_ -= trailing;
    return bands(middle, mean2);
  }

  /// Returns what `update(x)` would return, without changing state.
  bands_value peek(double x) const noexcept {
    if (count_ + 1 < N)
      return {};
    auto square = x;
    square *= square;
    return bands((total_ + x) / static_cast<double>(N),
      (total2_ + square) / static_cast<double>(N));
  }

private:
  bands_value bands(double middle, double mean2) const noexcept {
    auto middle2 = middle;
    middle2 *= middle2;
    mean2 -= middle2;
    auto stddev = is_zero_or_neg(mean2) ? 0.0 : std::sqrt(mean2);
    auto width = stddev * deviations_;
    return {middle + width, middle, middle - width};
  }

  std::array<double, N> ring_{};
  std::size_t pos_ = 0;
  std::size_t count_ = 0;
  double total_ = 0.0;
  double total2_ = 0.0;
  double deviations_;
};

/// Slow stochastic %K and %D of one bar.
struct stoch_value {
  double k = null;
  double d = null;
};

/// Slow stochastic with SMA smoothing (TA_STOCH with SMA MA types):
/// fastK = (close - LL) / ((HH - LL) / 100), 0 when HH == LL, over the last
/// K bars; slowK = SMA(SlowK) of fastK; slowD = SMA(SlowD) of slowK. Both
/// outputs are first valid at index K + SlowK + SlowD - 3.
template <std::size_t K, std::size_t SlowK, std::size_t SlowD>
class stochastic {
public:
  static_assert(K >= 2 && SlowK >= 1 && SlowD >= 1);

  /// Index (0-based, in bars fed) of the first non-null output.
  static constexpr std::size_t first_valid_index = K + SlowK + SlowD - 3;

  /// Feeds the next bar; returns slow %K and %D (both null or none).
  stoch_value update(double high, double low, double close) noexcept {
    auto fast = fast_k(high, low, close);
    highs_[pos_] = high;
    lows_[pos_] = low;
    if (++pos_ == K - 1)
      pos_ = 0;
    if (count_ < K - 1)
      ++count_;
    if (std::isnan(fast))
      return {};
    auto slow_k = slow_k_.update(fast);
    if (std::isnan(slow_k))
      return {};
    auto slow_d = slow_d_.update(slow_k);
    if (std::isnan(slow_d))
      return {};
    return {slow_k, slow_d};
  }

  /// Returns what `update(high, low, close)` would return, without changing
  /// state.
  stoch_value peek(double high, double low, double close) const noexcept {
    auto fast = fast_k(high, low, close);
    if (std::isnan(fast))
      return {};
    auto slow_k = slow_k_.peek(fast);
    if (std::isnan(slow_k))
      return {};
    auto slow_d = slow_d_.peek(slow_k);
    if (std::isnan(slow_d))
      return {};
    return {slow_k, slow_d};
  }

private:
  /// Fast %K over the K - 1 stored bars plus this one, or null.
  double fast_k(double high, double low, double close) const noexcept {
    if (count_ < K - 1)
      return null;
    auto highest = high;
    auto lowest = low;
    for (std::size_t i = 0; i < K - 1; ++i) {
      if (highs_[i] > highest)
        highest = highs_[i];
      if (lows_[i] < lowest)
        lowest = lows_[i];
    }
    auto diff = (highest - lowest) / 100.0;
    if (diff != 0.0)
      return (close - lowest) / diff;
    return 0.0;
  }

  /// The previous K - 1 highs and lows.
  std::array<double, K - 1> highs_{};
  std::array<double, K - 1> lows_{};
  std::size_t pos_ = 0;
  /// Bars stored (saturates at K - 1).
  std::size_t count_ = 0;
  sma<SlowK> slow_k_;
  sma<SlowD> slow_d_;
};

/// Average true range (TA_ATR): true ranges from bar 1, the first ATR at
/// index N is the plain average of the true ranges of bars 1..N, then
/// atr = (atr * (N - 1) + tr) / N.
template <std::size_t N>
class atr {
public:
  static_assert(N >= 2);

  /// Index (0-based, in bars fed) of the first non-null output.
  static constexpr std::size_t first_valid_index = N;

  /// Feeds the next bar; returns the ATR or null.
  double update(double high, double low, double close) noexcept {
    if (count_ == 0) {
      prev_close_ = close;
      count_ = 1;
      return null;
    }
    auto tr = true_range(high, low, prev_close_);
    prev_close_ = close;
    if (count_ <= N) {
      total_ += tr;
      if (count_++ < N)
        return null;
      prev_ = total_ / static_cast<double>(N);
      return prev_;
    }
    prev_ *= static_cast<double>(N - 1);
    prev_ += tr;
    prev_ /= static_cast<double>(N);
    return prev_;
  }

  /// Returns what `update(high, low, close)` would return, without changing
  /// state.
  double peek(double high, double low, double close) const noexcept {
    auto copy = *this;
    return copy.update(high, low, close);
  }

private:
  std::size_t count_ = 0;
  double prev_close_ = 0.0;
  double total_ = 0.0;
  double prev_ = 0.0;
};

/// Average directional index (TA_ADX, TA-Lib 0.4: no rounding of DI/DX).
/// +DM, -DM and TR are summed over bars 1..N-1, then Wilder-smoothed
/// (s = s - s / N + today); from bar N on, DX = 100 * |-DI - +DI| /
/// (-DI + +DI) with DI = 100 * DM / TR (skipped when TR or the DI sum is
/// zero per TA_IS_ZERO). The first ADX at index 2N - 1 is the sum of the N
/// DX values of bars N..2N-1 divided by N, then adx = (adx * (N - 1) + dx) / N.
template <std::size_t N>
class adx {
public:
  static_assert(N >= 2);

  /// Index (0-based, in bars fed) of the first non-null output.
  static constexpr std::size_t first_valid_index = 2 * N - 1;

  /// Feeds the next bar; returns the ADX or null.
  double update(double high, double low, double close) noexcept {
    auto index = count_;
    if (count_ < first_valid_index + 1)
      ++count_;
    if (index == 0) {
      prev_high_ = high;
      prev_low_ = low;
      prev_close_ = close;
      return null;
    }
    auto diff_p = high - prev_high_;
    auto diff_m = prev_low_ - low;
    prev_high_ = high;
    prev_low_ = low;
    if (index >= N) {
      minus_dm_ -= minus_dm_ / static_cast<double>(N);
      plus_dm_ -= plus_dm_ / static_cast<double>(N);
    }
    if (diff_m > 0 && diff_p < diff_m)
      minus_dm_ += diff_m;
    else if (diff_p > 0 && diff_p > diff_m)
      plus_dm_ += diff_p;
    auto tr = true_range(high, low, prev_close_);
    prev_close_ = close;
    if (index < N) {
      tr_ += tr;
      return null;
    }
    tr_ = tr_ - tr_ / static_cast<double>(N) + tr;
    auto dx = null;
    if (!is_zero(tr_)) {
      auto minus_di = 100.0 * (minus_dm_ / tr_);
      auto plus_di = 100.0 * (plus_dm_ / tr_);
      auto sum = minus_di + plus_di;
      if (!is_zero(sum))
        dx = 100.0 * (std::fabs(minus_di - plus_di) / sum);
    }
    if (index < first_valid_index) {
      if (!std::isnan(dx))
        sum_dx_ += dx;
      return null;
    }
    if (index == first_valid_index) {
      if (!std::isnan(dx))
        sum_dx_ += dx;
      prev_ = sum_dx_ / static_cast<double>(N);
      return prev_;
    }
    if (!std::isnan(dx))
      prev_
        = (prev_ * static_cast<double>(N - 1) + dx) / static_cast<double>(N);
    return prev_;
  }

  /// Returns what `update(high, low, close)` would return, without changing
  /// state.
  double peek(double high, double low, double close) const noexcept {
    auto copy = *this;
    return copy.update(high, low, close);
  }

private:
  /// Bars fed (saturates at 2N).
  std::size_t count_ = 0;
  double prev_high_ = 0.0;
  double prev_low_ = 0.0;
  double prev_close_ = 0.0;
  double plus_dm_ = 0.0;
  double minus_dm_ = 0.0;
  double tr_ = 0.0;
  double sum_dx_ = 0.0;
  double prev_ = 0.0;
};

/// Volume-weighted average price of the UTC day: sum(tp * volume) /
/// sum(volume) with typical price tp = (high + low + close) / 3, summed over
/// the bars whose open time falls in the same UTC day and reset at 00:00
/// UTC. Null while the day's volume sum is 0.
class vwap {
public:
  /// Milliseconds in one UTC day.
  static constexpr std::int64_t day_ms = 86'400'000;

  /// Feeds the next bar; returns the VWAP or null.
  double update(std::int64_t open_time_ms, double high, double low,
    double close, double volume) noexcept;

  /// Returns what `update(...)` would return, without changing state.
  double peek(std::int64_t open_time_ms, double high, double low, double close,
    double volume) const noexcept {
    auto copy = *this;
    return copy.update(open_time_ms, high, low, close, volume);
  }

private:
  bool started_ = false;
  std::int64_t day_ = 0;
  double sum_pv_ = 0.0;
  double sum_v_ = 0.0;
};

} // namespace ta

/// Computes every indicator of `messages::indicator` incrementally, one
/// closed bar at a time, in O(1) per bar and without allocation.
///
/// The output array is indexed by `messages::indicator`; NaN means null
/// (not enough history yet).
class indicator_calculator {
public:
  /// One value per `messages::indicator`.
  using values = std::array<double, messages::indicator_count>;

  /// The 0-based bar index at which each indicator first has a value (VWAP:
  /// the first bar with volume).
  static const std::array<std::size_t, messages::indicator_count>
    first_valid_index;

  /// Feeds the next closed bar and returns its indicator values.
  values update(const ohlcv& bar) noexcept;

  /// Returns the values `update(bar)` would return if the forming `bar`
  /// closed now, without changing state.
  values peek(const ohlcv& bar) const noexcept;

  /// Number of closed bars fed so far.
  std::size_t bars() const noexcept { return bars_; }

private:
  ta::sma<20> sma20_;
  ta::sma<50> sma50_;
  ta::sma<100> sma100_;
  ta::sma<200> sma200_;
  ta::ema<12> ema12_;
  ta::ema<26> ema26_;
  ta::ema<50> ema50_;
  ta::rsi<14> rsi14_;
  ta::macd<12, 26, 9> macd_;
  ta::bollinger<20> bollinger_{2.0};
  ta::stochastic<14, 3, 3> stoch_;
  ta::atr<14> atr14_;
  ta::adx<14> adx14_;
  ta::vwap vwap_;
  std::size_t bars_ = 0;
};

} // namespace csp::actors
