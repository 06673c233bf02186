#define CAF_SUITE api.chart_cache
#include "caf/test/unit_test.hpp"

#include <memory>
#include <string>
#include <vector>

#include "api/chart_cache.hpp"
#include "tests/api/api_test_support.hpp"

using namespace csp;
using namespace csp::api;

namespace {

constexpr std::int64_t minute = 60'000;
constexpr std::int64_t t0 = 1'764'028'800'000; // 2025-11-25T00:00:00Z

messages::bar make_bar(std::int64_t i, std::int32_t revision = 0) {
  messages::bar b;
  b.exchange = "binance";
  b.symbol = "BTCUSDT";
  b.tf = messages::timeframe::m1;
  b.open_time_ms = t0 + i * minute;
  b.close_time_ms = b.open_time_ms + minute - 1;
  b.revision = revision;
  b.closed = true;
  return b;
}

messages::indicator_snapshot make_ind(const messages::bar& b) {
  messages::indicator_snapshot x;
  x.exchange = b.exchange;
  x.symbol = b.symbol;
  x.tf = b.tf;
  x.open_time_ms = b.open_time_ms;
  x.closed = true;
  return x;
}

/// Bars 0..n-1 (the storage of these tests) and their indicators.
struct stored {
  std::vector<messages::bar> bars;
  std::vector<messages::indicator_snapshot> ind;

  explicit stored(std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i)
      add(make_bar(i));
  }

  void add(const messages::bar& b) {
    bars.push_back(b);
    ind.push_back(make_ind(b));
  }
};

chart_key key(std::size_t limit = 500) {
  chart_key k;
  k.symbol = "BTCUSDT";
  k.tf = messages::timeframe::m1;
  k.start_ms = 0;
  k.end_ms = 253'402'300'799'999;
  k.limit = limit;
  return k;
}

chart_body_ptr body(std::string text, unsigned status = 200) {
  auto b = std::make_shared<chart_body>();
  b->status = status;
  b->json = std::move(text);
  return b;
}

/// One fill as the API does it: join, then complete.
bool fill(chart_cache& c, const chart_key& k, const chart_body_ptr& b,
  const stored& s, std::int64_t now = 0) {
  c.join(
    k, [](const chart_body_ptr&) {}, now);
  return c.complete(k, b, s.bars, s.ind, now);
}

} // namespace

CAF_TEST(a completed fill is served until its stream changes) {
  chart_cache c;
  stored s{10};
  CAF_CHECK(c.find(key(), 0) == nullptr);
  CAF_CHECK(fill(c, key(), body("v1"), s));
  auto hit = c.find(key(), 1);
  CAF_REQUIRE(hit != nullptr);
  CAF_CHECK_EQUAL(hit->json, "v1");
  // Another timeframe of the symbol and another symbol leave it alone.
  auto other = make_bar(10);
  other.tf = messages::timeframe::m5;
  c.on_bar(other);
  other = make_bar(10);
  other.symbol = "ETHUSDT";
  c.on_bar(other);
  CAF_CHECK(c.find(key(), 2) != nullptr);
  // A forming bar does not change storage.
  auto forming = make_bar(10);
  forming.closed = false;
  c.on_bar(forming);
  CAF_CHECK(c.find(key(), 3) != nullptr);
  // A closed bar of the stream drops it.
  c.on_bar(make_bar(10));
  CAF_CHECK(c.find(key(), 4) == nullptr);
  CAF_CHECK_EQUAL(c.size(), 0u);
}

CAF_TEST(a revision and late indicators drop the entry too) {
  chart_cache c;
  stored s{10};
  CAF_CHECK(fill(c, key(), body("v1"), s));
  c.on_bar(make_bar(3, 1));
  CAF_CHECK(c.find(key(), 0) == nullptr);
  s.bars[3].revision = 1;
  CAF_CHECK(fill(c, key(), body("v2"), s));
  CAF_CHECK(c.find(key(), 0) != nullptr);
  c.on_indicators(make_ind(s.bars[3]));
  CAF_CHECK(c.find(key(), 0) == nullptr);
  // Forming indicators do not.
  CAF_CHECK(fill(c, key(), body("v3"), s));
  auto x = make_ind(make_bar(10));
  x.closed = false;
  c.on_indicators(x);
  CAF_CHECK(c.find(key(), 0) != nullptr);
}

CAF_TEST(a fill that started before an event is served but not kept) {
  chart_cache c;
  stored s{10};
  std::vector<std::string> got;
  CAF_CHECK(c.join(
    key(), [&](const chart_body_ptr& b) { got.push_back(b->json); }, 0));
  // The read happened; then bar 10 closed before the fill completed.
  c.on_bar(make_bar(10));
  s.add(make_bar(10)); // even if it claims to have it
  CAF_CHECK(!c.complete(key(), body("old"), s.bars, s.ind, 0));
  CAF_CHECK_EQUAL(got, std::vector<std::string>{"old"});
  CAF_CHECK(c.find(key(), 0) == nullptr);
}

