#pragma once

// An spdlog sink writing one file per UTC day, `<dir>/<prefix>_YYYY-MM-DD.log`,
// that gzips finished days and deletes files past the retention (see
// log_files.hpp for the names and rules).

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/common.h>
#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>

#include "monitoring/log_files.hpp"

namespace csp::monitoring {

/// Settings of a daily_file_sink.
struct daily_file_options {
  /// Directory of the files, created if missing; relative to the working
  /// directory at construction.
  std::string dir = "logs";
  /// File names are `<prefix>_YYYY-MM-DD.log`.
  std::string prefix = "app";
  /// Files of days more than this many days before today are deleted;
  /// 0 keeps every file.
  std::int64_t retention_days = 30;
  /// "Today" at start-up and for maintain(); empty: the system clock.
  wall_clock_fn clock;
  /// Compress and delete on the sink's own thread (which also flushes
  /// every flush_interval and calls maintain()); false: inline, while the
  /// line that crossed midnight is being written (for tests).
  bool background = true;
  /// How often the background thread flushes and checks the clock.
  std::chrono::milliseconds flush_interval{1000};
};

/// Thrown when another sink (in this or another process) already writes
/// `prefix`'s files in the directory.
class log_dir_in_use : public spdlog::spdlog_ex {
public:
  using spdlog::spdlog_ex::spdlog_ex;
};

/// A sink writing each line into the file of its own timestamp's UTC day,
/// so the last line of day N is in file N and the first line of day N+1 in
/// file N+1. Lines never go back to an earlier day's file: a line stamped
/// before the open file's day (threads racing at midnight) is appended to
/// the open file. When a day ends, its file is closed and then gzipped to
/// `.log.gz`; on construction the plain files of earlier days (a node that
/// was down at midnight) are gzipped too. Formats synchronously on the
/// logging thread, so the per-thread fields of log_event reach it.
class daily_file_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  /// Creates the directory, takes `<dir>/<prefix>.lock`, opens today's
  /// file and starts the maintenance of earlier days. Throws
  /// log_dir_in_use if the lock is held, spdlog::spdlog_ex if the
  /// directory or file cannot be created.
  explicit daily_file_sink(daily_file_options options);

  /// Finishes pending maintenance, then closes the file.
  ~daily_file_sink() override;

  daily_file_sink(const daily_file_sink&) = delete;
  daily_file_sink& operator=(const daily_file_sink&) = delete;

  /// The file lines are appended to now (an absolute path).
  std::string current_path();

  /// Closes the open file if the clock has passed its day (a quiet node
  /// still rotates at midnight) and then compresses and deletes as due.
  void maintain();

  /// Blocks until the maintenance asked for so far has been carried out.
  void wait_idle();

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

private:
  struct worker;

  std::chrono::system_clock::time_point now() const;

  /// Closes the open file and moves on to `day`. Needs mutex_.
  void rotate_to(std::int64_t day);

  /// Compresses and deletes as due on `today` (on the worker or inline).
  void request_maintenance(std::int64_t today);

  /// Runs maintain_log_dir and reports its errors on stderr.
  void run_maintenance(std::int64_t today) const noexcept;

  /// The background thread's timer: flush, then maintain().
  void tick() noexcept;

  std::string path_of(std::int64_t day) const;

  daily_file_options options_;
  int lock_fd_ = -1;
  spdlog::details::file_helper file_;
  bool file_open_ = false;
  std::int64_t day_ = 0;
  /// Start of day_ + 1: the first timestamp that needs a new file.
  spdlog::log_clock::time_point next_day_start_;
  std::unique_ptr<worker> worker_;
};

} // namespace csp::monitoring
