#define CAF_SUITE bar_reader
#define FAIL(msg) CAF_FAIL(msg)
#include "caf/test/dsl.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "storage/bar_reader.hpp"
#include "storage/cache_layout.hpp"
#include "tests/storage/redis_test_support.hpp"

using namespace csp;
using namespace csp::messages;
using namespace csp::storage;

namespace {

constexpr std::int64_t t0 = 1705312800000; // 2024-01-15T10:00:00Z
constexpr std::int64_t minute = 60000;

bar make_bar(std::int64_t i) {
  bar b;
  b.exchange = "binance";
  b.symbol = "BTCUSDT";
  b.open_time_ms = t0 + i * minute;
  b.close_time_ms = close_time(b.open_time_ms, timeframe::m1);
  b.open.units = b.high.units = b.low.units = b.close.units = 1000 + i;
  b.volume.units = 100000000;
  b.trade_count = 1;
  b.first_trade_id = b.last_trade_id = i;
  b.closed = true;
  return b;
}

/// A database stand-in: bars 0..199, answering with the query contract.
struct fake_database {
  std::vector<bar> bars;
  int calls = 0;

  fake_database() {
    for (std::int64_t i = 0; i < 200; ++i)
      bars.push_back(make_bar(i));
  }

  std::vector<bar> query(const bar_query& q) {
    ++calls;
    std::vector<bar> out;
    for (const auto& b : bars)
      if (b.exchange == q.exchange && b.symbol == q.symbol && b.tf == q.tf
        && b.open_time_ms >= q.start_ms && b.open_time_ms <= q.end_ms)
        out.push_back(b);
    if (out.size() > q.limit)
      out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(q.limit));
    return out;
  }
};

struct fixture {
  std::string prefix = test::unique_prefix("reader");
  cache_keys keys{prefix};
  redis_client client{test::redis_test_options()};
  std::shared_ptr<fake_database> db = std::make_shared<fake_database>();
  /// The wall clock: just after bar 199 closed.
  std::int64_t now = t0 + 200 * minute + 1000;

  fixture() {
    if (!client.connect())
      CAF_FAIL("test Redis unreachable: " << client.last_error());
  }

  ~fixture() { test::delete_prefix(client, prefix); }

  bar_reader make_reader(redis_options redis) {
    bar_reader_options opts;
    opts.prefix = prefix;
    auto* t = &now;
    opts.now_ms = [t] { return *t; };
    auto d = db;
    return bar_reader{std::move(redis), std::move(opts),
      [d](const bar_query& q) { return d->query(q); }};
  }

  /// Writes bars [from, to) as the cache_writer would.
  void cache(std::int64_t from, std::int64_t to) {
    redis_pipeline p;
    std::vector<bar> xs;
    for (auto i = from; i < to; ++i)
      xs.push_back(make_bar(i));
    add_closed_bars(p, keys, xs);
    auto r = client.execute(p);
    CAF_REQUIRE(r);
  }

  std::int64_t cached_count() {
    auto r = client.command(
      {"ZCARD", keys.bars("binance", "BTCUSDT", timeframe::m1)});
    CAF_REQUIRE(r);
    return r->integer;
  }

  static std::vector<bar> expected(std::int64_t from, std::int64_t to) {
    std::vector<bar> out;
    for (auto i = from; i < to; ++i)
      out.push_back(make_bar(i));
    return out;
  }
};

std::int64_t at(std::int64_t i) {
  return t0 + i * minute;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(bar_reader_tests, fixture)

CAF_TEST(a range inside the cached span is a hit) {
  cache(100, 200);
  auto reader = make_reader(test::redis_test_options());
  // Whole range cached: bars 120..149.
  auto got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(120), at(149), 500);
  CAF_CHECK_EQUAL(got, expected(120, 150));
  // More bars in range than the limit: the newest `limit` of them, even
  // though the range starts before the cache (bars 180..199).
  got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(0), at(10000), 20);
  CAF_CHECK_EQUAL(got, expected(180, 200));
  // A range after the newest bar is an (empty) hit.
  got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(300), at(400), 20);
  CAF_CHECK(got.empty());
  CAF_CHECK_EQUAL(reader.stats().hits, 3u);
  CAF_CHECK_EQUAL(reader.stats().misses, 0u);
  CAF_CHECK_EQUAL(db->calls, 0);
}

