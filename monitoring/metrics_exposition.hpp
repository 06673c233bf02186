#pragma once

// The text exposition (Prometheus text format 0.0.4) of the node's series:
// per catalogue family, the series with their label sets rendered once,
// from which render() writes # HELP, # TYPE and the samples straight into
// one buffer, reading each value from its prometheus-cpp metric. Shared by
// the metrics store (which lists each series it creates) and whoever
// serves /metrics; thread-safe. No CAF here.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "monitoring/metrics_catalogue.hpp"

namespace prometheus {
class Registry;
} // namespace prometheus

namespace csp::monitoring {

/// Appends `value` as a sample value of the text format: the shortest
/// decimal that reads back as exactly `value`, "NaN", "+Inf" or "-Inf".
void append_sample_value(std::string& out, double value);

/// Appends `value` escaped as a label value of the text format (the
/// quotes not included): backslash, double quote and line feed become
/// `\\`, `\"` and `\n`.
void append_label_value(std::string& out, std::string_view value);

/// Appends the `# HELP` and `# TYPE` lines of a family; backslash and line
/// feed in `help` are escaped.
void append_family_header(std::string& out, std::string_view name,
  std::string_view help, metric_type type);

/// The series of one registry's catalogue families, in the order they
/// were listed, and their rendering. Thread-safe: the metrics actor lists
/// series while any thread renders. Keep it next to the registry (it
/// keeps the registry alive) so that a restarted metrics actor finds it.
class metrics_exposition {
public:
  /// An exposition of the series `registry` will hold.
  explicit metrics_exposition(std::shared_ptr<prometheus::Registry> registry);

  ~metrics_exposition();

  metrics_exposition(const metrics_exposition&) = delete;
  metrics_exposition& operator=(const metrics_exposition&) = delete;

  /// The registry whose series are listed.
  const std::shared_ptr<prometheus::Registry>& registry() const noexcept {
    return registry_;
  }

  /// Lists `metric` (a prometheus::Counter, Gauge or Histogram of the
  /// registry, of the type of catalogue entry `family`) with `labels`,
  /// unless it is listed already. Returns whether it was new.
  bool list(size_t family, const std::map<std::string, std::string>& labels,
    const void* metric);

  /// Renders every listed series and the process_* families as text
  /// exposition, into one buffer reserved from the previous rendering's
  /// size. Families without a series are left out.
  std::string render() const;

  /// Number of listed series.
  size_t size() const;

private:
  struct listed_series {
    /// The label pairs sorted by name, escaped, without braces, e.g.
    /// `exchange="binance",symbol="BTCUSDT"`; empty without labels.
    std::string labels;
    const void* metric = nullptr;
  };

  void render_histograms(std::string& out, size_t family) const;

  std::shared_ptr<prometheus::Registry> registry_;
  /// The `le` label values of each histogram family's buckets, "+Inf"
  /// last, by catalogue index (prometheus-cpp's spelling, e.g. "0.0005").
  /// Constant after construction.
  std::vector<std::vector<std::string>> bucket_labels_;
  mutable std::mutex mutex_;
  /// Series by catalogue index. Guarded by mutex_.
  std::vector<std::vector<listed_series>> listed_;
  /// Every listed metric. Guarded by mutex_.
  std::unordered_set<const void*> listed_set_;
  /// Size of the previous rendering. Guarded by mutex_.
  mutable size_t last_size_ = 0;
};

} // namespace csp::monitoring
