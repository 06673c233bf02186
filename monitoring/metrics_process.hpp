#pragma once

// Process statistics of the running process, read from /proc/self, and the
// prometheus-cpp Collectable that exports them on each scrape.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace csp::monitoring {

/// The fields of /proc/<pid>/stat the process metrics need.
struct proc_stat_fields {
  /// User-mode CPU time in clock ticks (field 14).
  std::uint64_t utime_ticks = 0;
  /// Kernel-mode CPU time in clock ticks (field 15).
  std::uint64_t stime_ticks = 0;
  /// Start time after boot in clock ticks (field 22).
  std::uint64_t start_ticks = 0;
  /// Resident set size in pages (field 24).
  std::int64_t rss_pages = 0;
};

/// Parses one /proc/<pid>/stat line. The command name (field 2) may hold
/// spaces and parentheses; parsing resumes after its last ')'.
std::optional<proc_stat_fields> parse_proc_stat(std::string_view line);

/// Returns the `btime` value (boot time, seconds since the epoch) of a
/// /proc/stat text.
std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat);

/// A sample of the process metrics.
struct process_stats {
  double resident_memory_bytes = 0.0;
  double cpu_seconds = 0.0;
  double start_time_seconds = 0.0;
  /// Negative when /proc/self/fd cannot be read.
  double open_fds = -1.0;
};

/// Reads the current process's statistics; std::nullopt when
/// /proc/self/stat is unreadable (not Linux).
std::optional<process_stats> read_process_stats();

/// Exports process_resident_memory_bytes, process_cpu_seconds_total,
/// process_start_time_seconds and process_open_fds, read fresh on every
/// Collect() (that is, on every scrape). Thread-safe.
class process_collector : public prometheus::Collectable {
public:
  /// Returns the four families, or none when /proc is unavailable.
  std::vector<prometheus::MetricFamily> Collect() const override;
};

} // namespace csp::monitoring
