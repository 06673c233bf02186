#define CAF_SUITE quality_checker
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "actors/quality_checker.hpp"

using namespace csp::actors;
using csp::messages::decimal;
using csp::messages::quality_check_count;
using csp::messages::trade;

namespace {

constexpr int64_t t0 = 1'700'000'000'000; // ms

trade mk(
  int64_t id, double price, double qty, int64_t trade_ms, int64_t recv_ms) {
  trade t;
  t.id = id;
  t.price = decimal::from_double(price);
  t.quantity = decimal::from_double(qty);
  t.trade_time_ms = trade_ms;
  t.event_time_ms = trade_ms;
  t.receive_time_ns = recv_ms * 1'000'000;
  return t;
}

/// A valid trade received 10 ms after it happened.
trade ok(int64_t id, int64_t ms, double price = 100.0, double qty = 1.0) {
  return mk(id, price, qty, ms - 10, ms);
}

constexpr auto bit_of(check_type x) {
  return check_bit(x);
}

/// Small windows so tests can reason about every bucket: 10 s of 1 s
/// buckets, price and volume windows of 10.
quality_checker_config small_config() {
  quality_checker_config cfg;
  cfg.window_ms = 10000;
  cfg.bucket_ms = 1000;
  cfg.max_age_ms = 3000;
  cfg.price_window = 10;
  cfg.price_min_samples = 5;
  cfg.volume_window = 10;
  cfg.max_recent_issues = 5;
  return cfg;
}

quality_checker make(quality_checker_config cfg = small_config()) {
  CAF_REQUIRE_EQUAL(cfg.validate(), "");
  return quality_checker{"binance", "BTCUSDT", cfg, t0};
}

int64_t failed_in_report(
  const quality_checker& qc, int64_t now, std::string_view type) {
  auto rep = qc.report(now);
  for (auto& x : rep.failed_checks)
    if (x.check_type == type)
      return x.failed;
  return 0;
}

/// Two-pass population mean and standard deviation.
std::pair<double, double> mean_sd(const std::vector<double>& xs) {
  double m = 0;
  for (auto x : xs)
    m += x;
  m /= static_cast<double>(xs.size());
  double v = 0;
  for (auto x : xs)
    v += (x - m) * (x - m);
  return {m, std::sqrt(v / static_cast<double>(xs.size()))};
}

} // namespace

CAF_TEST(check type names are stable) {
  CAF_CHECK_EQUAL(to_string(check_type::invalid_value), "invalid_value");
  CAF_CHECK_EQUAL(to_string(check_type::duplicate), "duplicate");
  CAF_CHECK_EQUAL(to_string(check_type::id_gap), "id_gap");
  CAF_CHECK_EQUAL(to_string(check_type::stale_feed), "stale_feed");
  CAF_CHECK_EQUAL(to_string(check_type::price_anomaly), "price_anomaly");
  CAF_CHECK_EQUAL(to_string(check_type::volume_anomaly), "volume_anomaly");
  CAF_CHECK_EQUAL(to_string(check_type::timestamp_skew), "timestamp_skew");
}