CAF_TEST(a range reaching before the cache falls back and refills) {
  cache(100, 200);
  auto reader = make_reader(test::redis_test_options());
  auto got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(50), at(199), 500);
  CAF_CHECK_EQUAL(got, expected(50, 200));
  CAF_CHECK_EQUAL(db->calls, 1);
  CAF_CHECK_EQUAL(reader.stats().misses, 1u);
  CAF_CHECK_EQUAL(reader.stats().errors, 0u);
  // Bars 50..99 were written back; the cached 100..199 were left alone.
  CAF_CHECK_EQUAL(reader.stats().refilled_bars, 50u);
  CAF_CHECK_EQUAL(cached_count(), 150);
  // The same query is now a hit.
  got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(50), at(199), 500);
  CAF_CHECK_EQUAL(got, expected(50, 200));
  CAF_CHECK_EQUAL(db->calls, 1);
  CAF_CHECK_EQUAL(reader.stats().hits, 1u);
  // take_stats() hands out the counts since its previous call.
  auto delta = reader.take_stats();
  CAF_CHECK_EQUAL(delta.hits, 1u);
  CAF_CHECK_EQUAL(delta.misses, 1u);
  CAF_CHECK_EQUAL(delta.refilled_bars, 50u);
  reader.read_bars("binance", "BTCUSDT", timeframe::m1, at(50), at(199), 500);
  delta = reader.take_stats();
  CAF_CHECK_EQUAL(delta.hits, 1u);
  CAF_CHECK_EQUAL(delta.misses, 0u);
  CAF_CHECK_EQUAL(reader.stats().hits, 2u);
}

CAF_TEST(a refill never replaces a newer cached revision) {
  cache(100, 200);
  auto revised = make_bar(150);
  revised.revision = 3;
  revised.close.units = 99;
  redis_pipeline p;
  add_closed_bars(p, keys, std::vector<bar>{revised});
  CAF_REQUIRE(client.execute(p));
  auto reader = make_reader(test::redis_test_options());
  auto got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(90), at(199), 500);
  // The fallback answered, merged with the cached bars: the cached
  // revision 3 of bar 150 wins over the database's revision 0...
  CAF_REQUIRE_EQUAL(got.size(), 110u);
  CAF_CHECK_EQUAL(got[60], revised);
  CAF_CHECK_EQUAL(reader.stats().refilled_bars, 10u);
  // ...and the cache keeps revision 3 and one member per open time.
  got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(90), at(199), 500);
  CAF_REQUIRE_EQUAL(got.size(), 110u);
  CAF_CHECK_EQUAL(got[60], revised);
  CAF_CHECK_EQUAL(cached_count(), 110);
}

CAF_TEST(a miss answers with the cached bars the database lacks yet) {
  cache(100, 200);
  // The database lags: its writer has not stored bars 190..199 yet.
  db->bars.resize(190);
  auto reader = make_reader(test::redis_test_options());
  auto got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(50), at(199), 500);
  CAF_CHECK_EQUAL(got, expected(50, 200));
  CAF_CHECK_EQUAL(reader.stats().misses, 1u);
  // A miss with a limit: the database's newest 180 of 0..199 (10..189)
  // merged with the cached 50..199, then the newest 180 of the merge.
  got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(0), at(199), 180);
  CAF_CHECK_EQUAL(got, expected(20, 200));
  CAF_CHECK_EQUAL(reader.stats().misses, 2u);
  CAF_CHECK_EQUAL(reader.stats().hits, 0u);
}

