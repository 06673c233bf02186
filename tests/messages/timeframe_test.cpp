#define CAF_SUITE timeframe
#include "caf/test/unit_test.hpp"

#include "messages/timeframe.hpp"

using namespace csp::messages;

namespace {

// 2024-01-15T10:37:45.123Z, in ms since the epoch.
constexpr int64_t t0 = 1705315065123;

} // namespace

CAF_TEST(durations) {
  CAF_CHECK_EQUAL(duration_ms(timeframe::m1), 60000);
  CAF_CHECK_EQUAL(duration_ms(timeframe::m5), 300000);
  CAF_CHECK_EQUAL(duration_ms(timeframe::m15), 900000);
  CAF_CHECK_EQUAL(duration_ms(timeframe::h1), 3600000);
  CAF_CHECK_EQUAL(duration_ms(timeframe::h4), 14400000);
  CAF_CHECK_EQUAL(duration_ms(timeframe::d1), 86400000);
  CAF_CHECK_EQUAL(minutes_in(timeframe::h4), 240);
}

CAF_TEST(utc alignment) {
  // 10:37:45.123 -> 10:37, 10:35, 10:30, 10:00, 08:00, 00:00 (UTC).
  CAF_CHECK_EQUAL(bucket_open(t0, timeframe::m1), 1705315020000);
  CAF_CHECK_EQUAL(bucket_open(t0, timeframe::m5), 1705314900000);
  CAF_CHECK_EQUAL(bucket_open(t0, timeframe::m15), 1705314600000);
  CAF_CHECK_EQUAL(bucket_open(t0, timeframe::h1), 1705312800000);
  CAF_CHECK_EQUAL(bucket_open(t0, timeframe::h4), 1705305600000);
  CAF_CHECK_EQUAL(bucket_open(t0, timeframe::d1), 1705276800000);
}

CAF_TEST(boundaries belong to the bar they open) {
  for (auto tf : all_timeframes) {
    auto open = bucket_open(t0, tf);
    CAF_CHECK_EQUAL(bucket_open(open, tf), open);
    CAF_CHECK_EQUAL(bucket_open(open - 1, tf), open - duration_ms(tf));
    CAF_CHECK_EQUAL(bucket_open(close_time(open, tf), tf), open);
    CAF_CHECK_EQUAL(
      bucket_open(close_time(open, tf) + 1, tf), open + duration_ms(tf));
  }
}

CAF_TEST(times before the epoch floor downwards) {
  CAF_CHECK_EQUAL(bucket_open(-1, timeframe::m1), -60000);
  CAF_CHECK_EQUAL(bucket_open(-60000, timeframe::m1), -60000);
  CAF_CHECK_EQUAL(bucket_open(-60001, timeframe::m1), -120000);
}

CAF_TEST(close time is open plus duration minus one ms) {
  CAF_CHECK_EQUAL(close_time(1705315020000, timeframe::m1), 1705315079999);
  CAF_CHECK_EQUAL(close_time(1705276800000, timeframe::d1), 1705363199999);
}

CAF_TEST(labels round trip) {
  for (auto tf : all_timeframes)
    CAF_CHECK(parse_timeframe(to_string(tf)) == tf);
  CAF_CHECK_EQUAL(to_string(timeframe::m15), "15m");
  CAF_CHECK(!parse_timeframe("2m"));
  CAF_CHECK(!parse_timeframe(""));
  CAF_CHECK(!parse_timeframe("1M"));
}