CAF_TEST(config defaults and validation) {
  quality_checker_config cfg;
  CAF_CHECK_EQUAL(cfg.validate(), "");
  CAF_CHECK_EQUAL(cfg.window_ms, 300000);
  CAF_CHECK_EQUAL(cfg.price_window, 100u);
  CAF_CHECK_EQUAL(cfg.price_z_threshold, 6.0);
  CAF_CHECK_EQUAL(cfg.price_move_percent, 10.0);
  CAF_CHECK_EQUAL(cfg.volume_z_threshold, 8.0);
  CAF_CHECK_EQUAL(cfg.max_skew_ms, 5000);
  auto bad = [](auto mutate) {
    auto c = small_config();
    mutate(c);
    return !c.validate().empty();
  };
  CAF_CHECK(bad([](auto& c) { c.window_ms = 0; }));
  CAF_CHECK(bad([](auto& c) { c.bucket_ms = 0; }));
  CAF_CHECK(bad([](auto& c) { c.bucket_ms = 3000; })); // 10000 % 3000
  CAF_CHECK(bad([](auto& c) {
    c.bucket_ms = 1;
    c.window_ms = 200000;
  }));
  CAF_CHECK(bad([](auto& c) { c.max_age_ms = 0; }));
  CAF_CHECK(bad([](auto& c) { c.price_window = 1; }));
  CAF_CHECK(bad([](auto& c) { c.price_min_samples = 1; }));
  CAF_CHECK(bad([](auto& c) { c.price_min_samples = 11; }));
  CAF_CHECK(bad([](auto& c) { c.price_z_threshold = 0; }));
  CAF_CHECK(bad([](auto& c) { c.price_move_percent = -1; }));
  CAF_CHECK(bad([](auto& c) { c.min_return_stddev = -1e-9; }));
  CAF_CHECK(bad([](auto& c) { c.volume_window = 1; }));
  CAF_CHECK(bad([](auto& c) { c.volume_z_threshold = 0.0 / 0.0; }));
  CAF_CHECK(bad([](auto& c) { c.min_volume_stddev_fraction = -0.1; }));
  CAF_CHECK(bad([](auto& c) { c.max_skew_ms = 0; }));
  CAF_CHECK(bad([](auto& c) { c.max_recent_issues = 0; }));
  CAF_CHECK(bad([](auto& c) { c.max_tracked_gaps = 0; }));
  CAF_CHECK(bad([](auto& c) { c.weights[3] = -1; }));
  CAF_CHECK(!bad([](auto& c) { c.price_min_samples = 10; }));
  CAF_CHECK(!bad([](auto& c) { c.weights[0] = 0; }));
}

CAF_TEST(a clean feed scores 100) {
  auto qc = make();
  for (int i = 0; i < 50; ++i)
    CAF_CHECK_EQUAL(qc.check(ok(1000 + i, t0 + i * 100, 100.0 + i % 3)), 0);
  auto rep = qc.report(t0 + 4999);
  CAF_CHECK_EQUAL(rep.exchange, "binance");
  CAF_CHECK_EQUAL(rep.symbol, "BTCUSDT");
  CAF_CHECK_EQUAL(rep.time_ms, t0 + 4999);
  CAF_CHECK_EQUAL(rep.window_ms, 10000);
  CAF_CHECK_EQUAL(rep.score, 100.0);
  CAF_CHECK_EQUAL(rep.observations, 50);
  CAF_CHECK(rep.failed_checks.empty());
  CAF_CHECK(rep.recent_issues.empty());
  CAF_CHECK_EQUAL(qc.observations_total(), 50);
}

CAF_TEST(invalid values) {
  auto qc = make();
  auto inv = bit_of(check_type::invalid_value);
  CAF_CHECK_EQUAL(qc.check(mk(1, 0.0, 1.0, t0, t0)), inv);
  CAF_CHECK_EQUAL(qc.check(mk(2, -5.0, 1.0, t0, t0)), inv);
  CAF_CHECK_EQUAL(qc.check(mk(3, 100.0, 0.0, t0, t0)), inv);
  CAF_CHECK_EQUAL(qc.check(mk(4, 100.0, -1.0, t0, t0)), inv);
  // Trade time 0: invalid, and not also reported as skewed.
  CAF_CHECK_EQUAL(qc.check(mk(5, 100.0, 1.0, 0, t0)), inv);
  CAF_CHECK_EQUAL(qc.check(mk(6, 100.0, 1.0, -7, t0)), inv);
  // The smallest positive values are valid.
  CAF_CHECK_EQUAL(qc.check(mk(7, 0.00000001, 0.00000001, 1, 1)), 0);
  CAF_CHECK_EQUAL(qc.failed_total(check_type::invalid_value), 6);
  auto rep = qc.report(t0);
  CAF_REQUIRE_EQUAL(rep.recent_issues.size(), 5u); // bounded to 5
  CAF_CHECK_EQUAL(rep.recent_issues.front().detail, "price -5 <= 0");
  CAF_CHECK_EQUAL(rep.recent_issues[1].detail, "quantity 0 <= 0");
  CAF_CHECK_EQUAL(rep.recent_issues.back().detail, "trade time -7 <= 0");
  CAF_CHECK_EQUAL(rep.recent_issues.back().trade_id, 6);
  CAF_CHECK_EQUAL(rep.recent_issues.back().check_type, "invalid_value");
  CAF_CHECK_EQUAL(rep.recent_issues.back().time_ms, t0);
}

