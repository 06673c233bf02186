#define CAF_SUITE bar_aggregator
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "actors/bar_aggregator.hpp"

using namespace csp::actors;
using namespace csp::messages;

namespace {

// 2024-01-15T10:00:00Z: a multiple of one day? No: of one hour.
constexpr int64_t t0 = 1705312800000;
constexpr int64_t minute = 60000;

decimal px(double p) {
  return decimal::from_double(p);
}

trade make_trade(int64_t id, double price, double qty, int64_t time_ms,
  bool buyer_is_maker = false) {
  trade t;
  t.id = id;
  t.price = px(price);
  t.quantity = px(qty);
  t.trade_time_ms = time_ms;
  t.event_time_ms = time_ms;
  t.buyer_is_maker = buyer_is_maker;
  return t;
}

/// Records everything the aggregator emits.
struct recorder : bar_sink {
  std::vector<bar> bars;
  std::vector<trade> late;

  void on_bar(const bar& b) override { bars.push_back(b); }
  void on_late_trade(const trade& t) override { late.push_back(t); }

  std::vector<bar> of(timeframe tf) const {
    std::vector<bar> result;
    for (auto& b : bars)
      if (b.tf == tf)
        result.push_back(b);
    return result;
  }

  /// The last version of every bar of `tf`, by open time.
  std::map<int64_t, bar> final_of(timeframe tf) const {
    std::map<int64_t, bar> result;
    for (auto& b : bars)
      if (b.tf == tf)
        result[b.open_time_ms] = b;
    return result;
  }
};

struct fixture {
  recorder out;
  bar_aggregator_config cfg;
  std::unique_ptr<bar_aggregator> agg;

  fixture() {
    cfg.grace_ms = 2000;
    cfg.allowed_lateness_ms = 300000;
    agg = std::make_unique<bar_aggregator>("binance", "BTCUSDT", cfg, out);
  }

