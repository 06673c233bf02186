#pragma once

// The benchmarks' input bars: a seeded random walk of one-minute bars,
// volume sometimes zero (the same bars in every program and run).

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "actors/indicators.hpp"

namespace csp::bench {

/// `n` one-minute bars of a random walk from 42000, seed 7.
inline std::vector<actors::ohlcv> make_random_bars(std::size_t n) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<actors::ohlcv> bars;
  bars.reserve(n);
  double price = 42000.0;
  std::int64_t t = 1705312800000;
  for (std::size_t i = 0; i < n; ++i) {
    actors::ohlcv b;
    b.open_time_ms = t;
    b.open = price;
    b.close = price * (1.0 + (unit(rng) - 0.5) * 0.004);
    b.high = std::max(b.open, b.close) * (1.0 + unit(rng) * 0.001);
    b.low = std::min(b.open, b.close) * (1.0 - unit(rng) * 0.001);
    b.volume = (i % 50 == 0) ? 0.0 : unit(rng) * 10.0;
    bars.push_back(b);
    price = b.close;
    t += 60000;
  }
  return bars;
}

} // namespace csp::bench