CAF_TEST(duplicates in order) {
  auto qc = make();
  auto dup = bit_of(check_type::duplicate);
  CAF_CHECK_EQUAL(qc.check(ok(10, t0)), 0);
  CAF_CHECK_EQUAL(qc.check(ok(10, t0 + 1)), dup);
  CAF_CHECK_EQUAL(qc.check(ok(11, t0 + 2)), 0);
  CAF_CHECK_EQUAL(qc.check(ok(10, t0 + 3)), dup);
  CAF_CHECK_EQUAL(qc.check(ok(11, t0 + 4)), dup);
  CAF_CHECK_EQUAL(qc.failed_total(check_type::duplicate), 3);
  auto rep = qc.report(t0 + 4);
  CAF_REQUIRE(!rep.recent_issues.empty());
  CAF_CHECK_EQUAL(rep.recent_issues.back().detail, "id 11 already seen");
  // A duplicate is not checked further: an invalid duplicate is a duplicate.
  CAF_CHECK_EQUAL(qc.check(mk(11, 0.0, 1.0, t0, t0)), dup);
}

CAF_TEST(id gaps report the range and are refilled out of order) {
  auto qc = make();
  auto gap = bit_of(check_type::id_gap);
  auto dup = bit_of(check_type::duplicate);
  CAF_CHECK_EQUAL(qc.check(ok(100, t0)), 0);
  CAF_CHECK_EQUAL(qc.check(ok(105, t0 + 1)), gap);
  CAF_CHECK_EQUAL(qc.missing_ids_total(), 4);
  auto rep = qc.report(t0 + 1);
  CAF_REQUIRE_EQUAL(rep.recent_issues.size(), 1u);
  CAF_CHECK_EQUAL(rep.recent_issues[0].detail, "ids 101..104 missing");
  CAF_CHECK_EQUAL(rep.recent_issues[0].trade_id, 105);
  using ranges = std::vector<std::pair<int64_t, int64_t>>;
  CAF_CHECK_EQUAL(qc.missing_ranges(), (ranges{{101, 104}}));
  // Refill from the middle (splits the range), then the edges.
  CAF_CHECK_EQUAL(qc.check(ok(103, t0 + 2)), 0);
  CAF_CHECK_EQUAL(qc.missing_ranges(), (ranges{{101, 102}, {104, 104}}));
  CAF_CHECK_EQUAL(qc.check(ok(103, t0 + 3)), dup);
  CAF_CHECK_EQUAL(qc.check(ok(104, t0 + 4)), 0);
  CAF_CHECK_EQUAL(qc.check(ok(101, t0 + 5)), 0);
  CAF_CHECK_EQUAL(qc.missing_ranges(), (ranges{{102, 102}}));
  CAF_CHECK_EQUAL(qc.check(ok(101, t0 + 6)), dup);
  CAF_CHECK_EQUAL(qc.check(ok(102, t0 + 7)), 0);
  CAF_CHECK(qc.missing_ranges().empty());
  for (int64_t id = 100; id <= 105; ++id)
    CAF_CHECK_EQUAL(qc.check(ok(id, t0 + 8)), dup);
  // A one-id gap.
  CAF_CHECK_EQUAL(qc.check(ok(107, t0 + 9)), gap);
  CAF_CHECK_EQUAL(qc.missing_ids_total(), 5);
  CAF_CHECK_EQUAL(qc.failed_total(check_type::id_gap), 2);
  // Ids below the first one are new, and are remembered.
  CAF_CHECK_EQUAL(qc.check(ok(97, t0 + 10)), 0);
  CAF_CHECK_EQUAL(qc.check(ok(99, t0 + 11)), 0);
  CAF_CHECK_EQUAL(qc.check(ok(98, t0 + 12)), 0);
  CAF_CHECK_EQUAL(qc.check(ok(98, t0 + 13)), dup);
  CAF_CHECK_EQUAL(qc.check(ok(97, t0 + 14)), dup);
  CAF_CHECK_EQUAL(qc.failed_total(check_type::id_gap), 2);
}

CAF_TEST(late trades are not checked for skew or anomalies) {
  auto qc = make();
  CAF_CHECK_EQUAL(qc.check(ok(1, t0)), 0);
  CAF_CHECK_EQUAL(qc.check(ok(3, t0 + 1)), bit_of(check_type::id_gap));
  // Backfilled a minute later: large skew, but a legitimate late arrival.
  CAF_CHECK_EQUAL(qc.check(mk(2, 100.0, 1.0, t0, t0 + 60000)), 0);
  // Late trades with invalid values are still invalid.
  CAF_CHECK_EQUAL(qc.check(ok(5, t0 + 60001)), bit_of(check_type::id_gap));
  CAF_CHECK_EQUAL(qc.check(mk(4, 0.0, 1.0, t0, t0 + 60002)),
    bit_of(check_type::invalid_value));
}

