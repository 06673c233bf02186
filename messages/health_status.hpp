#pragma once

#include <cstdint>
#include <string>

namespace csp::messages {

/// Health of one component, reported to the health aggregator (and written
/// to Redis `system:health`).
struct health_status {
  /// Component name, e.g. "collector.binance-0", "pg_writer.1".
  std::string component;
  /// "healthy", "degraded" or "unhealthy".
  std::string status;
  /// Human-readable detail, e.g. "circuit open since 10:30:45".
  std::string detail;
  /// When the status was observed, ms since the epoch (UTC).
  std::int64_t time_ms = 0;

  friend bool operator==(const health_status& x, const health_status& y) {
    return x.component == y.component && x.status == y.status
      && x.detail == y.detail && x.time_ms == y.time_ms;
  }
  friend bool operator!=(const health_status& x, const health_status& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
