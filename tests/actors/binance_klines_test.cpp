#define CAF_SUITE binance_klines
#include "caf/test/unit_test.hpp"

#include "actors/binance_klines.hpp"

using namespace csp;
using namespace csp::messages;

namespace {

// Two 1h klines as Binance sends them (2024-01-15 10:00 and 11:00 UTC).
constexpr const char* two_klines = R"([
  [1705312800000, "42000.10", "42100.00", "41900.00000001", "42050.5",
   "12.5", 1705316399999, "525000.25", 42, "6.25", "262500.125", "0"],
  [1705316400000, "42050.5", "42050.5", "42050.5", "42050.5",
   "0", 1705319999999, "0", 0, "0", "0", "0"]
])";

} // namespace

CAF_TEST(klines become closed bars with exact decimals) {
  std::string err;
  auto bars = actors::parse_klines(
    two_klines, "binance", "BTCUSDT", timeframe::h1, err);
  CAF_REQUIRE(bars.has_value());
  CAF_REQUIRE_EQUAL(bars->size(), 2u);
  const auto& b = bars->front();
  CAF_CHECK_EQUAL(b.open_time_ms, 1705312800000);
  CAF_CHECK_EQUAL(b.close_time_ms, 1705316399999);
  CAF_CHECK_EQUAL(b.open.units, 4'200'010'000'000);
  CAF_CHECK_EQUAL(b.low.units, 4'190'000'000'001);
  CAF_CHECK(b.volume.units == 1'250'000'000);
  CAF_CHECK(b.taker_buy_quote_volume.units == 26'250'012'500'000);
  CAF_CHECK_EQUAL(b.trade_count, 42);
  CAF_CHECK(b.closed);
  CAF_CHECK_EQUAL(b.symbol, "BTCUSDT");
  CAF_CHECK_EQUAL(bars->back().trade_count, 0);
}

CAF_TEST(bad answers are refused with a reason) {
  auto check = [](const char* body, const char* want, timeframe tf) {
    std::string err;
    auto bars = actors::parse_klines(body, "binance", "X", tf, err);
    CAF_CHECK(!bars.has_value());
    if (err.find(want) == std::string::npos)
      CAF_FAIL("error '" << err << "' does not mention '" << want << "'");
  };
  check(R"({"code":-1121,"msg":"Invalid symbol."})", "Invalid symbol.",
    timeframe::m1);
  check("[[1", "not a JSON array", timeframe::m1);
  check(two_klines, "not a 1m bar", timeframe::m1);
  check(
    R"([[1705312800000,"1","2","0.5","1e3","1",1705316399999,"1",1,"0","0"]])",
    "not an exact decimal", timeframe::h1);
  check(R"([[1705312800000,"3","2","1","1","1",1705316399999,"1",1,"0","0"]])",
    "within [low, high]", timeframe::h1);
  check(R"([[1705312800000,"1","1","1","1","1",1705316399999,"1",1,"0","0"],
            [1705312800000,"1","1","1","1","1",1705316399999,"1",1,"0","0"]])",
    "not increasing", timeframe::h1);
  check(R"([[1705312800000,"1","1","1"]])", "not [openTime", timeframe::h1);
}

CAF_TEST(the request target carries every parameter) {
  CAF_CHECK_EQUAL(actors::klines_target("ETHUSDT", timeframe::m15, 1, 2, 1000),
    "/api/v3/klines?symbol=ETHUSDT&interval=15m&startTime=1&endTime=2"
    "&limit=1000");
}