CAF_TEST(duplicate detection matches a set of all ids) {
  // Ids 0..1999 arrive shuffled in chunks (so gaps open and close), with
  // every 7th id repeated later and every 13th never arriving.
  auto cfg = small_config();
  cfg.max_tracked_gaps = 4096;
  auto qc = make(cfg);
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < 2000; ++i)
    if (i % 13 != 5)
      ids.push_back(i);
  uint64_t lcg = 7;
  auto rnd = [&](uint64_t n) {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (lcg >> 33) % n;
  };
  for (size_t i = 0; i + 50 <= ids.size(); i += 50)
    for (size_t j = 49; j > 0; --j)
      std::swap(ids[i + j], ids[i + rnd(j + 1)]);
  std::vector<int64_t> stream;
  for (auto id : ids) {
    stream.push_back(id);
    if (id % 7 == 0)
      stream.push_back(ids[rnd(ids.size())]);
  }
  std::set<int64_t> seen;
  int64_t mismatches = 0;
  int64_t expected_dups = 0;
  int64_t now = t0;
  for (auto id : stream) {
    bool expect_dup = !seen.insert(id).second;
    expected_dups += expect_dup ? 1 : 0;
    // Receive and trade time equal so no other check interferes.
    auto mask = qc.check(mk(id, 100.0, 1.0, now, now));
    bool got_dup = (mask & bit_of(check_type::duplicate)) != 0;
    mismatches += got_dup != expect_dup ? 1 : 0;
    ++now;
  }
  CAF_CHECK_EQUAL(mismatches, 0);
  CAF_CHECK_EQUAL(qc.failed_total(check_type::duplicate), expected_dups);
  CAF_CHECK(expected_dups > 100);
  // Only the never-arriving ids remain missing (the 13th ones below the
  // highest id; 1998 is the last id, 1999 = 13 * 153 + 10 arrives).
  int64_t missing = 0;
  for (auto& [lo, hi] : qc.missing_ranges())
    missing += hi - lo + 1;
  int64_t never = 0;
  for (int64_t i = 0; i < 2000; ++i)
    never += (i % 13 == 5) ? 1 : 0;
  CAF_CHECK_EQUAL(missing, never);
}

CAF_TEST(the oldest tracked gap is forgotten when too many are open) {
  auto cfg = small_config();
  cfg.max_tracked_gaps = 2;
  auto qc = make(cfg);
  qc.check(ok(1, t0));
  qc.check(ok(3, t0)); // gap {2}
  qc.check(ok(5, t0)); // gap {4}
  qc.check(ok(7, t0)); // gap {6}: {2} forgotten
  using ranges = std::vector<std::pair<int64_t, int64_t>>;
  CAF_CHECK_EQUAL(qc.missing_ranges(), (ranges{{4, 4}, {6, 6}}));
  CAF_CHECK_EQUAL(qc.check(ok(4, t0)), 0);
  // Documented trade-off: id 2 now counts as a duplicate.
  CAF_CHECK_EQUAL(qc.check(ok(2, t0)), bit_of(check_type::duplicate));
}

CAF_TEST(timestamp skew boundaries) {
  auto qc = make();
  auto skew = bit_of(check_type::timestamp_skew);
  CAF_CHECK_EQUAL(qc.check(mk(1, 100, 1, t0, t0 + 5000)), 0);
  CAF_CHECK_EQUAL(qc.check(mk(2, 100, 1, t0, t0 + 5001)), skew);
  // Trade time in the future.
  CAF_CHECK_EQUAL(qc.check(mk(3, 100, 1, t0 + 10000, t0 + 5000)), 0);
  CAF_CHECK_EQUAL(qc.check(mk(4, 100, 1, t0 + 10001, t0 + 5000)), skew);
  // Unknown receive time: no skew check.
  CAF_CHECK_EQUAL(qc.check(mk(5, 100, 1, t0 + 10001, 0)), 0);
  // Sub-millisecond receive times are floored to the millisecond.
  auto t = mk(6, 100, 1, t0, 0);
  t.receive_time_ns = (t0 + 5000) * 1'000'000 + 999'999;
  CAF_CHECK_EQUAL(qc.check(t), 0);
  CAF_CHECK_EQUAL(qc.failed_total(check_type::timestamp_skew), 2);
}

