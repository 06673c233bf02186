#pragma once

// Proleptic Gregorian calendar arithmetic on UTC day numbers, UTC
// timestamps as text, and the clocks the actors read. No time zone database
// here (see actors/market_hours).

#include <cstddef>
#include <cstdint>
#include <string>

namespace csp::messages {

/// A civil (proleptic Gregorian) date.
struct civil_date {
  int year = 1970;
  int month = 1;
  int day = 1;
};

/// Returns the date of day number `days` since 1970-01-01.
civil_date civil_from_days(std::int64_t days) noexcept;

/// Returns the day number since 1970-01-01 of a date.
std::int64_t days_from_civil(int year, int month, int day) noexcept;

/// Characters of format_utc_ms's text (without the terminating NUL).
inline constexpr std::size_t utc_ms_text_size = 26;

/// Writes `ms` since the epoch as "YYYY-MM-DD HH:MM:SS.mmm+00" (26
/// characters, PostgreSQL's timestamptz input form) and a NUL to `buf`,
/// which must hold utc_ms_text_size + 1 characters.
/// Years outside 0000..9999 are clamped into that range.
void format_utc_ms(std::int64_t ms, char* buf) noexcept;

/// format_utc_ms as a string.
std::string utc_ms_text(std::int64_t ms);

/// The wall clock (std::chrono::system_clock) in ms since the epoch.
std::int64_t wall_clock_ms() noexcept;

/// A monotonic clock (std::chrono::steady_clock) in ms, for timeouts and
/// durations; its epoch is unspecified.
std::int64_t steady_clock_ms() noexcept;

/// The same monotonic clock in ns.
std::int64_t steady_clock_ns() noexcept;

} // namespace csp::messages
