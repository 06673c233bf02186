#define CAF_SUITE yahoo_chart
#include "caf/test/unit_test.hpp"

#include <string>

#include "actors/yahoo_chart.hpp"

using namespace csp::actors;

namespace {

// 1704897000 = 2024-01-10 14:30:00 UTC (a minute boundary).
constexpr std::int64_t t0 = 1704897000;

const char* chart = R"({"chart":{"result":[{
  "meta":{"currency":"USD","symbol":"AAPL","dataGranularity":"1m"},
  "timestamp":[1704897000,1704897060,1704897120,1704897180,1704897227],
  "indicators":{"quote":[{
    "open":  [185.5, null, 186.25, 186.0, 186.1],
    "high":  [186.0, null, 186.5, 186.2, 186.3],
    "low":   [185.25, null, 186.0, 185.9, 186.0],
    "close": [185.75, null, 186.125, 186.1, 186.2],
    "volume":[1200, null, null, 800, 50]
  }]}}],"error":null}})";

} // namespace

CAF_TEST(candles with null entries) {
  // "now" is 2 s into the 14:33 minute.
  auto r = parse_yahoo_chart(chart, "yahoo", "AAPL", (t0 + 182) * 1000);
  CAF_REQUIRE(r.ok);
  CAF_CHECK(r.error.empty());
  // 14:31 is all null: skipped. 14:33 appears twice: the later entry wins.
  CAF_REQUIRE_EQUAL(r.candles.size(), 3u);
  const auto& a = r.candles[0];
  CAF_CHECK_EQUAL(a.exchange, "yahoo");
  CAF_CHECK_EQUAL(a.symbol, "AAPL");
  CAF_CHECK(a.tf == csp::messages::timeframe::m1);
  CAF_CHECK_EQUAL(a.open_time_ms, t0 * 1000);
  CAF_CHECK_EQUAL(a.close_time_ms, t0 * 1000 + 59'999);
  CAF_CHECK_EQUAL(a.open.units, 18'550'000'000);
  CAF_CHECK_EQUAL(a.high.units, 18'600'000'000);
  CAF_CHECK_EQUAL(a.low.units, 18'525'000'000);
  CAF_CHECK_EQUAL(a.close.units, 18'575'000'000);
  CAF_CHECK(a.volume.units == csp::messages::int128{1200} * 100'000'000);
  CAF_CHECK(a.closed);
  const auto& b = r.candles[1];
  CAF_CHECK_EQUAL(b.open_time_ms, (t0 + 120) * 1000);
  CAF_CHECK_EQUAL(b.close.units, 18'612'500'000);
  CAF_CHECK(b.volume.units == 0); // null volume counts as 0
  CAF_CHECK(b.closed);
  const auto& c = r.candles[2];
  CAF_CHECK_EQUAL(c.open_time_ms, (t0 + 180) * 1000);
  CAF_CHECK_EQUAL(c.close.units, 18'620'000'000);
  CAF_CHECK(!c.closed); // 14:33 is still forming
  auto later = parse_yahoo_chart(chart, "yahoo", "AAPL", (t0 + 240) * 1000);
  CAF_CHECK(later.candles.back().closed);
}

CAF_TEST(no candles yet) {
  auto r = parse_yahoo_chart(
    R"({"chart":{"result":[{"meta":{},"indicators":{"quote":[{}]}}],"error":null}})",
    "yahoo", "AAPL", 0);
  CAF_CHECK(r.ok);
  CAF_CHECK(r.candles.empty());
}

CAF_TEST(errors never throw) {
  auto bad = parse_yahoo_chart("{\"chart\":", "yahoo", "X", 0);
  CAF_CHECK(!bad.ok);
  CAF_CHECK_EQUAL(bad.error, "malformed_json");
  auto nf = parse_yahoo_chart(
    R"({"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}})",
    "yahoo", "X", 0);
  CAF_CHECK(!nf.ok);
  CAF_CHECK_EQUAL(nf.error, "chart_error: Not Found");
  CAF_CHECK(!parse_yahoo_chart("[]", "yahoo", "X", 0).ok);
  CAF_CHECK(!parse_yahoo_chart(R"({"chart":{"result":[]}})", "y", "X", 0).ok);
  CAF_CHECK(!parse_yahoo_chart(
    R"({"chart":{"result":[{"timestamp":[1],"indicators":{}}]}})", "y", "X", 0)
               .ok);
  // Wrong element types are skipped, not fatal.
  auto odd = parse_yahoo_chart(
    R"({"chart":{"result":[{"timestamp":["x",60],"indicators":{"quote":[{
      "open":[1,"2"],"high":[1,2],"low":[1,2],"close":[1,2],"volume":[1,2]}]}}]}})",
    "y", "X", 0);
  CAF_CHECK(odd.ok);
  CAF_CHECK(odd.candles.empty());
}