CAF_TEST(stale feed boundaries) {
  auto qc = make(); // max age 3000 ms
  // No trade at all since the start.
  CAF_CHECK(!qc.check_staleness(t0 + 3000));
  CAF_CHECK(qc.check_staleness(t0 + 3001));
  CAF_CHECK(qc.check_staleness(t0 + 4000)); // same episode
  CAF_CHECK_EQUAL(qc.failed_total(check_type::stale_feed), 1);
  auto rep = qc.report(t0 + 4000);
  CAF_CHECK_EQUAL(rep.score, 0.0);
  CAF_CHECK_EQUAL(rep.observations, 0);
  CAF_REQUIRE_EQUAL(rep.recent_issues.size(), 1u);
  CAF_CHECK_EQUAL(
    rep.recent_issues[0].detail, "no trade for 3001 ms, limit 3000");
  CAF_CHECK_EQUAL(rep.recent_issues[0].trade_id, -1);
  // A trade ends the episode.
  qc.check(ok(1, t0 + 5000));
  CAF_CHECK(!qc.check_staleness(t0 + 8000));
  CAF_CHECK(!qc.is_stale(t0 + 8000));
  CAF_CHECK(qc.is_stale(t0 + 8001));
  CAF_CHECK(qc.check_staleness(t0 + 8001));
  CAF_CHECK_EQUAL(qc.failed_total(check_type::stale_feed), 2);
  // A late trade with an old receive time does not move freshness back.
  qc.check(ok(2, t0 + 9000));
  qc.check(ok(0, t0 + 1000));
  CAF_CHECK(!qc.is_stale(t0 + 12000));
}

CAF_TEST(price move from the rolling mean) {
  auto cfg = small_config();
  cfg.price_z_threshold = 1e9; // isolate the percentage check
  auto qc = make(cfg);
  auto anom = bit_of(check_type::price_anomaly);
  // Fewer than price_min_samples (5) prices: nothing is checked.
  for (int i = 0; i < 4; ++i)
    CAF_CHECK_EQUAL(qc.check(ok(i, t0 + i, 100.0)), 0);
  {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(4, t0 + 4, 1000.0)), 0);
  }
  CAF_CHECK_EQUAL(qc.check(ok(4, t0 + 4, 100.0)), 0);
  // Mean 100: 110 and 90 are exactly 10 %, not above.
  for (double p : {110.0, 90.0}) {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(5, t0 + 5, p)), 0);
  }
  for (double p : {110.01, 89.99, 500.0, 0.01}) {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(5, t0 + 5, p)), anom);
  }
  // The window slides: after 10 prices of 200 the mean is 200.
  CAF_CHECK_EQUAL(qc.check(ok(5, t0 + 5, 200.0)), anom);
  int fired = 0;
  for (int i = 6; i < 15; ++i)
    fired += qc.check(ok(i, t0 + i, 200.0)) != 0 ? 1 : 0;
  // Means seen by trades 6..14: (5*100 + k*200) / (5 + k) for k = 1..5,
  // then (10 - k) * 100 ... all but the last few deviate by > 10 %.
  // Independent reference: recompute each mean from the price history.
  std::vector<double> hist = {100, 100, 100, 100, 100, 200};
  int expected_fired = 0;
  for (int i = 6; i < 15; ++i) {
    auto n = std::min<size_t>(hist.size(), 10);
    double m = 0;
    for (size_t j = hist.size() - n; j < hist.size(); ++j)
      m += hist[j];
    m /= static_cast<double>(n);
    expected_fired += std::fabs(200.0 - m) / m * 100.0 > 10.0 ? 1 : 0;
    hist.push_back(200.0);
  }
  CAF_CHECK_EQUAL(fired, expected_fired);
  CAF_CHECK(expected_fired > 0);
  CAF_CHECK_EQUAL(qc.check(ok(15, t0 + 15, 200.0)), 0);
  CAF_CHECK_EQUAL(qc.check(ok(16, t0 + 16, 219.0)), 0);
}

