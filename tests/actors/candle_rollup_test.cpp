#define CAF_SUITE candle_rollup
#include "caf/test/unit_test.hpp"

#include <cstdint>
#include <vector>

#include "actors/bar_aggregator.hpp"
#include "actors/candle_rollup.hpp"

using namespace csp;
using namespace csp::actors;
using namespace csp::messages;

namespace {

constexpr int64_t t0 = 1705312800000; // 2024-01-15T10:00:00Z
constexpr int64_t minute = 60000;
constexpr int64_t unit = 100000000; // 1.0 in decimal units

struct collect : bar_sink {
  std::vector<bar> bars;

  void on_bar(const bar& b) override { bars.push_back(b); }

  void on_late_trade(const trade&) override {}

  std::vector<bar> of(timeframe tf) const {
    std::vector<bar> out;
    for (const auto& b : bars)
      if (b.tf == tf)
        out.push_back(b);
    return out;
  }
};

/// A closed 1m candle: open, high, low, close in whole units.
bar candle(int64_t open_ms, int64_t o, int64_t h, int64_t l, int64_t c,
  int64_t volume = 10) {
  bar b;
  b.exchange = "yahoo";
  b.symbol = "AAPL";
  b.tf = timeframe::m1;
  b.open_time_ms = open_ms;
  b.close_time_ms = open_ms + minute - 1;
  b.open.units = o * unit;
  b.high.units = h * unit;
  b.low.units = l * unit;
  b.close.units = c * unit;
  b.volume.units = volume * unit;
  b.quote_volume.units = volume * c * unit;
  b.trade_count = volume;
  b.closed = true;
  return b;
}

struct fixture {
  bar_aggregator_config cfg;
  collect out;
  candle_rollup roll{"yahoo", "AAPL", cfg, out};
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(candle_rollup_tests, fixture)

CAF_TEST(candles pass through and a period closes with its last minute) {
  roll.add(candle(t0, 100, 105, 99, 104));
  roll.add(candle(t0 + minute, 104, 110, 103, 108));
  roll.add(candle(t0 + 2 * minute, 108, 109, 95, 96, 0)); // no volume
  roll.add(candle(t0 + 3 * minute, 98, 101, 97, 100, 5));
  CAF_CHECK_EQUAL(out.of(timeframe::m1).size(), 4u);
  CAF_CHECK(out.of(timeframe::m5).empty());
  roll.add(candle(t0 + 4 * minute, 100, 102, 98, 101));
  auto m5 = out.of(timeframe::m5);
  CAF_REQUIRE_EQUAL(m5.size(), 1u);
  const auto& b = m5[0];
  CAF_CHECK_EQUAL(b.open_time_ms, t0);
  CAF_CHECK_EQUAL(b.close_time_ms, t0 + 5 * minute - 1);
  CAF_CHECK(b.closed);
  CAF_CHECK_EQUAL(b.revision, 0);
  CAF_CHECK_EQUAL(to_string(b.open), "100");
  // The zero-volume minute's 109 / 95 do not count.
  CAF_CHECK_EQUAL(to_string(b.high), "110");
  CAF_CHECK_EQUAL(to_string(b.low), "97");
  CAF_CHECK_EQUAL(to_string(b.close), "101");
  CAF_CHECK_EQUAL(to_string(b.volume), "35");
  CAF_CHECK_EQUAL(to_string(b.quote_volume), "3630");
  CAF_CHECK_EQUAL(b.trade_count, 35);
  // 15m, 1h, 4h, 1d are still open.
  CAF_CHECK_EQUAL(out.bars.size(), 6u);
}

CAF_TEST(a later candle closes a period whose last minute is missing) {
  roll.add(candle(t0, 100, 101, 99, 100));
  roll.add(candle(t0 + 6 * minute, 100, 101, 99, 100));
  auto m5 = out.of(timeframe::m5);
  CAF_REQUIRE_EQUAL(m5.size(), 1u);
  CAF_CHECK_EQUAL(m5[0].open_time_ms, t0);
  CAF_CHECK_EQUAL(to_string(m5[0].volume), "10");
}

CAF_TEST(the wall clock closes periods after the allowed lateness) {
  // The session's last candle: 20:59 UTC; the 4h bar 20:00-24:00 and the
  // day never get their last minute.
  auto last = t0 + 10 * 60 * minute + 59 * minute;
  roll.add(candle(last, 100, 101, 99, 100));
  CAF_CHECK_EQUAL(out.of(timeframe::h1).size(), 1u);
  CAF_CHECK(out.of(timeframe::h4).empty());
  auto h4_end = t0 + 14 * 60 * minute; // 24:00
  CAF_CHECK_EQUAL(roll.next_due_ms(), h4_end + cfg.allowed_lateness_ms);
  roll.advance(h4_end + cfg.allowed_lateness_ms - 1);
  CAF_CHECK(out.of(timeframe::h4).empty());
  roll.advance(h4_end + cfg.allowed_lateness_ms);
  CAF_CHECK_EQUAL(out.of(timeframe::h4).size(), 1u);
  CAF_CHECK_EQUAL(out.of(timeframe::d1).size(), 1u);
  CAF_CHECK_EQUAL(out.of(timeframe::d1)[0].open_time_ms, t0 - 10 * 60 * minute);
  CAF_CHECK_EQUAL(roll.next_due_ms(), INT64_MAX);
}

CAF_TEST(a candle for a closed period revises it and late ones are dropped) {
  for (int i = 0; i < 5; ++i)
    roll.add(candle(t0 + i * minute, 100, 101, 99, 100));
  CAF_REQUIRE_EQUAL(out.of(timeframe::m5).size(), 1u);
  // A changed 10:02 candle: a 1m revision and a 5m revision.
  roll.add(candle(t0 + 2 * minute, 100, 120, 99, 100));
  auto m1 = out.of(timeframe::m1);
  CAF_CHECK_EQUAL(m1.back().revision, 1);
  auto m5 = out.of(timeframe::m5);
  CAF_REQUIRE_EQUAL(m5.size(), 2u);
  CAF_CHECK_EQUAL(m5[1].revision, 1);
  CAF_CHECK_EQUAL(to_string(m5[1].high), "120");
  // The same candle again changes nothing.
  auto n = out.bars.size();
  CAF_CHECK(!roll.add(candle(t0 + 2 * minute, 100, 120, 99, 100)));
  CAF_CHECK_EQUAL(out.bars.size(), n);
  CAF_CHECK_EQUAL(roll.stats().duplicates, 1);
  // Beyond the allowed lateness: counted, not applied.
  roll.add(candle(t0 + 20 * minute, 100, 101, 99, 100));
  n = out.bars.size();
  CAF_CHECK(!roll.add(candle(t0 + minute, 1, 1, 1, 1)));
  CAF_CHECK_EQUAL(out.bars.size(), n);
  CAF_CHECK_EQUAL(roll.stats().late, 1);
  // Candles out of the window are let go.
  CAF_CHECK_LESS(roll.retained_minutes(), 7u);
}

CAF_TEST(higher timeframes equal the ones built from the same trades) {
  // Three hours of trades (quiet minutes too) through the bar aggregator;
  // its closed 1m bars, as candles, through the rollup.
  collect from_trades;
  bar_aggregator agg{"yahoo", "AAPL", cfg, from_trades};
  for (int64_t m = 0; m < 180; ++m) {
    if (m % 7 == 3)
      continue;
    for (int64_t k = 0; k < 3; ++k) {
      trade t;
      t.id = m * 3 + k + 1;
      t.price.units = (100 + (m * 37 + k * 11) % 23) * unit;
      t.quantity.units = (1 + (m + k) % 4) * unit;
      t.trade_time_ms = t0 + m * minute + 10000 * (k + 1);
      t.buyer_is_maker = (m + k) % 2 == 0;
      agg.add(t);
    }
  }
  agg.advance(t0 + 180 * minute + cfg.grace_ms);
  for (const auto& b : from_trades.of(timeframe::m1)) {
    CAF_REQUIRE_EQUAL(b.revision, 0);
    roll.add(b);
  }
  for (auto tf :
    {timeframe::m5, timeframe::m15, timeframe::h1, timeframe::h4}) {
    auto want = from_trades.of(tf);
    auto got = out.of(tf);
    CAF_CHECK(!want.empty());
    CAF_CHECK_EQUAL(got.size(), want.size());
    for (std::size_t i = 0; i < got.size() && i < want.size(); ++i)
      CAF_CHECK_EQUAL(got[i], want[i]);
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
