#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace csp::messages {

/// One failed data-quality check. `check_type` is the stable name used as
/// the `check_type` label of data_quality_checks_failed_total: one of
/// "invalid_value", "duplicate", "id_gap", "stale_feed", "price_anomaly",
/// "volume_anomaly", "timestamp_skew".
struct quality_issue {
  std::string check_type;
  /// Human-readable detail, e.g. "price 0 <= 0" or "ids 101..104 missing".
  std::string detail;
  /// Trade id concerned, or -1.
  std::int64_t trade_id = -1;
  /// When the issue was detected, ms since the epoch (UTC).
  std::int64_t time_ms = 0;

  friend bool operator==(const quality_issue& x, const quality_issue& y) {
    return x.check_type == y.check_type && x.detail == y.detail
      && x.trade_id == y.trade_id && x.time_ms == y.time_ms;
  }
  friend bool operator!=(const quality_issue& x, const quality_issue& y) {
    return !(x == y);
  }
};

/// Count of failed checks of one type within the report's window.
struct quality_check_count {
  std::string check_type;
  std::int64_t failed = 0;

  friend bool operator==(
    const quality_check_count& x, const quality_check_count& y) {
    return x.check_type == y.check_type && x.failed == y.failed;
  }
  friend bool operator!=(
    const quality_check_count& x, const quality_check_count& y) {
    return !(x == y);
  }
};

/// Data-quality score of one instrument over a sliding window.
struct quality_report {
  std::string exchange;
  std::string symbol;
  /// End of the window, ms since the epoch (UTC).
  std::int64_t time_ms = 0;
  /// Length of the sliding window in ms.
  std::int64_t window_ms = 0;
  /// 0 (unusable) to 100 (no failed check).
  double score = 100.0;
  /// Trades (or candles) examined in the window.
  std::int64_t observations = 0;
  /// Failed checks in the window, one entry per check_type that failed.
  std::vector<quality_check_count> failed_checks;
  /// The most recent issues (bounded), newest last.
  std::vector<quality_issue> recent_issues;

  friend bool operator==(const quality_report& x, const quality_report& y) {
    return x.exchange == y.exchange && x.symbol == y.symbol
      && x.time_ms == y.time_ms && x.window_ms == y.window_ms
      && x.score == y.score && x.observations == y.observations
      && x.failed_checks == y.failed_checks
      && x.recent_issues == y.recent_issues;
  }
  friend bool operator!=(const quality_report& x, const quality_report& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
