#pragma once

#include <cstdint>
#include <string>

#include "messages/trade.hpp"

namespace csp::messages {

/// A trade a bar builder could not apply (older than the allowed lateness),
/// recorded so that it is counted and stored instead of silently lost.
struct late_trade {
  std::string exchange;
  std::string symbol;
  trade tr;
  /// Why it was not applied, e.g. "beyond_allowed_lateness".
  std::string reason;
  /// When it was detected, ms since the epoch (UTC).
  std::int64_t detected_time_ms = 0;

  friend bool operator==(const late_trade& x, const late_trade& y) {
    return x.exchange == y.exchange && x.symbol == y.symbol && x.tr == y.tr
      && x.reason == y.reason && x.detected_time_ms == y.detected_time_ms;
  }
  friend bool operator!=(const late_trade& x, const late_trade& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
