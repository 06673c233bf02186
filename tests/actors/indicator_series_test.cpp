#define CAF_SUITE indicator_series
#include "caf/test/unit_test.hpp"

#include <cstring>
#include <map>
#include <random>

#include "actors/indicator_series.hpp"

using namespace csp::actors;

namespace {

constexpr int64_t minute = 60000;

ohlcv make_bar(int64_t i, double close, double volume = 10) {
  ohlcv b;
  b.open_time_ms = 1705312800000 + i * minute;
  b.open = close - 1;
  b.high = close + 2;
  b.low = close - 3;
  b.close = close;
  b.volume = volume;
  return b;
}

bool same(
  const indicator_series::values& x, const indicator_series::values& y) {
  return std::memcmp(x.data(), y.data(), sizeof(x)) == 0;
}

} // namespace

CAF_TEST(in order bars give the plain calculator values) {
  indicator_series series(8);
  indicator_calculator plain;
  for (int64_t i = 0; i < 300; ++i) {
    auto b = make_bar(i, 100 + static_cast<double>(i % 17));
    indicator_series::output out;
    CAF_REQUIRE(series.on_bar(b, out));
    CAF_REQUIRE_EQUAL(out.size(), 1u);
    CAF_CHECK_EQUAL(out[0].first, b.open_time_ms);
    CAF_CHECK(same(out[0].second, plain.update(b)));
  }
  CAF_CHECK_EQUAL(series.bars(), 300u);
}

CAF_TEST(revisions replay to the values of the final bars) {
  // Random revisions of recent bars and backfilled holes must end with the
  // values a calculator gets from the final bars fed once, in order.
  std::mt19937_64 rng(7);
  indicator_series series(8);
  std::map<int64_t, ohlcv> final_bars;
  std::map<int64_t, indicator_series::values> latest;
  int64_t next = 0;
  for (int step = 0; step < 3000; ++step) {
    ohlcv b;
    auto r = rng() % 10;
    if (r < 6 || next < 8) {
      // Skip a minute now and then (an outage, backfilled later).
      if (rng() % 20 == 0)
        ++next;
      b = make_bar(next++, 100 + static_cast<double>(rng() % 1000) / 10);
    } else {
      // Revise (or backfill) one of the last 6 minutes.
      auto i = next - 1 - static_cast<int64_t>(rng() % 6);
      b = make_bar(i, 100 + static_cast<double>(rng() % 1000) / 10,
        static_cast<double>(rng() % 50));
    }
    indicator_series::output out;
    CAF_REQUIRE(series.on_bar(b, out));
    final_bars[b.open_time_ms] = b;
    for (auto& [t, v] : out)
      latest[t] = v;
  }
  indicator_calculator plain;
  size_t compared = 0;
  for (auto& [t, b] : final_bars) {
    auto want = plain.update(b);
    CAF_REQUIRE(latest.count(t) == 1);
    CAF_CHECK(same(latest[t], want));
    ++compared;
  }
  CAF_CHECK_EQUAL(compared, final_bars.size());
}

CAF_TEST(a revision emits the revised bar and every later one) {
  indicator_series series(4);
  indicator_series::output out;
  for (int64_t i = 0; i < 5; ++i)
    series.on_bar(make_bar(i, 100 + static_cast<double>(i)), out);
  out.clear();
  CAF_CHECK(series.on_bar(make_bar(2, 50), out));
  CAF_REQUIRE_EQUAL(out.size(), 3u);
  CAF_CHECK_EQUAL(out[0].first, make_bar(2, 0).open_time_ms);
  CAF_CHECK_EQUAL(out[2].first, make_bar(4, 0).open_time_ms);
  // Older than the history: refused, nothing changes.
  out.clear();
  CAF_CHECK(!series.on_bar(make_bar(0, 1), out));
  CAF_CHECK(out.empty());
}