CAF_TEST(price log return z score) {
  auto cfg = small_config();
  cfg.price_move_percent = 1e6; // isolate the z-score check
  auto qc = make(cfg);
  auto anom = bit_of(check_type::price_anomaly);
  // Ten prices with irregular small moves.
  std::vector<double> prices
    = {100.0, 100.5, 99.8, 100.2, 101.0, 100.4, 100.9, 100.1, 99.6, 100.3};
  for (size_t i = 0; i < prices.size(); ++i)
    CAF_REQUIRE_EQUAL(qc.check(ok(static_cast<int64_t>(i), t0, prices[i])), 0);
  std::vector<double> rets;
  for (size_t i = 1; i < prices.size(); ++i)
    rets.push_back(std::log(prices[i] / prices[i - 1]));
  auto [m, sd] = mean_sd(rets);
  // Prices whose log return has z = 5.9 and 6.1, up and down (the prices
  // are rounded to 8 decimals, far below the margin).
  auto at_z = [&, m = m, sd = sd](
                double z) { return prices.back() * std::exp(m + z * sd); };
  for (double z : {5.9, -5.9, 0.0}) {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(10, t0, at_z(z))), 0);
  }
  for (double z : {6.1, -6.1, 20.0}) {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(10, t0, at_z(z))), anom);
  }
}

CAF_TEST(price return floor avoids infinite z on flat prices) {
  auto cfg = small_config();
  cfg.price_move_percent = 1e6;
  cfg.min_return_stddev = 1e-3;
  auto qc = make(cfg);
  for (int i = 0; i < 10; ++i)
    qc.check(ok(i, t0, 100.0));
  // All returns 0: stddev floor 1e-3, so z = |ln(p / 100)| / 1e-3.
  auto p_at = [](double r) { return 100.0 * std::exp(r); };
  {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(10, t0, p_at(0.0059))), 0);
  }
  {
    auto copy = qc;
    CAF_CHECK_EQUAL(
      copy.check(ok(10, t0, p_at(0.0061))), bit_of(check_type::price_anomaly));
  }
}

CAF_TEST(volume z score only with a full window) {
  auto qc = make();
  auto anom = bit_of(check_type::volume_anomaly);
  // Nine quantities alternating 1 and 2: window not full yet.
  for (int i = 0; i < 9; ++i)
    qc.check(ok(i, t0, 100.0, i % 2 == 0 ? 1.0 : 2.0));
  {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(9, t0, 100.0, 1000.0)), 0);
  }
  qc.check(ok(9, t0, 100.0, 2.0));
  // Window 1,2,1,2,...: mean 1.5, population stddev 0.5; z = 8 at 5.5.
  {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(10, t0, 100.0, 5.5)), 0);
  }
  {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(10, t0, 100.0, 5.50000001)), anom);
  }
  // Small trades never count.
  {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(10, t0, 100.0, 0.00000001)), 0);
  }
}

CAF_TEST(volume stddev floor on constant quantities) {
  auto qc = make();
  for (int i = 0; i < 10; ++i)
    qc.check(ok(i, t0, 100.0, 1.0));
  // stddev 0, floor 0.1 * mean = 0.1: z = 8 at 1.8.
  {
    auto copy = qc;
    CAF_CHECK_EQUAL(copy.check(ok(10, t0, 100.0, 1.8)), 0);
  }
  {
    auto copy = qc;
    CAF_CHECK_EQUAL(
      copy.check(ok(10, t0, 100.0, 1.81)), bit_of(check_type::volume_anomaly));
  }
}

CAF_TEST(rolling statistics match a two pass reference) {
  rolling_stats rs{7};
  std::vector<double> all;
  uint64_t lcg = 3;
  for (int i = 0; i < 5000; ++i) {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    auto x = 1000.0 + static_cast<double>(lcg >> 40) / 1e4;
    rs.push(x);
    all.push_back(x);
    auto n = std::min<size_t>(all.size(), 7);
    std::vector<double> tail(all.end() - static_cast<long>(n), all.end());
    auto [m, sd] = mean_sd(tail);
    if (std::fabs(rs.mean() - m) > 1e-9 || std::fabs(rs.stddev() - sd) > 1e-5)
      CAF_FAIL("mismatch at " << i << ": " << rs.mean() << " vs " << m << ", "
                              << rs.stddev() << " vs " << sd);
  }
  CAF_CHECK(rs.full());
  CAF_CHECK_EQUAL(rs.size(), 7u);
}

