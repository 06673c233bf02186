#define CAF_SUITE market_hours
#include "caf/test/unit_test.hpp"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "actors/market_hours.hpp"

using namespace csp::actors;

namespace {

// Reference: days since 1970-01-01 by plain counting (no formula).
std::int64_t naive_days(int y, int m, int d) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  auto leap
    = [](int yy) { return (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0; };
  std::int64_t days = 0;
  for (int yy = 1970; yy < y; ++yy)
    days += leap(yy) ? 366 : 365;
  for (int mm = 1; mm < m; ++mm)
    days += mdays[mm - 1] + (mm == 2 && leap(y) ? 1 : 0);
  return days + d - 1;
}

// Unix seconds of a UTC date and time.
std::int64_t utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return naive_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

std::int64_t ms(std::int64_t sec) {
  return sec * 1000;
}

} // namespace

CAF_TEST(civil date conversions match counting) {
  for (int y = 1970; y < 2105; y += 7)
    for (int m = 1; m <= 12; ++m)
      for (int d : {1, 15, 28}) {
        auto days = naive_days(y, m, d);
        CAF_CHECK_EQUAL(days_from_civil(y, m, d), days);
        auto c = civil_from_days(days);
        CAF_CHECK_EQUAL(c.year, y);
        CAF_CHECK_EQUAL(c.month, m);
        CAF_CHECK_EQUAL(c.day, d);
      }
  CAF_CHECK_EQUAL(days_from_civil(1969, 12, 31), -1);
  CAF_CHECK_EQUAL(civil_from_days(-1).year, 1969);
}

CAF_TEST(new york offsets across the 2024 dst changes) {
  auto tz = time_zone::load("America/New_York");
  CAF_REQUIRE(tz.has_value());
  // 2024-03-10 02:00 EST -> 03:00 EDT, i.e. 07:00 UTC.
  CAF_CHECK_EQUAL(tz->utc_offset(utc(2024, 3, 10, 6, 59, 59)), -5 * 3600);
  CAF_CHECK_EQUAL(tz->utc_offset(utc(2024, 3, 10, 7, 0, 0)), -4 * 3600);
  // 2024-11-03 02:00 EDT -> 01:00 EST, i.e. 06:00 UTC.
  CAF_CHECK_EQUAL(tz->utc_offset(utc(2024, 11, 3, 5, 59, 59)), -4 * 3600);
  CAF_CHECK_EQUAL(tz->utc_offset(utc(2024, 11, 3, 6, 0, 0)), -5 * 3600);
  CAF_CHECK_EQUAL(tz->utc_offset(utc(2024, 1, 15, 12, 0)), -5 * 3600);
  CAF_CHECK_EQUAL(tz->utc_offset(utc(2024, 7, 15, 12, 0)), -4 * 3600);
}

CAF_TEST(istanbul has no dst since 2016) {
  auto tz = time_zone::load("Europe/Istanbul");
  CAF_REQUIRE(tz.has_value());
  // EU change dates of 2024: no change in Turkey.
  for (auto t :
    {utc(2024, 3, 31, 0, 59), utc(2024, 3, 31, 1, 0), utc(2024, 10, 27, 0, 59),
      utc(2024, 10, 27, 1, 0), utc(2024, 1, 10, 12, 0), utc(2024, 7, 10, 12, 0),
      utc(2060, 1, 1, 0, 0)})
    CAF_CHECK_EQUAL(tz->utc_offset(t), 3 * 3600);
  // Before: EET in winter 2015, EEST in summer 2015.
  CAF_CHECK_EQUAL(tz->utc_offset(utc(2015, 1, 15, 12, 0)), 2 * 3600);
  CAF_CHECK_EQUAL(tz->utc_offset(utc(2015, 7, 15, 12, 0)), 3 * 3600);
}

CAF_TEST(posix footer rules) {
  auto rule = time_zone::from_posix("EST5EDT,M3.2.0,M11.1.0");
  CAF_REQUIRE(rule.has_value());
  // 2040: Jan 1 is a Sunday, so March 1 (day 60 of a leap year) is a
  // Thursday: second Sunday of March = the 11th; November 1 is a Thursday:
  // first Sunday = the 4th.
  CAF_CHECK_EQUAL(rule->utc_offset(utc(2040, 3, 11, 6, 59, 59)), -5 * 3600);
  CAF_CHECK_EQUAL(rule->utc_offset(utc(2040, 3, 11, 7, 0)), -4 * 3600);
  CAF_CHECK_EQUAL(rule->utc_offset(utc(2040, 11, 4, 5, 59, 59)), -4 * 3600);
  CAF_CHECK_EQUAL(rule->utc_offset(utc(2040, 11, 4, 6, 0)), -5 * 3600);
  // The loaded zone agrees with its rule beyond its last transition and
  // with the rule at sampled instants before it.
  auto tz = time_zone::load("America/New_York");
  CAF_REQUIRE(tz.has_value());
  for (int y : {2024, 2030, 2040, 2045, 2090})
    for (int m = 1; m <= 12; ++m)
      for (int d : {1, 8, 15, 22})
        for (int h : {0, 6, 7, 12}) {
          auto t = utc(y, m, d, h, 30);
          CAF_CHECK_EQUAL(tz->utc_offset(t), rule->utc_offset(t));
        }
  auto fixed = time_zone::from_posix("<+03>-3");
  CAF_REQUIRE(fixed.has_value());
  CAF_CHECK_EQUAL(fixed->utc_offset(0), 3 * 3600);
  // A southern-hemisphere rule (DST across the new year): Sydney.
  auto syd = time_zone::from_posix("AEST-10AEDT,M10.1.0,M4.1.0/3");
  CAF_REQUIRE(syd.has_value());
  CAF_CHECK_EQUAL(syd->utc_offset(utc(2024, 1, 15, 0, 0)), 11 * 3600);
  CAF_CHECK_EQUAL(syd->utc_offset(utc(2024, 7, 15, 0, 0)), 10 * 3600);
  CAF_CHECK(!time_zone::from_posix("").has_value());
  CAF_CHECK(!time_zone::from_posix("EST").has_value());
  CAF_CHECK(!time_zone::from_posix("EST5EDT,J60,M11.1.0").has_value());
  CAF_CHECK(!time_zone::from_posix("EST5EDT,M13.2.0,M11.1.0").has_value());
}