CAF_TEST(a fill that raced ahead of the writers is not kept) {
  chart_cache c;
  stored s{10};
  c.on_bar(make_bar(10));
  // Storage does not hold bar 10 yet.
  CAF_CHECK(!fill(c, key(), body("without 10"), s));
  CAF_CHECK(c.find(key(), 0) == nullptr);
  // It holds the bar but not yet its announced indicators.
  c.on_indicators(make_ind(make_bar(10)));
  s.bars.push_back(make_bar(10));
  CAF_CHECK(!fill(c, key(), body("10 without indicators"), s));
  // An older revision than announced.
  s.ind.push_back(make_ind(make_bar(10)));
  c.on_bar(make_bar(4, 2));
  s.bars[4].revision = 1;
  CAF_CHECK(!fill(c, key(), body("revision 1"), s));
  s.bars[4].revision = 2;
  CAF_CHECK(fill(c, key(), body("complete"), s));
  CAF_CHECK_EQUAL(c.find(key(), 0)->json, "complete");
}

CAF_TEST(events outside the response window do not block it) {
  chart_cache c;
  stored s{20};
  // A revision of bar 2: a page of the newest 5 bars does not contain it.
  c.on_bar(make_bar(2, 1));
  std::vector<messages::bar> page(s.bars.end() - 5, s.bars.end());
  std::vector<messages::indicator_snapshot> inds(s.ind.end() - 5, s.ind.end());
  c.join(
    key(5), [](const chart_body_ptr&) {}, 0);
  CAF_CHECK(c.complete(key(5), body("newest 5"), page, inds, 0));
  // A range ending before it neither.
  auto k = key();
  k.end_ms = t0 + minute;
  std::vector<messages::bar> early(s.bars.begin(), s.bars.begin() + 2);
  c.join(
    k, [](const chart_body_ptr&) {}, 0);
  CAF_CHECK(c.complete(k, body("early"), early, {}, 0));
  // The whole history must contain it.
  CAF_CHECK(!fill(c, key(), body("all"), s));
}

CAF_TEST(concurrent misses share one fill) {
  chart_cache c;
  stored s{3};
  std::vector<std::string> got;
  auto w = [&](const chart_body_ptr& b) { got.push_back(b->json); };
  CAF_CHECK(c.join(key(), w, 0));
  CAF_CHECK(!c.join(key(), w, 0));
  CAF_CHECK(!c.join(key(), w, 0));
  CAF_CHECK(c.join(key(7), w, 0)); // another key fills on its own
  CAF_CHECK(c.complete(key(), body("a"), s.bars, s.ind, 0));
  CAF_CHECK_EQUAL(got, (std::vector<std::string>{"a", "a", "a"}));
  // The next miss of the key starts a new fill.
  c.on_bar(make_bar(3));
  CAF_CHECK(c.join(key(), w, 0));
  // A fill that never completes (its worker died) is replaced after the
  // fill timeout.
  CAF_CHECK(!c.join(key(), w, 15'000));
  CAF_CHECK(c.join(key(), w, 15'001));
}

CAF_TEST(errors reach the waiters and are not kept) {
  chart_cache c;
  stored s{3};
  std::vector<unsigned> got;
  c.join(
    key(), [&](const chart_body_ptr& b) { got.push_back(b->status); }, 0);
  c.join(
    key(), [&](const chart_body_ptr& b) { got.push_back(b->status); }, 0);
  CAF_CHECK(!c.complete(key(), body("{}", 503), {}, {}, 0));
  CAF_CHECK_EQUAL(got, (std::vector<unsigned>{503, 503}));
  CAF_CHECK(c.find(key(), 0) == nullptr);
}

CAF_TEST(entries expire and the number of entries is bounded) {
  chart_cache_options o;
  o.max_age_ms = 1000;
  o.max_entries = 2;
  chart_cache c{o};
  stored s{3};
  CAF_CHECK(fill(c, key(1), body("1"), s, 0));
  CAF_CHECK(c.find(key(1), 1000) != nullptr);
  CAF_CHECK(c.find(key(1), 1001) == nullptr);
  CAF_CHECK(fill(c, key(1), body("1"), s, 10));
  CAF_CHECK(fill(c, key(2), body("2"), s, 20));
  CAF_CHECK(fill(c, key(3), body("3"), s, 30));
  CAF_CHECK_EQUAL(c.size(), 2u);
  CAF_CHECK(c.find(key(1), 30) == nullptr);
  CAF_CHECK(c.find(key(3), 30) != nullptr);
  c.clear();
  CAF_CHECK_EQUAL(c.size(), 0u);
}

CAF_TEST(gzip bodies inflate to the original) {
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += R"({"open_time":)" + std::to_string(i) + R"(,"close":"42000.5"},)";
  auto z = gzip_compress(text);
  CAF_REQUIRE(z.has_value());
  CAF_CHECK_LESS(z->size(), text.size() / 4);
  CAF_CHECK_EQUAL(static_cast<unsigned char>((*z)[0]), 0x1fu);
  CAF_CHECK_EQUAL(static_cast<unsigned char>((*z)[1]), 0x8bu);
  CAF_CHECK_EQUAL(api_test::gunzip(*z), text);
}

CAF_TEST(accept encoding) {
  CAF_CHECK(accepts_gzip("gzip"));
  CAF_CHECK(accepts_gzip("gzip, deflate, br"));
  CAF_CHECK(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  CAF_CHECK(accepts_gzip("*"));
  CAF_CHECK(!accepts_gzip(""));
  CAF_CHECK(!accepts_gzip("identity"));
  CAF_CHECK(!accepts_gzip("deflate, br"));
  CAF_CHECK(!accepts_gzip("gzip;q=0"));
  CAF_CHECK(!accepts_gzip("gzip; q=0.000"));
  CAF_CHECK(!accepts_gzip("x-gzip"));
}