  void reset(bar_aggregator_config c) {
    cfg = std::move(c);
    out = recorder{};
    agg = std::make_unique<bar_aggregator>("binance", "BTCUSDT", cfg, out);
  }
};

/// Independent reference: bars of `tf` from a set of unique trades, every
/// bucket between the first and last trade present, empty ones at the
/// previous close.
struct ref_bar {
  decimal open, high, low, close;
  int128 volume = 0;
  int64_t count = 0;
};

std::map<int64_t, ref_bar> reference_bars(std::vector<trade> ts, timeframe tf) {
  std::map<int64_t, ref_bar> result;
  std::sort(ts.begin(), ts.end(), [](const trade& x, const trade& y) {
    return x.trade_time_ms != y.trade_time_ms
      ? x.trade_time_ms < y.trade_time_ms
      : x.id < y.id;
  });
  if (ts.empty())
    return result;
  auto d = duration_ms(tf);
  for (auto& t : ts) {
    auto o = t.trade_time_ms - (t.trade_time_ms % d);
    auto& b = result[o];
    if (b.count == 0) {
      b.open = b.high = b.low = t.price;
    }
    b.high = std::max(b.high, t.price);
    b.low = std::min(b.low, t.price);
    b.close = t.price;
    b.volume += t.quantity.units;
    ++b.count;
  }
  auto first = result.begin()->first;
  auto last = result.rbegin()->first;
  decimal prev = result.begin()->second.close;
  for (auto o = first; o <= last; o += d) {
    auto it = result.find(o);
    if (it == result.end()) {
      ref_bar z;
      z.open = z.high = z.low = z.close = prev;
      result[o] = z;
    } else {
      prev = it->second.close;
    }
  }
  return result;
}

void check_equal_to_reference(const std::map<int64_t, bar>& got,
  const std::map<int64_t, ref_bar>& want, timeframe tf) {
  CAF_CHECK_EQUAL(got.size(), want.size());
  for (auto& [open, w] : want) {
    auto it = got.find(open);
    if (it == got.end()) {
      CAF_FAIL("missing " << to_string(tf) << " bar at " << open);
    }
    auto& g = it->second;
    CAF_CHECK_EQUAL(g.open.units, w.open.units);
    CAF_CHECK_EQUAL(g.high.units, w.high.units);
    CAF_CHECK_EQUAL(g.low.units, w.low.units);
    CAF_CHECK_EQUAL(g.close.units, w.close.units);
    CAF_CHECK(g.volume.units == w.volume);
    CAF_CHECK_EQUAL(g.trade_count, w.count);
    CAF_CHECK_EQUAL(g.close_time_ms, open + duration_ms(tf) - 1);
    CAF_CHECK(g.closed);
  }
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(bar_aggregator_tests, fixture)

CAF_TEST(config validation) {
  bar_aggregator_config c;
  CAF_CHECK_EQUAL(c.validate(), "");
  c.allowed_lateness_ms = 1000;
  c.grace_ms = 2000;
  CAF_CHECK_NOT_EQUAL(c.validate(), "");
  c = bar_aggregator_config{};
  c.grace_ms = -1;
  CAF_CHECK_NOT_EQUAL(c.validate(), "");
  c = bar_aggregator_config{};
  c.higher_timeframes.push_back(timeframe::m1);
  CAF_CHECK_NOT_EQUAL(c.validate(), "");
}

CAF_TEST(trades bucket by trade time into utc minutes) {
  agg->add(make_trade(1, 100, 1, t0 + 5000));
  agg->add(make_trade(2, 105, 2, t0 + 20000, true));
  agg->add(make_trade(3, 95, 1, t0 + 40000));
  agg->add(make_trade(4, 101, 0.5, t0 + 59999));
  CAF_CHECK(out.bars.empty());
  agg->advance(t0 + minute + cfg.grace_ms);
  auto m1 = out.of(timeframe::m1);
  CAF_REQUIRE_EQUAL(m1.size(), 1u);
  auto& b = m1[0];
  CAF_CHECK_EQUAL(b.exchange, "binance");
  CAF_CHECK_EQUAL(b.symbol, "BTCUSDT");
  CAF_CHECK_EQUAL(b.open_time_ms, t0);
  CAF_CHECK_EQUAL(b.close_time_ms, t0 + minute - 1);
  CAF_CHECK_EQUAL(b.open, px(100));
  CAF_CHECK_EQUAL(b.high, px(105));
  CAF_CHECK_EQUAL(b.low, px(95));
  CAF_CHECK_EQUAL(b.close, px(101));
  CAF_CHECK_EQUAL(to_string(b.volume), "4.5");
  // Quote volume 100 + 210 + 95 + 50.5; taker buys are trades 1, 3, 4.
  CAF_CHECK_EQUAL(to_string(b.quote_volume), "455.5");
  CAF_CHECK_EQUAL(to_string(b.taker_buy_volume), "2.5");
  CAF_CHECK_EQUAL(to_string(b.taker_buy_quote_volume), "245.5");
  CAF_CHECK_EQUAL(b.trade_count, 4);
  CAF_CHECK_EQUAL(b.first_trade_id, 1);
  CAF_CHECK_EQUAL(b.last_trade_id, 4);
  CAF_CHECK_EQUAL(b.revision, 0);
  CAF_CHECK(b.closed);
}

CAF_TEST(open and close follow trade time not arrival order) {
  agg->add(make_trade(3, 103, 1, t0 + 30000));
  agg->add(make_trade(1, 101, 1, t0 + 10000));
  agg->add(make_trade(4, 104, 1, t0 + 50000));
  agg->add(make_trade(2, 102, 1, t0 + 20000));
  // Same time: the trade id decides.
  agg->add(make_trade(6, 106, 1, t0 + 50000));
  agg->add(make_trade(5, 105, 1, t0 + 50000));
  agg->advance(t0 + 2 * minute);
  auto m1 = out.of(timeframe::m1);
  CAF_REQUIRE_EQUAL(m1.size(), 1u);
  CAF_CHECK_EQUAL(m1[0].open, px(101));
  CAF_CHECK_EQUAL(m1[0].close, px(106));
}

CAF_TEST(a bar closes on the timer at boundary plus grace) {
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->advance(t0 + minute);
  CAF_CHECK(out.bars.empty());
  agg->advance(t0 + minute + cfg.grace_ms - 1);
  CAF_CHECK(out.bars.empty());
  agg->advance(t0 + minute + cfg.grace_ms);
  CAF_CHECK_EQUAL(out.of(timeframe::m1).size(), 1u);
  // A trade inside the grace period still lands in its bar.
  agg->add(make_trade(2, 100, 1, t0 + minute + 1000));
  agg->add(make_trade(3, 100, 1, t0 + 2 * minute - 1));
  agg->advance(t0 + 2 * minute + 500);
  agg->add(make_trade(4, 200, 1, t0 + 2 * minute - 2));
  agg->advance(t0 + 2 * minute + cfg.grace_ms);
  auto m1 = out.of(timeframe::m1);
  CAF_REQUIRE_EQUAL(m1.size(), 2u);
  CAF_CHECK_EQUAL(m1[1].trade_count, 3);
  CAF_CHECK_EQUAL(m1[1].revision, 0);
  CAF_CHECK_EQUAL(m1[1].high, px(200));
}

CAF_TEST(newer trades advance the clock and close older bars) {
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->add(make_trade(2, 100, 1, t0 + minute + cfg.grace_ms - 1));
  CAF_CHECK(out.bars.empty());
  agg->add(make_trade(3, 100, 1, t0 + minute + cfg.grace_ms));
  CAF_CHECK_EQUAL(out.of(timeframe::m1).size(), 1u);
}

CAF_TEST(trades within the allowed lateness revise a closed bar) {
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->advance(t0 + minute + cfg.grace_ms);
  CAF_REQUIRE_EQUAL(out.bars.size(), 1u);
  agg->add(make_trade(2, 90, 2, t0 + 59000));
  auto m1 = out.of(timeframe::m1);
  CAF_REQUIRE_EQUAL(m1.size(), 2u);
  CAF_CHECK_EQUAL(m1[1].open_time_ms, t0);
  CAF_CHECK_EQUAL(m1[1].revision, 1);
  CAF_CHECK_EQUAL(m1[1].close, px(90));
  CAF_CHECK_EQUAL(m1[1].low, px(90));
  CAF_CHECK_EQUAL(m1[1].trade_count, 2);
  CAF_CHECK_EQUAL(to_string(m1[1].volume), "3");
  agg->add(make_trade(3, 95, 1, t0 + 100));
  m1 = out.of(timeframe::m1);
  CAF_REQUIRE_EQUAL(m1.size(), 3u);
  CAF_CHECK_EQUAL(m1[2].revision, 2);
  CAF_CHECK_EQUAL(m1[2].open, px(95));
  CAF_CHECK_EQUAL(agg->stats().revisions, 2);
  CAF_CHECK_EQUAL(agg->stats().late_trades, 0);
}

CAF_TEST(trades beyond the allowed lateness are late and reported) {
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->advance(t0 + 1000 + cfg.allowed_lateness_ms);
  auto before = out.bars.size();
  // Exactly at the bound: still counted.
  agg->add(make_trade(2, 100, 1, t0 + 1000));
  CAF_CHECK_EQUAL(agg->stats().late_trades, 0);
  CAF_CHECK_EQUAL(out.bars.size(), before + 1);
  // One millisecond older: late.
  agg->add(make_trade(3, 102, 1, t0 + 999));
  CAF_CHECK_EQUAL(agg->stats().late_trades, 1);
  CAF_REQUIRE_EQUAL(out.late.size(), 1u);
  CAF_CHECK_EQUAL(out.late[0].id, 3);
  CAF_CHECK_EQUAL(out.bars.size(), before + 1);
  // Far older: late too, and the bar is gone from memory.
  agg->advance(t0 + 10 * cfg.allowed_lateness_ms);
  agg->add(make_trade(4, 103, 1, t0 + 2000));
  CAF_CHECK_EQUAL(agg->stats().late_trades, 2);
}

CAF_TEST(duplicate trade ids are dropped) {
  agg->add(make_trade(10, 100, 1, t0 + 1000));
  agg->add(make_trade(11, 100, 1, t0 + 2000));
  agg->add(make_trade(10, 100, 1, t0 + 1000));
  agg->add(make_trade(11, 999, 1, t0 + 2000));
  CAF_CHECK_EQUAL(agg->stats().duplicates_dropped, 2);
  // A gap (12..14 missing) is filled out of order; refills are duplicates.
  agg->add(make_trade(15, 100, 1, t0 + 5000));
  agg->add(make_trade(13, 100, 1, t0 + 3000));
  agg->add(make_trade(13, 100, 1, t0 + 3000));
  agg->add(make_trade(12, 100, 1, t0 + 2500));
  agg->add(make_trade(14, 100, 1, t0 + 4000));
  agg->add(make_trade(14, 100, 1, t0 + 4000));
  agg->add(make_trade(12, 100, 1, t0 + 2500));
  // Ids below the first one seen are new, once.
  agg->add(make_trade(8, 100, 1, t0 + 500));
  agg->add(make_trade(9, 100, 1, t0 + 600));
  agg->add(make_trade(8, 100, 1, t0 + 500));
  CAF_CHECK_EQUAL(agg->stats().duplicates_dropped, 6);
  CAF_CHECK_EQUAL(agg->stats().trades_applied, 8);
  agg->flush();
  auto m1 = out.of(timeframe::m1);
  CAF_REQUIRE_EQUAL(m1.size(), 1u);
  CAF_CHECK_EQUAL(m1[0].trade_count, 8);
  CAF_CHECK_EQUAL(m1[0].first_trade_id, 8);
  CAF_CHECK_EQUAL(m1[0].last_trade_id, 15);
  CAF_CHECK_EQUAL(m1[0].high, px(100));
}

CAF_TEST(empty minutes become zero volume bars at the previous close) {
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->add(make_trade(2, 110, 1, t0 + 2000));
  agg->advance(t0 + 4 * minute + cfg.grace_ms);
  auto m1 = out.of(timeframe::m1);
  CAF_REQUIRE_EQUAL(m1.size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    CAF_CHECK_EQUAL(m1[i].open_time_ms, t0 + static_cast<int64_t>(i) * minute);
    CAF_CHECK_EQUAL(m1[i].open, px(110));
    CAF_CHECK_EQUAL(m1[i].high, px(110));
    CAF_CHECK_EQUAL(m1[i].low, px(110));
    CAF_CHECK_EQUAL(m1[i].close, px(110));
    CAF_CHECK_EQUAL(to_string(m1[i].volume), "0");
    CAF_CHECK_EQUAL(m1[i].trade_count, 0);
    CAF_CHECK_EQUAL(m1[i].first_trade_id, -1);
  }
}

CAF_TEST(no bars for minutes closed while the feed is down) {
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->advance(t0 + minute + cfg.grace_ms);
  agg->set_feed_healthy(false);
  agg->advance(t0 + 3 * minute + cfg.grace_ms);
  CAF_CHECK_EQUAL(out.of(timeframe::m1).size(), 1u);
  agg->set_feed_healthy(true);
  agg->add(make_trade(2, 120, 1, t0 + 3 * minute + 3000));
  agg->advance(t0 + 5 * minute + cfg.grace_ms);
  auto m1 = out.of(timeframe::m1);
  // Minutes 1 and 2: outage, no bar. Minute 3: trade. Minute 4: zero bar.
  CAF_REQUIRE_EQUAL(m1.size(), 3u);
  CAF_CHECK_EQUAL(m1[1].open_time_ms, t0 + 3 * minute);
  CAF_CHECK_EQUAL(m1[2].open_time_ms, t0 + 4 * minute);
  CAF_CHECK_EQUAL(m1[2].close, px(120));
  // Backfill of an outage minute within the lateness produces its bar.
  agg->add(make_trade(3, 105, 1, t0 + minute + 5000));
  m1 = out.of(timeframe::m1);
  CAF_REQUIRE_EQUAL(m1.size(), 4u);
  CAF_CHECK_EQUAL(m1[3].open_time_ms, t0 + minute);
  CAF_CHECK_EQUAL(m1[3].revision, 0);
  CAF_CHECK_EQUAL(m1[3].close, px(105));
}

CAF_TEST(a revision moves the following zero volume bars) {
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->advance(t0 + 3 * minute + cfg.grace_ms);
  CAF_REQUIRE_EQUAL(out.of(timeframe::m1).size(), 3u);
  out.bars.clear();
  agg->add(make_trade(2, 90, 1, t0 + 50000));
  auto m1 = out.of(timeframe::m1);
  // Minute 0 revised; minutes 1 and 2 follow its new close.
  CAF_REQUIRE_EQUAL(m1.size(), 3u);
  CAF_CHECK_EQUAL(m1[0].revision, 1);
  CAF_CHECK_EQUAL(m1[1].open_time_ms, t0 + minute);
  CAF_CHECK_EQUAL(m1[1].close, px(90));
  CAF_CHECK_EQUAL(m1[1].revision, 1);
  CAF_CHECK_EQUAL(m1[2].close, px(90));
  // The same revision again changes nothing: a trade with an earlier time
  // moves the open only, so zero bars stay where they are.
  out.bars.clear();
  agg->add(make_trade(3, 80, 1, t0 + 500));
  m1 = out.of(timeframe::m1);
  CAF_REQUIRE_EQUAL(m1.size(), 1u);
  CAF_CHECK_EQUAL(m1[0].open, px(80));
  CAF_CHECK_EQUAL(m1[0].revision, 2);
}

CAF_TEST(higher timeframes aggregate closed one minute bars) {
  // 10:00-10:04 trades in minutes 0, 1 and 3; 10:05 opens the next 5m bar.
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->add(make_trade(2, 120, 2, t0 + minute + 1000));
  agg->add(make_trade(3, 90, 3, t0 + 3 * minute + 1000));
  agg->add(make_trade(4, 95, 1, t0 + 3 * minute + 2000));
  agg->advance(t0 + 5 * minute - 1);
  CAF_CHECK(out.of(timeframe::m5).empty());
  agg->advance(t0 + 5 * minute + cfg.grace_ms);
  auto m5 = out.of(timeframe::m5);
  CAF_REQUIRE_EQUAL(m5.size(), 1u);
  CAF_CHECK_EQUAL(m5[0].open_time_ms, t0);
  CAF_CHECK_EQUAL(m5[0].close_time_ms, t0 + 5 * minute - 1);
  CAF_CHECK_EQUAL(m5[0].open, px(100));
  CAF_CHECK_EQUAL(m5[0].high, px(120));
  CAF_CHECK_EQUAL(m5[0].low, px(90));
  CAF_CHECK_EQUAL(m5[0].close, px(95));
  CAF_CHECK_EQUAL(to_string(m5[0].volume), "7");
  CAF_CHECK_EQUAL(m5[0].trade_count, 4);
  // The 5m bar is emitted right after its last minute.
  auto& last = out.bars.back();
  CAF_CHECK(last.tf == timeframe::m5);
  CAF_CHECK(out.bars[out.bars.size() - 2].tf == timeframe::m1);
  // A revision of minute 3 revises the 5m bar.
  agg->add(make_trade(5, 130, 1, t0 + 3 * minute + 3000));
  m5 = out.of(timeframe::m5);
  CAF_REQUIRE_EQUAL(m5.size(), 2u);
  CAF_CHECK_EQUAL(m5[1].revision, 1);
  CAF_CHECK_EQUAL(m5[1].high, px(130));
  CAF_CHECK_EQUAL(m5[1].close, px(130));
  // 15m, 1h, 4h and 1d are still forming.
  CAF_CHECK(out.of(timeframe::m15).empty());
  CAF_CHECK(out.of(timeframe::d1).empty());
}

CAF_TEST(four hour and daily bars align to utc) {
  // 2024-01-15T23:59:30Z and 2024-01-16T00:00:30Z.
  int64_t day = 1705276800000 + 86400000;
  agg->add(make_trade(1, 100, 1, day - 30000));
  agg->add(make_trade(2, 200, 1, day + 30000));
  agg->flush();
  auto d1 = out.final_of(timeframe::d1);
  CAF_REQUIRE_EQUAL(d1.size(), 2u);
  CAF_CHECK_EQUAL(d1.begin()->first, day - 86400000);
  CAF_CHECK_EQUAL(d1.begin()->second.close_time_ms, day - 1);
  CAF_CHECK_EQUAL(d1.rbegin()->first, day);
  auto h4 = out.final_of(timeframe::h4);
  CAF_REQUIRE_EQUAL(h4.size(), 2u);
  CAF_CHECK_EQUAL(h4.begin()->first, day - 4 * 3600000);
  CAF_CHECK_EQUAL(h4.rbegin()->first, day);
}

CAF_TEST(a forming snapshot is available at any time) {
  CAF_CHECK(!agg->forming(timeframe::m1));
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->add(make_trade(2, 110, 2, t0 + 2000));
  auto f = agg->forming(timeframe::m1);
  CAF_REQUIRE(f);
  CAF_CHECK(!f->closed);
  CAF_CHECK_EQUAL(f->open, px(100));
  CAF_CHECK_EQUAL(f->close, px(110));
  CAF_CHECK_EQUAL(f->trade_count, 2);
  agg->add(make_trade(3, 90, 1, t0 + minute + 1000));
  auto h1 = agg->forming(timeframe::h1);
  CAF_REQUIRE(h1);
  CAF_CHECK_EQUAL(h1->open_time_ms, t0);
  CAF_CHECK_EQUAL(h1->open, px(100));
  CAF_CHECK_EQUAL(h1->low, px(90));
  CAF_CHECK_EQUAL(h1->close, px(90));
  CAF_CHECK_EQUAL(h1->trade_count, 3);
  CAF_CHECK(!h1->closed);
  // Taking a snapshot emits nothing.
  CAF_CHECK(out.bars.empty());
}

CAF_TEST(flush closes every bar without inventing minutes) {
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->add(make_trade(2, 101, 1, t0 + 2 * minute + 1000));
  agg->flush();
  CAF_CHECK_EQUAL(out.of(timeframe::m1).size(), 3u);
  CAF_CHECK_EQUAL(out.of(timeframe::m5).size(), 1u);
  CAF_CHECK_EQUAL(out.of(timeframe::d1).size(), 1u);
  CAF_CHECK(!agg->forming(timeframe::m1));
}

CAF_TEST(memory stays bounded by the allowed lateness) {
  int64_t id = 1;
  for (int64_t t = t0; t < t0 + 6 * 3600000; t += 7000) {
    agg->add(make_trade(id, 100 + static_cast<double>(id % 7), 1, t));
    ++id;
  }
  auto bound = static_cast<size_t>(cfg.allowed_lateness_ms / minute + 3);
  CAF_CHECK_LESS_OR_EQUAL(agg->retained_minutes(), bound);
  CAF_CHECK_EQUAL(out.of(timeframe::h1).size(), 5u);
}

CAF_TEST(final bars equal an independent reference under disorder) {
  // Bursty trades over ~5 hours with quiet stretches, delivered out of
  // order (within 60 s) and with duplicates, must give exactly the bars a
  // straightforward batch computation gives for the unique trades.
  std::mt19937_64 rng(20240115);
  std::vector<trade> unique;
  int64_t t = t0 + 12345;
  double price = 50000;
  for (int64_t id = 1000; id < 21000; ++id) {
    auto r = rng() % 1000;
    t += r < 5 ? 240000 + static_cast<int64_t>(rng() % 600000)
               : static_cast<int64_t>(rng() % 2000);
    price *= 1.0 + (static_cast<double>(rng() % 2001) - 1000.0) / 1e6;
    unique.push_back(make_trade(id, std::round(price * 100) / 100,
      static_cast<double>(rng() % 100000 + 1) / 1e4, t, rng() % 2 == 0));
  }
  std::vector<trade> arrival = unique;
  // Local disorder: each trade may swap with a later one up to 60 s away.
  for (size_t i = 0; i + 1 < arrival.size(); ++i) {
    auto j = i + rng() % 8;
    if (j < arrival.size()
      && arrival[j].trade_time_ms - arrival[i].trade_time_ms < 60000)
      std::swap(arrival[i], arrival[j]);
  }
  // Duplicates re-sent shortly after the original.
  for (size_t i = 0; i < 2000; ++i) {
    auto k = rng() % (arrival.size() - 10);
    arrival.insert(arrival.begin() + static_cast<long>(k + 5), arrival[k]);
  }
  int64_t now = 0;
  for (auto& tr : arrival) {
    agg->add(tr);
    now = std::max(now, tr.trade_time_ms);
    agg->advance(now + 500); // a timer slightly ahead of the trades
  }
  agg->flush();
  CAF_CHECK_EQUAL(agg->stats().duplicates_dropped, 2000);
  CAF_CHECK_EQUAL(agg->stats().late_trades, 0);
  CAF_CHECK_EQUAL(
    agg->stats().trades_applied, static_cast<int64_t>(unique.size()));
  CAF_CHECK_GREATER(agg->stats().revisions, 0);
  for (auto tf : all_timeframes)
    check_equal_to_reference(out.final_of(tf), reference_bars(unique, tf), tf);
}

CAF_TEST(revisions never precede the first version) {
  agg->add(make_trade(1, 100, 1, t0 + 1000));
  agg->advance(t0 + 2 * minute + cfg.grace_ms);
  agg->add(make_trade(2, 100, 1, t0 + 2000));
  agg->add(make_trade(3, 100, 1, t0 + minute + 2000));
  std::map<std::pair<int, int64_t>, int32_t> last_revision;
  for (auto& b : out.bars) {
    auto key = std::make_pair(static_cast<int>(b.tf), b.open_time_ms);
    auto it = last_revision.find(key);
    if (it == last_revision.end()) {
      CAF_CHECK_EQUAL(b.revision, 0);
    } else {
      CAF_CHECK_EQUAL(b.revision, it->second + 1);
    }
    last_revision[key] = b.revision;
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
