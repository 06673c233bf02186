#include "messages/calendar.hpp"

#include <algorithm>
#include <chrono>

namespace csp::messages {

namespace {

constexpr std::int64_t floor_div(std::int64_t x, std::int64_t y) noexcept {
  return x / y - ((x % y != 0 && ((x < 0) != (y < 0))) ? 1 : 0);
}

void put2(char* p, std::int64_t v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

} // namespace

civil_date civil_from_days(std::int64_t days) noexcept {
  // Eras of 400 years (146097 days) starting on 0000-03-01.
  auto z = days + 719468;
  auto era = floor_div(z, 146097);
  auto doe = z - era * 146097;
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  civil_date result;
  result.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  result.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  result.year = static_cast<int>(yoe + era * 400 + (result.month <= 2 ? 1 : 0));
  return result;
}

std::int64_t days_from_civil(int year, int month, int day) noexcept {
  std::int64_t y = year - (month <= 2 ? 1 : 0);
  auto era = floor_div(y, 400);
  auto yoe = y - era * 400;
  std::int64_t mp = month > 2 ? month - 3 : month + 9;
  auto doy = (153 * mp + 2) / 5 + day - 1;
  auto doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void format_utc_ms(std::int64_t ms, char* buf) noexcept {
  constexpr std::int64_t day_ms = 86'400'000;
  constexpr std::int64_t min_ms = -62'167'219'200'000; // 0000-01-01
  constexpr std::int64_t max_ms = 253'402'300'799'999; // 9999-12-31 end
  ms = std::clamp(ms, min_ms, max_ms);
  auto days = floor_div(ms, day_ms);
  auto in_day = ms - days * day_ms;
  auto date = civil_from_days(days);
  put2(buf, date.year / 100);
  put2(buf + 2, date.year % 100);
  buf[4] = '-';
  put2(buf + 5, date.month);
  buf[7] = '-';
  put2(buf + 8, date.day);
  buf[10] = ' ';
  put2(buf + 11, in_day / 3'600'000);
  buf[13] = ':';
  put2(buf + 14, in_day / 60'000 % 60);
  buf[16] = ':';
  put2(buf + 17, in_day / 1000 % 60);
  buf[19] = '.';
  auto milli = in_day % 1000;
  buf[20] = static_cast<char>('0' + milli / 100);
  put2(buf + 21, milli % 100);
  buf[23] = '+';
  buf[24] = '0';
  buf[25] = '0';
  buf[26] = '\0';
}

std::string utc_ms_text(std::int64_t ms) {
  char buf[utc_ms_text_size + 1];
  format_utc_ms(ms, buf);
  return std::string{buf, utc_ms_text_size};
}

std::int64_t wall_clock_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

std::int64_t steady_clock_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
    .count();
}

std::int64_t steady_clock_ns() noexcept {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch())
    .count();
}

} // namespace csp::messages
