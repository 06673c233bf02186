#pragma once

// Structured logging: one JSON object per line ({"timestamp", "level",
// "logger", "message", ...context fields}) in the daily log file (rotated
// at midnight UTC, gzipped, expired: daily_file_sink.hpp) and a readable
// line on the console, both through spdlog.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "config/config.hpp"
#include "monitoring/log_files.hpp"

namespace spdlog {
class logger;
class formatter;
} // namespace spdlog

namespace csp::monitoring {

/// One typed context field of a log event, e.g. {"symbol", "BTCUSDT"} or
/// {"price", 50000.0}. Holds views only: it never allocates.
class log_field {
public:
  /// The type of the value.
  enum class kind : std::uint8_t { string, int64, uint64, float64, boolean };

  log_field(std::string_view key, std::string_view value) noexcept
      : key_(key), kind_(kind::string), str_(value) {}

  log_field(std::string_view key, const char* value) noexcept
      : log_field(key, std::string_view{value}) {}

  log_field(std::string_view key, const std::string& value) noexcept
      : log_field(key, std::string_view{value}) {}

  log_field(std::string_view key, bool value) noexcept
      : key_(key), kind_(kind::boolean), bool_(value) {}

  log_field(std::string_view key, double value) noexcept
      : key_(key), kind_(kind::float64), double_(value) {}

  log_field(std::string_view key, float value) noexcept
      : log_field(key, static_cast<double>(value)) {}

  /// Any integer except bool and char types.
  template <class T,
    std::enable_if_t<
      std::is_integral_v<
        T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>,
      int> = 0>
  log_field(std::string_view key, T value) noexcept : key_(key) {
    if constexpr (std::is_signed_v<T>) {
      kind_ = kind::int64;
      int_ = static_cast<std::int64_t>(value);
    } else {
      kind_ = kind::uint64;
      uint_ = static_cast<std::uint64_t>(value);
    }
  }

  std::string_view key() const noexcept { return key_; }
  kind type() const noexcept { return kind_; }
  std::string_view as_string() const noexcept { return str_; }
  std::int64_t as_int64() const noexcept { return int_; }
  std::uint64_t as_uint64() const noexcept { return uint_; }
  double as_double() const noexcept { return double_; }
  bool as_bool() const noexcept { return bool_; }

private:
  std::string_view key_;
  kind kind_ = kind::string;
  std::string_view str_;
  union {
    std::int64_t int_ = 0;
    std::uint64_t uint_;
    double double_;
    bool bool_;
  };
};

/// The level name written to the log: DEBUG, INFO, WARNING, ERROR, CRITICAL.
std::string_view level_name(config::log_level level) noexcept;

/// Returns whether `logger` would write an event of `level`.
bool enabled(const spdlog::logger& logger, config::log_level level) noexcept;

/// Writes one event with context fields. Does nothing (and allocates
/// nothing) when `level` is disabled for `logger`. Fields reach the
/// formatters through the calling thread, so loggers must be synchronous
/// (all loggers made by get_logger are).
void log_event(spdlog::logger& logger, config::log_level level,
  std::string_view message, std::initializer_list<log_field> fields = {});

/// A formatter writing one JSON object per line: "timestamp" (ISO-8601 UTC
/// with milliseconds and Z), "level", "logger", "message", then the
/// context fields. Strings are JSON-escaped; invalid UTF-8 becomes U+FFFD;
/// non-finite doubles become null.
std::unique_ptr<spdlog::formatter> make_json_formatter();

/// A formatter for humans: `<timestamp> <LEVEL> <logger>: <message>
/// key=value ...`.
std::unique_ptr<spdlog::formatter> make_text_formatter();

/// Where and how to log.
struct log_setup {
  config::log_level level = config::log_level::info;
  /// Directory of the daily files `<file_prefix>_YYYY-MM-DD.log` (see
  /// daily_file_sink); empty for no file.
  std::string dir;
  /// File name prefix.
  std::string file_prefix = "app";
  /// Used instead of file_prefix when another process already writes
  /// file_prefix's files in `dir`; empty: fail instead.
  std::string fallback_prefix;
  /// Days of files kept before today; 0 keeps all.
  std::int64_t retention_days = 30;
  /// JSON lines in the file (else the text format).
  bool json_file = true;
  /// A text sink on stderr.
  bool console = true;
  /// "Today" for the file maintenance; empty: the system clock.
  wall_clock_fn clock;
};

/// The set-up for a node: daily files `app_YYYY-MM-DD.log` in `cfg.dir`
/// (`app-<node_name>_...` when another node already writes `app_` files
/// there), level, format and retention from the `log` section.
log_setup make_log_setup(
  const config::log_config& cfg, std::string_view node_name);

/// Installs the sinks and level for every logger made by get_logger (also
/// those made before) and as spdlog's default logger. Throws
/// spdlog::spdlog_ex if the log directory or file cannot be created, or
/// log_dir_in_use if it is taken and there is no usable fallback prefix.
void init_logging(const log_setup& setup);

/// Same as init_logging(make_log_setup(cfg, node_name)).
void init_logging(const config::log_config& cfg, std::string_view node_name);

/// Returns the logger named `name` (e.g. "collectors.binance"), created on
/// first use with the installed sinks. Resolve it once, not per event.
std::shared_ptr<spdlog::logger> get_logger(std::string_view name);

/// The file log lines go to now (changes at midnight UTC); empty when no
/// file is installed.
std::string log_file_path();

/// Flushes and drops all loggers and sinks.
void shutdown_logging();

} // namespace csp::monitoring