CAF_TEST(an old range far from the cache is not written back) {
  cache(150, 200);
  auto reader = make_reader(test::redis_test_options());
  // Bars 0..49 end long before the oldest cached bar (150): writing them
  // would leave a hole (50..149) inside the cached span.
  auto got
    = reader.read_bars("binance", "BTCUSDT", timeframe::m1, at(0), at(49), 500);
  CAF_CHECK_EQUAL(got, expected(0, 50));
  CAF_CHECK_EQUAL(reader.stats().refilled_bars, 0u);
  CAF_CHECK_EQUAL(cached_count(), 50);
  // Asking again misses again.
  reader.read_bars("binance", "BTCUSDT", timeframe::m1, at(0), at(49), 500);
  CAF_CHECK_EQUAL(reader.stats().misses, 2u);
  CAF_CHECK_EQUAL(db->calls, 2);
}

CAF_TEST(an empty key is filled only by a range reaching the present) {
  auto reader = make_reader(test::redis_test_options());
  reader.read_bars("binance", "BTCUSDT", timeframe::m1, at(0), at(99), 500);
  CAF_CHECK_EQUAL(cached_count(), 0);
  auto got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(100), at(1000), 500);
  CAF_CHECK_EQUAL(got, expected(100, 200));
  CAF_CHECK_EQUAL(cached_count(), 100);
  CAF_CHECK_EQUAL(reader.stats().misses, 2u);
  got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(100), at(1000), 500);
  CAF_CHECK_EQUAL(got, expected(100, 200));
  CAF_CHECK_EQUAL(reader.stats().hits, 1u);
}

CAF_TEST(the fallback answers while Redis is down) {
  auto reader = make_reader(test::loopback_options(test::free_port()));
  auto got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(10), at(19), 500);
  CAF_CHECK_EQUAL(got, expected(10, 20));
  got
    = reader.read_bars("binance", "BTCUSDT", timeframe::m1, at(10), at(19), 5);
  CAF_CHECK_EQUAL(got, expected(15, 20));
  CAF_CHECK_EQUAL(reader.stats().misses, 2u);
  CAF_CHECK_EQUAL(reader.stats().errors, 2u);
  CAF_CHECK_EQUAL(reader.stats().hits, 0u);
  CAF_CHECK_EQUAL(db->calls, 2);
  CAF_CHECK(!reader.last_error().empty());
}

CAF_TEST(the reader recovers when Redis comes back) {
  test::redis_child server{test::free_port()};
  CAF_REQUIRE(server.start());
  auto opts = test::loopback_options(server.port());
  bar_reader_options ropts;
  ropts.prefix = prefix;
  ropts.retry_after = std::chrono::milliseconds{0};
  auto* t = &now;
  ropts.now_ms = [t] { return *t; };
  auto d = db;
  bar_reader reader{
    opts, ropts, [d](const bar_query& q) { return d->query(q); }};
  // Filled from the fallback (the range reaches the present)...
  reader.read_bars("binance", "BTCUSDT", timeframe::m1, at(150), at(200), 500);
  CAF_CHECK_EQUAL(reader.stats().refilled_bars, 50u);
  reader.read_bars("binance", "BTCUSDT", timeframe::m1, at(150), at(200), 500);
  CAF_CHECK_EQUAL(reader.stats().hits, 1u);
  // ...down...
  server.stop();
  auto got = reader.read_bars(
    "binance", "BTCUSDT", timeframe::m1, at(150), at(200), 500);
  CAF_CHECK_EQUAL(got, expected(150, 200));
  CAF_CHECK_EQUAL(reader.stats().errors, 1u);
  // ...back (empty): a miss that refills, then hits again.
  CAF_REQUIRE(server.start());
  reader.read_bars("binance", "BTCUSDT", timeframe::m1, at(150), at(200), 500);
  CAF_CHECK_EQUAL(reader.stats().refilled_bars, 100u);
  reader.read_bars("binance", "BTCUSDT", timeframe::m1, at(150), at(200), 500);
  CAF_CHECK_EQUAL(reader.stats().hits, 2u);
  CAF_CHECK_EQUAL(reader.stats().misses, 3u);
}

CAF_TEST_FIXTURE_SCOPE_END()