CAF_TEST(score formula on constructed windows) {
  // 10 trades, 2 duplicates among them: 100 * (1 - 2 / 10) = 80.
  auto qc = make();
  for (int i = 0; i < 8; ++i)
    qc.check(ok(i, t0 + 100));
  qc.check(ok(3, t0 + 100));
  qc.check(ok(4, t0 + 100));
  CAF_CHECK_EQUAL(qc.score(t0 + 100), 80.0);
  auto rep = qc.report(t0 + 100);
  CAF_CHECK_EQUAL(rep.observations, 10);
  CAF_CHECK_EQUAL(
    rep.failed_checks, (std::vector<quality_check_count>{{"duplicate", 2}}));
  // Weights: duplicates count half, gaps three times.
  auto cfg = small_config();
  cfg.weights[static_cast<size_t>(check_type::duplicate)] = 0.5;
  cfg.weights[static_cast<size_t>(check_type::id_gap)] = 3.0;
  auto w = make(cfg);
  for (int i = 0; i < 8; ++i)
    w.check(ok(i, t0 + 100));
  w.check(ok(3, t0 + 100));
  w.check(ok(4, t0 + 100));
  CAF_CHECK_EQUAL(w.score(t0 + 100), 90.0); // 100 * (1 - 1 / 10)
  w.check(ok(20, t0 + 100));                // gap: 11 trades, F = 1 + 3
  CAF_CHECK_EQUAL(w.score(t0 + 100), 100.0 * (1.0 - 4.0 / 11.0));
  auto rep2 = w.report(t0 + 100);
  CAF_CHECK_EQUAL(rep2.failed_checks,
    (std::vector<quality_check_count>{{"duplicate", 2}, {"id_gap", 1}}));
  // More weighted failures than trades: clamped at 0 (unclamped: -50).
  auto bad = make();
  bad.check(mk(1, 0.0, 1.0, t0, t0)); // invalid
  CAF_CHECK_EQUAL(bad.score(t0), 0.0);
  bad.check(mk(5, 0.0, 1.0, t0, t0)); // gap + invalid: 3 failures, 2 trades
  CAF_CHECK_EQUAL(failed_in_report(bad, t0, "id_gap"), 1);
  CAF_CHECK_EQUAL(failed_in_report(bad, t0, "invalid_value"), 2);
  CAF_CHECK_EQUAL(bad.score(t0), 0.0);
}

CAF_TEST(empty windows) {
  auto qc = make();
  // No trade yet, not stale yet: nothing wrong observed.
  CAF_CHECK_EQUAL(qc.score(t0 + 1000), 100.0);
  // Stale with no observations: 0.
  CAF_CHECK_EQUAL(qc.score(t0 + 3001), 0.0);
  // A stale episode recorded, then data again (max age 3000 < window).
  qc.check_staleness(t0 + 3001);
  qc.check(ok(1, t0 + 3500));
  // 1 trade, 1 stale failure in the window: 0; then 3 trades: 100*(1-1/3).
  CAF_CHECK_EQUAL(qc.score(t0 + 3500), 0.0);
  qc.check(ok(2, t0 + 3600));
  qc.check(ok(3, t0 + 3700));
  CAF_CHECK_EQUAL(qc.score(t0 + 3700), 100.0 * (1.0 - 1.0 / 3.0));
  // Stale again at report time: forced to 0 despite observations.
  CAF_CHECK_EQUAL(qc.score(t0 + 6701), 0.0);
}

