#define CAF_SUITE decimal
#include "caf/test/unit_test.hpp"

#include <limits>
#include <string>

#include "messages/decimal.hpp"

using namespace csp::messages;

namespace {

decimal parse(std::string_view s) {
  decimal d{-12345};
  CAF_REQUIRE(parse_decimal(s, d));
  return d;
}

bool rejects(std::string_view s) {
  decimal d;
  return !parse_decimal(s, d);
}

} // namespace

CAF_TEST(parsing exchange strings) {
  CAF_CHECK_EQUAL(parse("0").units, 0);
  CAF_CHECK_EQUAL(parse("1").units, 100000000);
  CAF_CHECK_EQUAL(parse("50000.12").units, 5000012000000);
  CAF_CHECK_EQUAL(parse("0.00100000").units, 100000);
  CAF_CHECK_EQUAL(parse("0.00000001").units, 1);
  CAF_CHECK_EQUAL(parse(".5").units, 50000000);
  CAF_CHECK_EQUAL(parse("5.").units, 500000000);
  CAF_CHECK_EQUAL(parse("-2.25").units, -225000000);
  // Trailing zeros beyond the 8th digit carry no information.
  CAF_CHECK_EQUAL(parse("1.1234567800000").units, 112345678);
  // The largest integral part that fits: floor(INT64_MAX / 1e8).
  CAF_CHECK_EQUAL(parse("92233720368").units, 9223372036800000000);
}

CAF_TEST(rejecting malformed strings) {
  CAF_CHECK(rejects(""));
  CAF_CHECK(rejects("."));
  CAF_CHECK(rejects("-"));
  CAF_CHECK(rejects("1e5"));
  CAF_CHECK(rejects("1.2.3"));
  CAF_CHECK(rejects(" 1"));
  CAF_CHECK(rejects("1 "));
  CAF_CHECK(rejects("abc"));
  CAF_CHECK(rejects("0.000000001")); // 9th digit non-zero
  CAF_CHECK(rejects("92233720369")); // overflows int64 units
  CAF_CHECK(rejects("99999999999999999999"));
  // 19 digits: the longest string the exact-form fast path looks at (it
  // overflowed int64 while reading them, found by binance_parse_fuzz).
  CAF_CHECK(rejects("9223372036854775808"));
  CAF_CHECK(rejects("9999999999999999999"));
  CAF_CHECK(rejects("99999999999.9999999"));
}

CAF_TEST(formatting is shortest exact) {
  CAF_CHECK_EQUAL(to_string(decimal{0}), "0");
  CAF_CHECK_EQUAL(to_string(decimal{1}), "0.00000001");
  CAF_CHECK_EQUAL(to_string(decimal{5000050000000}), "50000.5");
  CAF_CHECK_EQUAL(to_string(decimal{-225000000}), "-2.25");
  CAF_CHECK_EQUAL(to_string(decimal{1200000000}), "12");
  CAF_CHECK_EQUAL(to_string(decimal{std::numeric_limits<int64_t>::min()}),
    "-92233720368.54775808");
  wide_decimal w;
  w.units = static_cast<int128>(std::numeric_limits<int64_t>::max()) * 1000;
  CAF_CHECK_EQUAL(to_string(w), "92233720368547.75807");
}

CAF_TEST(parse and format round trip) {
  for (auto s : {"0.1", "123.456", "0.00000007", "98765.4321", "-0.5"})
    CAF_CHECK_EQUAL(to_string(parse(s)), s);
}

CAF_TEST(products round half to even) {
  // 0.00000001 * 0.5 = 0.000000005 -> ties to even -> 0
  CAF_CHECK_EQUAL(multiply(decimal{1}, decimal{50000000}).units, 0);
  // 0.00000003 * 0.5 = 0.000000015 -> ties to even -> 0.00000002
  CAF_CHECK_EQUAL(multiply(decimal{3}, decimal{50000000}).units, 2);
  // 50000 * 1.5 = 75000
  CAF_CHECK_EQUAL(
    multiply(parse("50000"), parse("1.5")).units, parse("75000").units);
  // 0.00000001 * 0.6 = 0.000000006 -> 0.00000001
  CAF_CHECK_EQUAL(multiply(decimal{1}, decimal{60000000}).units, 1);
}

CAF_TEST(conversion from double rounds to nearest) {
  CAF_CHECK_EQUAL(decimal::from_double(187.4499969482422).units, 18744999695);
  CAF_CHECK_EQUAL(decimal::from_double(0.1).units, 10000000);
  CAF_CHECK_EQUAL(decimal::from_double(-0.1).units, -10000000);
}

CAF_TEST(exchange strings with eight fractional digits parse exactly) {
  // Built digit by digit here, independently of the parser: every value of
  // the form I.FFFFFFFF, including digits that stress the 8-at-once path.
  uint64_t state = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    auto integral = static_cast<int64_t>(state % 10000000000ULL);
    auto fraction = static_cast<int64_t>((state >> 20) % 100000000ULL);
    std::string s = std::to_string(integral) + ".";
    std::string f = std::to_string(fraction);
    s += std::string(8 - f.size(), '0') + f;
    decimal d;
    CAF_REQUIRE(parse_decimal(s, d));
    CAF_REQUIRE_EQUAL(d.units, integral * 100000000 + fraction);
  }
  // A non-digit anywhere among the eight is rejected.
  for (size_t pos = 0; pos < 8; ++pos) {
    for (char bad : {'/', ':', 'a', ' ', '.', '\0'}) {
      std::string s = "1.12345678";
      s[2 + pos] = bad;
      CAF_CHECK(rejects(s));
    }
  }
}
