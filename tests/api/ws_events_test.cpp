#define CAF_SUITE api.ws_events
#include "caf/test/unit_test.hpp"

#include <nlohmann/json.hpp>

#include "api/ws_events.hpp"
#include "storage/cache_layout.hpp"
#include "tests/api/api_test_support.hpp"

using namespace csp;
using namespace csp::api;
using namespace csp::api_test;
using messages::timeframe;
using nlohmann::json;

namespace {

constexpr std::int64_t t0 = 1'705'312'800'000; // 2024-01-15 10:00 UTC

} // namespace

CAF_TEST(bar update carries the bar and its indicators) {
  auto b = make_bar(t0, 4'200'012'345'678);
  b.closed = false;
  auto x = make_snapshot(b, 17.0);
  auto j = parse(native_bar_update(b, &x));
  CAF_CHECK_EQUAL(j.size(), 5u);
  CAF_CHECK_EQUAL(j["type"], "bar");
  CAF_CHECK_EQUAL(j["exchange"], "binance");
  CAF_CHECK_EQUAL(j["symbol"], "BTCUSDT");
  CAF_CHECK_EQUAL(j["timeframe"], "1m");
  std::string why;
  if (!bar_json_matches(j["bar"], b, &x, why))
    CAF_FAIL(why);
  auto none = parse(native_bar_update(b, nullptr));
  if (!bar_json_matches(none["bar"], b, nullptr, why))
    CAF_FAIL(why);
}

CAF_TEST(a bar has one JSON shape in Redis and on the WebSocket) {
  auto b = make_bar(t0, 1);
  auto j = parse(native_bar_update(b, nullptr))["bar"];
  j.erase("indicators");
  CAF_CHECK_EQUAL(j, parse(storage::encode_bar(b)));
}

CAF_TEST(indicator doubles round trip and never print NaN or Inf) {
  auto b = make_bar(t0, 100);
  messages::indicator_snapshot x;
  x.open_time_ms = t0;
  std::vector<double> values{0.1, 1.0 / 3.0, -2.5e-300, 5e-324,
    1.7976931348623157e308, 123456789.12345678, -0.0,
    std::numeric_limits<double>::infinity(),
    -std::numeric_limits<double>::infinity(),
    std::numeric_limits<double>::quiet_NaN()};
  for (std::size_t i = 0; i < messages::indicator_count; ++i)
    x.values[i] = values[i % values.size()];
  auto text = native_bar_update(b, &x);
  for (auto bad : {":nan", ":-nan", ":inf", ":-inf", "NaN", "Infinity"})
    CAF_CHECK_EQUAL(text.find(bad), std::string::npos);
  auto ind = parse(text)["bar"]["indicators"];
  for (std::size_t i = 0; i < messages::indicator_count; ++i) {
    auto v = x.values[i];
    const auto& got = ind[std::string{messages::indicator_names[i]}];
    if (std::isfinite(v))
      CAF_CHECK(got.is_number() && same_bits(got.get<double>(), v));
    else
      CAF_CHECK(got.is_null());
  }
}