CAF_TEST(malformed tz data is rejected) {
  CAF_CHECK(!time_zone::parse("").has_value());
  CAF_CHECK(!time_zone::parse("not a tzif file at all, sorry........"
                              "..............")
               .has_value());
  CAF_CHECK(!time_zone::load("No/Such_Zone").has_value());
  CAF_CHECK(!time_zone::load("../etc/passwd").has_value());
  std::ifstream f{"/usr/share/zoneinfo/America/New_York", std::ios::binary};
  std::string bytes{
    std::istreambuf_iterator<char>{f}, std::istreambuf_iterator<char>{}};
  CAF_REQUIRE_GREATER(bytes.size(), 200u);
  CAF_CHECK(time_zone::parse(bytes).has_value());
  CAF_CHECK(!time_zone::parse(bytes.substr(0, 100)).has_value());
}

CAF_TEST(nyse session across dst) {
  auto nyse = nyse_hours();
  CAF_REQUIRE(nyse.has_value());
  // Friday 2024-03-08, EST: 09:30 = 14:30 UTC, 16:00 = 21:00 UTC.
  CAF_CHECK(!nyse->is_open(ms(utc(2024, 3, 8, 14, 29, 59))));
  CAF_CHECK(nyse->is_open(ms(utc(2024, 3, 8, 14, 30))));
  CAF_CHECK(nyse->is_open(ms(utc(2024, 3, 8, 20, 59, 59))));
  CAF_CHECK(!nyse->is_open(ms(utc(2024, 3, 8, 21, 0))));
  // Weekend around the change.
  CAF_CHECK(!nyse->is_open(ms(utc(2024, 3, 9, 15, 0))));
  CAF_CHECK(!nyse->is_open(ms(utc(2024, 3, 10, 15, 0))));
  // Monday 2024-03-11, EDT: 09:30 = 13:30 UTC.
  CAF_CHECK(!nyse->is_open(ms(utc(2024, 3, 11, 13, 29))));
  CAF_CHECK(nyse->is_open(ms(utc(2024, 3, 11, 13, 30))));
  CAF_CHECK(!nyse->is_open(ms(utc(2024, 3, 11, 20, 0))));
  // After the November change (Monday 2024-11-04, EST again).
  CAF_CHECK(!nyse->is_open(ms(utc(2024, 11, 4, 13, 30))));
  CAF_CHECK(nyse->is_open(ms(utc(2024, 11, 4, 14, 30))));
  CAF_CHECK(nyse->is_open(ms(utc(2024, 11, 4, 20, 30))));
  // Friday 2024-11-01, still EDT.
  CAF_CHECK(nyse->is_open(ms(utc(2024, 11, 1, 13, 30))));
  CAF_CHECK(!nyse->is_open(ms(utc(2024, 11, 1, 20, 0))));
  // A configured holiday: 2024-12-25 (Wednesday).
  CAF_CHECK(nyse->is_open(ms(utc(2024, 12, 25, 15, 0))));
  nyse->holidays.push_back(20241225);
  CAF_CHECK(!nyse->is_open(ms(utc(2024, 12, 25, 15, 0))));
  CAF_CHECK(nyse->is_open(ms(utc(2024, 12, 24, 15, 0))));
}

CAF_TEST(bist session) {
  auto bist = bist_hours();
  CAF_REQUIRE(bist.has_value());
  // Monday 2024-07-01: 10:00-18:00 +03 = 07:00-15:00 UTC.
  CAF_CHECK(!bist->is_open(ms(utc(2024, 7, 1, 6, 59, 59))));
  CAF_CHECK(bist->is_open(ms(utc(2024, 7, 1, 7, 0))));
  CAF_CHECK(bist->is_open(ms(utc(2024, 7, 1, 14, 59, 59))));
  CAF_CHECK(!bist->is_open(ms(utc(2024, 7, 1, 15, 0))));
  // Same UTC hours in winter (no DST): Monday 2024-01-08.
  CAF_CHECK(bist->is_open(ms(utc(2024, 1, 8, 7, 0))));
  CAF_CHECK(!bist->is_open(ms(utc(2024, 1, 8, 15, 0))));
  // Monday 2024-04-01, after the EU change: unchanged.
  CAF_CHECK(bist->is_open(ms(utc(2024, 4, 1, 7, 0))));
  CAF_CHECK(!bist->is_open(ms(utc(2024, 4, 1, 6, 59))));
  // Saturday 2024-07-06.
  CAF_CHECK(!bist->is_open(ms(utc(2024, 7, 6, 10, 0))));
  // Local date decides weekdays: Monday 00:30 local is Sunday 21:30 UTC.
  CAF_CHECK(!bist->is_open(ms(utc(2024, 7, 7, 21, 30))));
}
