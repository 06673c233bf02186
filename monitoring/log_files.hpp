#pragma once

// The daily log files of one directory: `<prefix>_YYYY-MM-DD.log` (UTC
// date) while written, `<prefix>_YYYY-MM-DD.log.gz` once the day is over,
// deleted after the retention. The names and the plan of what to compress
// and delete are pure functions; gzip_file and maintain_log_dir do the file
// work.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace csp::monitoring {

/// A wall clock (std::chrono::system_clock::now in production), injected
/// so tests can move time across midnight.
using wall_clock_fn = std::function<std::chrono::system_clock::time_point()>;

/// The UTC day number (days since 1970-01-01) of `t`.
std::int64_t utc_day(std::chrono::system_clock::time_point t) noexcept;

/// The kinds of files a log directory holds for one day.
enum class log_file_kind : std::uint8_t {
  /// `.log`: written, or left plain by a node that stopped before midnight.
  plain,
  /// `.log.gz`: a finished day.
  gzip,
  /// `.log.gz.tmp`: a compression in progress (or cut short by a crash).
  partial,
};

/// A parsed daily log file name.
struct log_file_info {
  std::int64_t day = 0;
  log_file_kind kind = log_file_kind::plain;
};

/// Returns `<prefix>_YYYY-MM-DD.log` (plus `.gz` or `.gz.tmp` by kind).
std::string daily_log_name(std::string_view prefix, std::int64_t day,
  log_file_kind kind = log_file_kind::plain);

/// Parses a name made by daily_log_name for `prefix`; std::nullopt for any
/// other name (other prefixes, invalid dates, other suffixes).
std::optional<log_file_info> parse_daily_log_name(
  std::string_view prefix, std::string_view name) noexcept;

/// What maintenance does in a log directory, as file names.
struct log_dir_plan {
  /// Plain files of days before today, within the retention.
  std::vector<std::string> compress;
  /// Files of days more than the retention before today (plain or gzip),
  /// and every partial compression (a crash leftover: its plain file is
  /// still there and is compressed again).
  std::vector<std::string> remove;
};

/// Plans the maintenance of a directory holding `names` on day `today`.
/// Only names of `prefix`'s pattern are touched. A file of day D is removed
/// when D < today - retention_days (retention_days 0 keeps every file).
/// Files of today or later are never touched. Both lists are sorted.
log_dir_plan plan_log_dir(std::string_view prefix,
  const std::vector<std::string>& names, std::int64_t today,
  std::int64_t retention_days);

/// Compresses `src` into `dst` in gzip format (readable by zcat): writes
/// `dst` + ".tmp", syncs it to disk, renames it to `dst` and only then
/// removes `src`, so a crash at any point leaves `src` or a complete
/// `dst`. Returns an error text, or an empty string on success.
std::string gzip_file(const std::string& src, const std::string& dst);

/// Result of maintain_log_dir.
struct log_dir_report {
  std::size_t compressed = 0;
  std::size_t removed = 0;
  /// One text per failed step; the files involved are left as they were.
  std::vector<std::string> errors;
};

/// Lists `dir`, plans with plan_log_dir and carries the plan out:
/// partial leftovers and expired files are removed, then the plain files
/// of earlier days are compressed.
log_dir_report maintain_log_dir(const std::string& dir, std::string_view prefix,
  std::int64_t today, std::int64_t retention_days);

} // namespace csp::monitoring