CAF_TEST(the window slides old failures out) {
  auto cfg = small_config(); // window 10 s of 1 s buckets
  cfg.max_age_ms = 60000;    // no staleness in this test
  auto qc = make(cfg);
  qc.check(ok(1, t0 + 500));
  qc.check(ok(1, t0 + 500)); // duplicate in bucket [t0, t0 + 1000)
  for (int i = 0; i < 8; ++i)
    qc.check(ok(2 + i, t0 + 5000));
  // 10 trades, 1 failure.
  CAF_CHECK_EQUAL(qc.score(t0 + 9999), 90.0);
  CAF_CHECK_EQUAL(failed_in_report(qc, t0 + 9999, "duplicate"), 1);
  CAF_CHECK_EQUAL(qc.report(t0 + 9999).recent_issues.size(), 1u);
  // At t0 + 10000 the first bucket has left: 8 clean trades.
  CAF_CHECK_EQUAL(qc.score(t0 + 10000), 100.0);
  CAF_CHECK_EQUAL(qc.report(t0 + 10000).observations, 8);
  CAF_CHECK_EQUAL(failed_in_report(qc, t0 + 10000, "duplicate"), 0);
  // Issue recorded at t0 + 500: still listed until t0 + 10500 exclusive.
  CAF_CHECK_EQUAL(qc.report(t0 + 10499).recent_issues.size(), 1u);
  CAF_CHECK_EQUAL(qc.report(t0 + 10500).recent_issues.size(), 0u);
  // New trades reuse the ring slots; the old bucket is reset, not summed.
  qc.check(ok(10, t0 + 10100));
  CAF_CHECK_EQUAL(qc.report(t0 + 10100).observations, 9);
  CAF_CHECK_EQUAL(qc.score(t0 + 10100), 100.0);
  // Everything gone after another window.
  CAF_CHECK_EQUAL(qc.report(t0 + 30000).observations, 0);
  // Cumulative totals never slide.
  CAF_CHECK_EQUAL(qc.failed_total(check_type::duplicate), 1);
  CAF_CHECK_EQUAL(qc.observations_total(), 11);
}

CAF_TEST(trades older than the window are not counted) {
  auto cfg = small_config();
  cfg.max_age_ms = 60000;
  auto qc = make(cfg);
  qc.check(ok(1, t0 + 20000));
  // Received 15 s earlier than the newest trade: its slot holds newer data.
  qc.check(ok(1, t0 + 5000));
  auto rep = qc.report(t0 + 20000);
  CAF_CHECK_EQUAL(rep.observations, 1);
  CAF_CHECK_EQUAL(rep.score, 100.0);
  CAF_CHECK_EQUAL(qc.failed_total(check_type::duplicate), 1);
}

CAF_TEST(report lists failed checks in type order and recent issues) {
  auto qc = make();
  qc.check(mk(1, 100, 1, t0, t0 + 6000));      // skew
  qc.check(mk(1, 100, 1, t0, t0 + 6000));      // duplicate
  qc.check(mk(3, 0, 1, t0 + 6000, t0 + 6000)); // gap + invalid
  auto rep = qc.report(t0 + 6000);
  CAF_CHECK_EQUAL(rep.failed_checks,
    (std::vector<quality_check_count>{{"invalid_value", 1}, {"duplicate", 1},
      {"id_gap", 1}, {"timestamp_skew", 1}}));
  CAF_REQUIRE_EQUAL(rep.recent_issues.size(), 4u);
  CAF_CHECK_EQUAL(rep.recent_issues[0].check_type, "timestamp_skew");
  CAF_CHECK_EQUAL(rep.recent_issues[0].detail,
    "receive time - trade time = 6000 ms, limit 5000");
  CAF_CHECK_EQUAL(rep.recent_issues[1].check_type, "duplicate");
  CAF_CHECK_EQUAL(rep.recent_issues[2].check_type, "id_gap");
  CAF_CHECK_EQUAL(rep.recent_issues[2].detail, "ids 2..2 missing");
  CAF_CHECK_EQUAL(rep.recent_issues[3].check_type, "invalid_value");
  // The ring keeps the newest 5, oldest first.
  for (int i = 0; i < 4; ++i)
    qc.check(mk(1, 100, 1, t0, t0 + 6000 + i));
  rep = qc.report(t0 + 7000);
  CAF_REQUIRE_EQUAL(rep.recent_issues.size(), 5u);
  CAF_CHECK_EQUAL(rep.recent_issues[0].check_type, "invalid_value");
  for (int i = 1; i < 5; ++i) {
    CAF_CHECK_EQUAL(rep.recent_issues[i].check_type, "duplicate");
    CAF_CHECK_EQUAL(rep.recent_issues[i].time_ms, t0 + 6000 + i - 1);
  }
}

CAF_TEST(batches check every trade) {
  auto qc = make();
  csp::messages::trade_batch b;
  b.exchange = "binance";
  b.symbol = "BTCUSDT";
  b.trades = {ok(1, t0), ok(2, t0), ok(2, t0), ok(4, t0)};
  qc.check(b);
  CAF_CHECK_EQUAL(qc.observations_total(), 4);
  CAF_CHECK_EQUAL(qc.failed_total(check_type::duplicate), 1);
  CAF_CHECK_EQUAL(qc.failed_total(check_type::id_gap), 1);
  CAF_CHECK_EQUAL(qc.score(t0), 50.0);
}
