#pragma once

// The catalogue of every metric the platform exports: one table holding
// each family's name, type, help text, label names and histogram buckets.
// The metrics actor registers families from it and validates every update
// against it; docs/METRICS.md is rendered from it. Pure: no CAF, no
// prometheus-cpp.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace csp::monitoring {

/// The Prometheus type of a metric family.
enum class metric_type : std::uint8_t { counter, gauge, histogram };

/// Label of a metric_type: "counter", "gauge", "histogram".
constexpr std::string_view to_string(metric_type t) noexcept {
  switch (t) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
  }
  return "?";
}

/// Who writes a metric family.
enum class metric_source : std::uint8_t {
  /// Changed through metric_update batches.
  updates,
  /// Read from /proc/self on each scrape; updates are rejected.
  process,
};

/// One metric family of the catalogue.
struct metric_spec {
  /// Family name, e.g. "trades_received_total".
  std::string_view name;
  metric_type type = metric_type::counter;
  /// The # HELP text.
  std::string_view help;
  /// Label names, in the order they are documented and registered.
  std::vector<std::string_view> labels;
  /// Upper bounds of the histogram buckets in seconds (ascending; +Inf is
  /// implicit). Empty for counters and gauges.
  std::vector<double> buckets;
  metric_source source = metric_source::updates;
};

/// Returns the catalogue, ordered by subsystem.
const std::vector<metric_spec>& metric_catalogue();

/// Returns the catalogue entry named `name`, or nullptr.
const metric_spec* find_metric(std::string_view name) noexcept;

/// Returns the index of `label` in `spec.labels`, or -1.
std::ptrdiff_t label_index(
  const metric_spec& spec, std::string_view label) noexcept;

/// Formats a bucket bound the shortest way that reads back exactly, e.g.
/// "0.0005" or "1".
std::string format_bound(double bound);

/// Renders the catalogue as a Markdown table (header line first, one row
/// per family, each line ending in '\n').
std::string render_metrics_table();

/// Marker line opening the generated table in docs/METRICS.md.
inline constexpr std::string_view metrics_table_begin
  = "<!-- BEGIN GENERATED METRICS TABLE (csp-metrics-doc) -->";

/// Marker line closing the generated table in docs/METRICS.md.
inline constexpr std::string_view metrics_table_end
  = "<!-- END GENERATED METRICS TABLE -->";

/// Returns the text between the table markers of `document` (without the
/// marker lines), or an empty string when a marker is missing.
std::string extract_metrics_table(std::string_view document);

/// Returns `document` with the text between the markers replaced by
/// `table`; an empty string when a marker is missing.
std::string replace_metrics_table(
  std::string_view document, std::string_view table);

} // namespace csp::monitoring
