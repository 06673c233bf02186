#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csp::messages {

/// How a metric_entry changes its metric.
enum class metric_kind : std::uint8_t {
  /// Adds `value` (>= 0) to a counter.
  counter_add = 0,
  /// Sets a gauge to `value`.
  gauge_set = 1,
  /// Adds `value` (may be negative) to a gauge.
  gauge_add = 2,
  /// Records one observation `value` in a histogram.
  histogram_observe = 3,
};

/// Label of a metric_kind: "counter_add", "gauge_set", "gauge_add",
/// "histogram_observe".
constexpr std::string_view to_string(metric_kind k) noexcept {
  switch (k) {
    case metric_kind::counter_add:
      return "counter_add";
    case metric_kind::gauge_set:
      return "gauge_set";
    case metric_kind::gauge_add:
      return "gauge_add";
    case metric_kind::histogram_observe:
      return "histogram_observe";
  }
  return "?";
}

/// One change of one metric series.
struct metric_entry {
  metric_kind kind = metric_kind::counter_add;
  /// Metric family name, e.g. "trades_processed_total".
  std::string name;
  /// Label name/value pairs identifying the series, e.g. {"symbol","BTCUSDT"}.
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0.0;

  friend bool operator==(const metric_entry& x, const metric_entry& y) {
    return x.kind == y.kind && x.name == y.name && x.labels == y.labels
      && x.value == y.value;
  }
  friend bool operator!=(const metric_entry& x, const metric_entry& y) {
    return !(x == y);
  }
};

/// A batch of metric changes sent to the node's metrics actor, which owns
/// the Prometheus registry. Components accumulate locally and flush on a tick.
struct metric_update {
  std::vector<metric_entry> entries;

  friend bool operator==(const metric_update& x, const metric_update& y) {
    return x.entries == y.entries;
  }
  friend bool operator!=(const metric_update& x, const metric_update& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
