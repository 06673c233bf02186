#pragma once

// Exchange trading hours in the exchange's own time zone.
//
// Time zones come from the system tz database (/usr/share/zoneinfo) read by
// a small TZif parser (versions 1-4, including the POSIX-TZ footer rule used
// for instants after the last stored transition). A loaded time_zone is
// immutable, so lookups are thread-safe; unlike localtime_r with a per-call
// setenv("TZ"), nothing touches process-global state. (g++ 12's libstdc++
// lacks std::chrono::zoned_time.)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/calendar.hpp"

namespace csp::actors {

using messages::civil_date;
using messages::civil_from_days;
using messages::days_from_civil;

/// One time zone's UTC offsets over time, from a TZif file.
class time_zone {
public:
  /// Reads `dir`/`name` (e.g. "America/New_York"); nullopt when the file is
  /// missing or malformed. The name may not contain "..".
  static std::optional<time_zone> load(
    std::string_view name, const std::string& dir = "/usr/share/zoneinfo");

  /// Parses the bytes of a TZif file; nullopt when malformed.
  static std::optional<time_zone> parse(std::string_view bytes);

  /// Parses a POSIX TZ string such as "EST5EDT,M3.2.0,M11.1.0" or "<+03>-3"
  /// as a zone without transitions; nullopt when unsupported.
  static std::optional<time_zone> from_posix(std::string_view rule);

  /// Returns the offset from UTC, in seconds, at `unix_s`.
  std::int32_t utc_offset(std::int64_t unix_s) const;

private:
  struct posix_rule {
    std::int32_t std_offset = 0;
    bool has_dst = false;
    std::int32_t dst_offset = 0;
    // Mm.w.d plus seconds after local midnight, for start and end.
    int start_month = 0, start_week = 0, start_day = 0;
    std::int32_t start_time = 7200;
    int end_month = 0, end_week = 0, end_day = 0;
    std::int32_t end_time = 7200;
  };

  static bool parse_posix(std::string_view text, posix_rule& out);

  std::int32_t rule_offset(std::int64_t unix_s) const;

  std::vector<std::int64_t> transitions_;
  std::vector<std::int32_t> transition_offsets_;
  std::int32_t initial_offset_ = 0;
  std::optional<posix_rule> footer_;
};

/// The regular session of one exchange on weekdays, in local time.
struct market_hours {
  std::string name;
  time_zone zone;
  /// Session open and close, minutes after local midnight: [open, close).
  int open_minute = 0;
  int close_minute = 0;
  /// Full-day closures, as local dates yyyymmdd (e.g. 20241225).
  std::vector<std::int32_t> holidays;

  /// Returns whether the session is open at `unix_ms`.
  bool is_open(std::int64_t unix_ms) const;
};

/// NYSE: 09:30-16:00 America/New_York, Monday to Friday.
std::optional<market_hours> nyse_hours(
  const std::string& dir = "/usr/share/zoneinfo");

/// Borsa Istanbul: 10:00-18:00 Europe/Istanbul, Monday to Friday.
std::optional<market_hours> bist_hours(
  const std::string& dir = "/usr/share/zoneinfo");

} // namespace csp::actors
