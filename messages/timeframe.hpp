#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace csp::messages {

/// The bar intervals the platform builds. All divide a UTC day, so every
/// bucket is aligned to the Unix epoch (4h bars open at 00/04/08/... UTC).
enum class timeframe : std::uint8_t { m1, m5, m15, h1, h4, d1 };

inline constexpr std::array<timeframe, 6> all_timeframes{timeframe::m1,
  timeframe::m5, timeframe::m15, timeframe::h1, timeframe::h4, timeframe::d1};

inline constexpr std::int64_t ms_per_minute = 60'000;
inline constexpr std::int64_t ms_per_day = 86'400'000;

/// Length of one bar in milliseconds.
constexpr std::int64_t duration_ms(timeframe tf) noexcept {
  switch (tf) {
    case timeframe::m1:
      return ms_per_minute;
    case timeframe::m5:
      return 5 * ms_per_minute;
    case timeframe::m15:
      return 15 * ms_per_minute;
    case timeframe::h1:
      return 60 * ms_per_minute;
    case timeframe::h4:
      return 240 * ms_per_minute;
    case timeframe::d1:
      return ms_per_day;
  }
  return ms_per_minute;
}

/// Open time of the bar that contains `t_ms` (floor, also before 1970).
constexpr std::int64_t bucket_open(std::int64_t t_ms, timeframe tf) noexcept {
  auto d = duration_ms(tf);
  auto r = t_ms % d;
  return r < 0 ? t_ms - r - d : t_ms - r;
}

/// Close time of the bar opening at `open_ms`: open + tf - 1 ms (Binance's
/// kline convention; the bar covers [open, open + tf)).
constexpr std::int64_t close_time(std::int64_t open_ms, timeframe tf) noexcept {
  return open_ms + duration_ms(tf) - 1;
}

/// Number of 1m bars in one bar of `tf`.
constexpr std::int64_t minutes_in(timeframe tf) noexcept {
  return duration_ms(tf) / ms_per_minute;
}

/// The label Binance and the API use: "1m", "5m", "15m", "1h", "4h", "1d".
constexpr std::string_view to_string(timeframe tf) noexcept {
  switch (tf) {
    case timeframe::m1:
      return "1m";
    case timeframe::m5:
      return "5m";
    case timeframe::m15:
      return "15m";
    case timeframe::h1:
      return "1h";
    case timeframe::h4:
      return "4h";
    case timeframe::d1:
      return "1d";
  }
  return "?";
}

/// Parses a label produced by to_string(); anything else is std::nullopt.
constexpr std::optional<timeframe> parse_timeframe(
  std::string_view s) noexcept {
  for (auto tf : all_timeframes)
    if (to_string(tf) == s)
      return tf;
  return std::nullopt;
}

} // namespace csp::messages