CAF_TEST(snapshot orders closed bars and appends the forming one) {
  std::vector<messages::bar> closed{
    make_bar(t0 + 120'000, 300), make_bar(t0, 100), make_bar(t0 + 60'000, 200)};
  auto forming = make_bar(t0 + 180'000, 400);
  forming.closed = false;
  // Indicators for the first and the forming bar only; a closed snapshot
  // at the forming bar's open time must not be taken for it.
  std::vector<messages::indicator_snapshot> ind{
    make_snapshot(closed[1], 1.0), make_snapshot(forming, 4.0)};
  auto stale = make_snapshot(forming, 99.0);
  stale.closed = true;
  ind.insert(ind.begin(), stale);
  auto j = parse(native_snapshot(
    "binance", "BTCUSDT", timeframe::m1, closed, &forming, ind));
  CAF_CHECK_EQUAL(j.size(), 5u);
  CAF_CHECK_EQUAL(j["type"], "snapshot");
  CAF_CHECK_EQUAL(j["exchange"], "binance");
  CAF_CHECK_EQUAL(j["symbol"], "BTCUSDT");
  CAF_CHECK_EQUAL(j["timeframe"], "1m");
  const auto& bars = j["bars"];
  CAF_REQUIRE_EQUAL(bars.size(), 4u);
  std::string why;
  if (!bar_json_matches(bars[0], closed[1], &ind[1], why))
    CAF_FAIL(why);
  if (!bar_json_matches(bars[1], closed[2], nullptr, why))
    CAF_FAIL(why);
  if (!bar_json_matches(bars[2], closed[0], nullptr, why))
    CAF_FAIL(why);
  if (!bar_json_matches(bars[3], forming, &ind[2], why))
    CAF_FAIL(why);
  auto empty = parse(
    native_snapshot("binance", "ETHUSDT", timeframe::h4, {}, nullptr, {}));
  CAF_CHECK_EQUAL(empty["bars"], json::array());
  CAF_CHECK_EQUAL(empty["timeframe"], "4h");
}

CAF_TEST(kline event matches Binance field by field) {
  auto b = make_bar(t0, 4'200'012'345'678, timeframe::m5);
  b.closed = false;
  auto j = parse(binance_kline_event(b, t0 + 1234));
  CAF_CHECK_EQUAL(j.size(), 4u);
  CAF_CHECK_EQUAL(j["e"], "kline");
  CAF_CHECK_EQUAL(j["E"], t0 + 1234);
  CAF_CHECK_EQUAL(j["s"], "BTCUSDT");
  const auto& k = j["k"];
  CAF_CHECK_EQUAL(k.size(), 17u);
  CAF_CHECK_EQUAL(k["t"], b.open_time_ms);
  CAF_CHECK_EQUAL(k["T"], b.close_time_ms);
  CAF_CHECK_EQUAL(k["s"], "BTCUSDT");
  CAF_CHECK_EQUAL(k["i"], "5m");
  CAF_CHECK_EQUAL(k["f"], b.first_trade_id);
  CAF_CHECK_EQUAL(k["L"], b.last_trade_id);
  CAF_CHECK_EQUAL(k["n"], b.trade_count);
  CAF_CHECK_EQUAL(k["x"], false);
  CAF_CHECK_EQUAL(units_of(k["o"]), b.open.units);
  CAF_CHECK_EQUAL(units_of(k["c"]), b.close.units);
  CAF_CHECK_EQUAL(units_of(k["h"]), b.high.units);
  CAF_CHECK_EQUAL(units_of(k["l"]), b.low.units);
  CAF_CHECK(units_of(k["v"]) == b.volume.units);
  CAF_CHECK(units_of(k["q"]) == b.quote_volume.units);
  CAF_CHECK(units_of(k["V"]) == b.taker_buy_volume.units);
  CAF_CHECK(units_of(k["Q"]) == b.taker_buy_quote_volume.units);
  CAF_CHECK_EQUAL(k["B"], "0");
  for (auto key : {"o", "c", "h", "l", "v", "q", "V", "Q"})
    CAF_CHECK(has_8_decimals(k[key].get<std::string>()));
  b.closed = true;
  auto closed = parse(binance_kline_event(b, 0));
  CAF_CHECK_EQUAL(closed["k"]["x"], true);
}

CAF_TEST(kline prices keep 8 decimals for small and huge values) {
  auto b = make_bar(t0, 0);
  b.open = messages::decimal::from_units(100'000); // 0.001
  b.low = messages::decimal::from_units(0);
  b.close = messages::decimal::from_units(1);
  // A volume beyond 64 bits: 12345678901234567890.12345678.
  b.volume.units
    = static_cast<messages::int128>(1'234'567'890'123'456'789) * 1'000'000'000
    + 12'345'678;
  auto k = parse(binance_kline_event(b, 0))["k"];
  CAF_CHECK_EQUAL(k["o"], "0.00100000");
  CAF_CHECK_EQUAL(k["l"], "0.00000000");
  CAF_CHECK_EQUAL(k["c"], "0.00000001");
  CAF_CHECK_EQUAL(k["v"], "12345678901234567890.12345678");
}

CAF_TEST(combined stream wrapper) {
  auto b = make_bar(t0, 5);
  auto data = binance_kline_event(b, t0);
  auto j = parse(binance_combined("btcusdt@kline_1m", data));
  CAF_CHECK_EQUAL(j.size(), 2u);
  CAF_CHECK_EQUAL(j["stream"], "btcusdt@kline_1m");
  CAF_CHECK_EQUAL(j["data"], parse(data));
}
