#define CAF_SUITE log_files
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "monitoring/log_files.hpp"

using namespace csp::monitoring;

namespace {

using strings = std::vector<std::string>;
using std::chrono::milliseconds;
using std::chrono::system_clock;

/// 2024-01-15 is day 19737 (date -u -d @$((19737*86400))).
constexpr std::int64_t jan15 = 19737;

system_clock::time_point at_ms(std::int64_t ms) {
  return system_clock::time_point{milliseconds{ms}};
}

} // namespace

CAF_TEST(utc days start at midnight) {
  constexpr std::int64_t day_ms = 86'400'000;
  CAF_CHECK_EQUAL(utc_day(at_ms(0)), 0);
  CAF_CHECK_EQUAL(utc_day(at_ms(day_ms - 1)), 0);
  CAF_CHECK_EQUAL(utc_day(at_ms(day_ms)), 1);
  CAF_CHECK_EQUAL(utc_day(at_ms(-1)), -1);
  CAF_CHECK_EQUAL(utc_day(at_ms(-day_ms)), -1);
  CAF_CHECK_EQUAL(utc_day(at_ms(-day_ms - 1)), -2);
  // 2024-01-15T10:30:45.123Z
  CAF_CHECK_EQUAL(utc_day(at_ms(1'705'314'645'123)), jan15);
  CAF_CHECK_EQUAL(utc_day(at_ms((jan15 + 1) * day_ms - 1)), jan15);
  CAF_CHECK_EQUAL(utc_day(at_ms((jan15 + 1) * day_ms)), jan15 + 1);
}

CAF_TEST(file names) {
  CAF_CHECK_EQUAL(daily_log_name("app", jan15), "app_2024-01-15.log");
  CAF_CHECK_EQUAL(
    daily_log_name("app", jan15, log_file_kind::gzip), "app_2024-01-15.log.gz");
  CAF_CHECK_EQUAL(daily_log_name("app-proc", jan15, log_file_kind::partial),
    "app-proc_2024-01-15.log.gz.tmp");
  // 2024-02-29 is 45 days after 2024-01-15; 2024-03-01 the day after.
  CAF_CHECK_EQUAL(daily_log_name("app", jan15 + 45), "app_2024-02-29.log");
  CAF_CHECK_EQUAL(daily_log_name("app", jan15 + 46), "app_2024-03-01.log");
  CAF_CHECK_EQUAL(daily_log_name("app", 0), "app_1970-01-01.log");
}

CAF_TEST(parsing accepts only the pattern) {
  auto p = parse_daily_log_name("app", "app_2024-01-15.log");
  CAF_REQUIRE(p.has_value());
  CAF_CHECK_EQUAL(p->day, jan15);
  CAF_CHECK(p->kind == log_file_kind::plain);
  p = parse_daily_log_name("app", "app_2024-01-15.log.gz");
  CAF_REQUIRE(p.has_value());
  CAF_CHECK(p->kind == log_file_kind::gzip);
  p = parse_daily_log_name("app", "app_2024-02-29.log.gz.tmp");
  CAF_REQUIRE(p.has_value());
  CAF_CHECK_EQUAL(p->day, jan15 + 45);
  CAF_CHECK(p->kind == log_file_kind::partial);
  const char* others[] = {
    "app_2024-01-15.log.1",      // other suffix
    "app_2024-01-15.txt",        // other extension
    "app_2024-01-15.log.gz.bak", // other suffix
    "app_2024-01-15",            // no extension
    "app_2024-1-15.log",         // short month
    "app_2024-01-15x.log",       // junk after the date
    "app_2023-02-29.log",        // not a leap year
    "app_2024-13-01.log",        // month 13
    "app_2024-04-31.log",        // April has 30 days
    "app_2024-00-10.log",        // month 0
    "app_2024/01/15.log",        // other separators
    "app_+024-01-15.log",        // sign in the year
    "app-node_2024-01-15.log",   // other prefix
    "xapp_2024-01-15.log",       // other prefix
    "ap_2024-01-15.log",         // other prefix
    "app2024-01-15.log",         // no separator
    "app_.log",                  // no date
    "app_",                      // nothing
    "app",                       // prefix only
    "",                          // empty
  };
  for (auto name : others)
    CAF_CHECK_EQUAL(parse_daily_log_name("app", name).has_value(), false);
  // A name of another prefix parses with that prefix.
  CAF_CHECK(
    parse_daily_log_name("app-node", "app-node_2024-01-15.log").has_value());
}

CAF_TEST(names round trip) {
  for (std::int64_t day = jan15 - 800; day < jan15 + 800; day += 7) {
    for (auto kind :
      {log_file_kind::plain, log_file_kind::gzip, log_file_kind::partial}) {
      auto p = parse_daily_log_name("app", daily_log_name("app", day, kind));
      CAF_REQUIRE(p.has_value());
      CAF_CHECK_EQUAL(p->day, day);
      CAF_CHECK(p->kind == kind);
    }
  }
}

CAF_TEST(the plan compresses earlier days and never today) {
  strings names = {
    "app_2024-01-15.log",       // today: being written
    "app_2024-01-16.log",       // a clock set back: left alone
    "app_2024-01-14.log",       // yesterday: compress
    "app_2024-01-10.log",       // a node down at midnight: compress
    "app_2024-01-13.log.gz",    // done already
    "app_2024-01-12.log.gz.tmp" // a crash while compressing: remove
  };
  auto plan = plan_log_dir("app", names, jan15, 30);
  CAF_CHECK_EQUAL(
    plan.compress, (strings{"app_2024-01-10.log", "app_2024-01-14.log"}));
  CAF_CHECK_EQUAL(plan.remove, (strings{"app_2024-01-12.log.gz.tmp"}));
}

CAF_TEST(retention removes only expired files of the pattern) {
  // Today is 2024-01-15; with 30 days, 2023-12-16 (today - 30) is kept and
  // 2023-12-15 (today - 31) is the newest removed.
  strings names = {
    "app_2023-12-16.log.gz",      // kept: exactly the retention
    "app_2023-12-16.log",         // kept and compressed
    "app_2023-12-15.log.gz",      // removed
    "app_2023-12-15.log",         // removed, not compressed
    "app_2022-06-01.log.gz",      // removed
    "app-node_2022-06-01.log.gz", // another prefix: not ours
    "app_2022-06-01.txt",         // not the pattern
    "app_2022-06-01.log.gz.bak",  // not the pattern
    "other_2022-06-01.log",       // not the pattern
    "app.lock",                   // not the pattern
  };
  auto plan = plan_log_dir("app", names, jan15, 30);
  CAF_CHECK_EQUAL(plan.compress, (strings{"app_2023-12-16.log"}));
  CAF_CHECK_EQUAL(plan.remove,
    (strings{
      "app_2022-06-01.log.gz", "app_2023-12-15.log", "app_2023-12-15.log.gz"}));
  // One day of retention keeps yesterday only.
  plan = plan_log_dir("app",
    {"app_2024-01-14.log.gz", "app_2024-01-13.log.gz", "app_2024-01-15.log"},
    jan15, 1);
  CAF_CHECK_EQUAL(plan.remove, (strings{"app_2024-01-13.log.gz"}));
  CAF_CHECK(plan.compress.empty());
  // Retention 0 keeps everything.
  plan = plan_log_dir("app", names, jan15, 0);
  CAF_CHECK(plan.remove.empty());
  CAF_CHECK_EQUAL(
    plan.compress, (strings{"app_2023-12-15.log", "app_2023-12-16.log"}));
}
