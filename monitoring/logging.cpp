#include "monitoring/logging.hpp"

#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "monitoring/daily_file_sink.hpp"

namespace csp::monitoring {

namespace {

using buffer = spdlog::memory_buf_t;

/// The context fields of the event being logged on this thread.
thread_local const log_field* current_fields = nullptr;
thread_local std::size_t current_field_count = 0;

spdlog::level::level_enum to_spdlog(config::log_level level) noexcept {
  switch (level) {
    case config::log_level::debug:
      return spdlog::level::debug;
    case config::log_level::info:
      return spdlog::level::info;
    case config::log_level::warning:
      return spdlog::level::warn;
    case config::log_level::error:
      return spdlog::level::err;
    case config::log_level::critical:
      return spdlog::level::critical;
  }
  return spdlog::level::info;
}

std::string_view spdlog_level_name(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "DEBUG";
    case spdlog::level::info:
      return "INFO";
    case spdlog::level::warn:
      return "WARNING";
    case spdlog::level::err:
      return "ERROR";
    case spdlog::level::critical:
      return "CRITICAL";
    default:
      return "INFO";
  }
}

void append(buffer& dest, std::string_view str) {
  dest.append(str.data(), str.data() + str.size());
}

/// Length of the valid UTF-8 sequence starting at `i`, or 0 if invalid.
std::size_t utf8_sequence_length(std::string_view str, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(str[k]); };
  auto c = byte(i);
  std::size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0; // overlong
    else if (c == 0xED)
      hi = 0x9F; // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > str.size())
    return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi)
    return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF)
      return 0;
  return len;
}

/// Appends `str` as a quoted JSON string.
void append_json_string(buffer& dest, std::string_view str) {
  static constexpr char hex[] = "0123456789abcdef";
  dest.push_back('"');
  std::size_t i = 0;
  while (i < str.size()) {
    auto c = static_cast<unsigned char>(str[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          append(dest, "\\\"");
          break;
        case '\\':
          append(dest, "\\\\");
          break;
        case '\n':
          append(dest, "\\n");
          break;
        case '\r':
          append(dest, "\\r");
          break;
        case '\t':
          append(dest, "\\t");
          break;
        case '\b':
          append(dest, "\\b");
          break;
        case '\f':
          append(dest, "\\f");
          break;
        default:
          if (c < 0x20) {
            char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            dest.append(esc, esc + sizeof(esc));
          } else {
            dest.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    if (auto len = utf8_sequence_length(str, i); len > 0) {
      dest.append(str.data() + i, str.data() + i + len);
      i += len;
    } else {
      append(dest, "\\ufffd");
      ++i;
    }
  }
  dest.push_back('"');
}

/// Appends a double so that it reads back as a number with a fraction or
/// exponent (50000 -> 50000.0); null if not finite.
void append_double(buffer& dest, double x) {
  if (!std::isfinite(x)) {
    append(dest, "null");
    return;
  }
  auto start = dest.size();
  fmt::format_to(std::back_inserter(dest), "{}", x);
  std::string_view written{dest.data() + start, dest.size() - start};
  if (written.find_first_of(".e") == std::string_view::npos)
    append(dest, ".0");
}

void append_value(buffer& dest, const log_field& f, bool json) {
  switch (f.type()) {
    case log_field::kind::string:
      if (json)
        append_json_string(dest, f.as_string());
      else
        append(dest, f.as_string());
      break;
    case log_field::kind::int64:
      append(dest, fmt::format_int(f.as_int64()).c_str());
      break;
    case log_field::kind::uint64:
      append(dest, fmt::format_int(f.as_uint64()).c_str());
      break;
    case log_field::kind::float64:
      append_double(dest, f.as_double());
      break;
    case log_field::kind::boolean:
      append(dest, f.as_bool() ? "true" : "false");
      break;
  }
}

/// Writes "2024-01-15T10:30:45.123Z".
void append_timestamp(buffer& dest, spdlog::log_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto secs = ms / 1000;
  auto frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  auto tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  fmt::format_to(std::back_inserter(dest),
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900,
    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
    static_cast<int>(frac));
}

bool is_reserved_key(std::string_view key) {
  return key == "timestamp" || key == "level" || key == "logger"
    || key == "message";
}

class json_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, buffer& dest) override {
    append(dest, "{\"timestamp\":\"");
    append_timestamp(dest, msg.time);
    append(dest, "\",\"level\":\"");
    append(dest, spdlog_level_name(msg.level));
    append(dest, "\",\"logger\":");
    append_json_string(dest, {msg.logger_name.data(), msg.logger_name.size()});
    append(dest, ",\"message\":");
    append_json_string(dest, {msg.payload.data(), msg.payload.size()});
    for (std::size_t i = 0; i < current_field_count; ++i) {
      auto& f = current_fields[i];
      dest.push_back(',');
      if (is_reserved_key(f.key())) {
        // Never shadow the fixed keys: {"level": ...} becomes "ctx_level".
        std::string_view prefix = "ctx_";
        char key[128];
        auto n = std::min(f.key().size(), sizeof(key) - prefix.size());
        std::copy(prefix.begin(), prefix.end(), key);
        std::copy(f.key().begin(), f.key().begin() + static_cast<long>(n),
          key + prefix.size());
        append_json_string(dest, {key, prefix.size() + n});
      } else {
        append_json_string(dest, f.key());
      }
      dest.push_back(':');
      append_value(dest, f, true);
    }
    append(dest, "}\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

class text_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, buffer& dest) override {
    append_timestamp(dest, msg.time);
    dest.push_back(' ');
    append(dest, spdlog_level_name(msg.level));
    dest.push_back(' ');
    append(dest, {msg.logger_name.data(), msg.logger_name.size()});
    append(dest, ": ");
    append(dest, {msg.payload.data(), msg.payload.size()});
    for (std::size_t i = 0; i < current_field_count; ++i) {
      auto& f = current_fields[i];
      dest.push_back(' ');
      append(dest, f.key());
      dest.push_back('=');
      append_value(dest, f, f.type() == log_field::kind::string);
    }
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<text_formatter>();
  }
};

/// The installed sinks and level, shared by every logger of get_logger.
struct registry {
  std::mutex mtx;
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::level::level_enum level = spdlog::level::info;
  /// The daily file sink among `sinks`, if any.
  std::shared_ptr<daily_file_sink> file;
  std::unordered_map<std::string, std::shared_ptr<spdlog::logger>> loggers;
};

registry& reg() {
  static registry instance;
  return instance;
}

/// Restores the thread's previous field list on exit (nested logging from
/// a sink is harmless).
struct field_scope {
  const log_field* prev_fields;
  std::size_t prev_count;
  field_scope(const log_field* fields, std::size_t count)
      : prev_fields(current_fields), prev_count(current_field_count) {
    current_fields = fields;
    current_field_count = count;
  }
  ~field_scope() {
    current_fields = prev_fields;
    current_field_count = prev_count;
  }
  field_scope(const field_scope&) = delete;
  field_scope& operator=(const field_scope&) = delete;
};

} // namespace

std::string_view level_name(config::log_level level) noexcept {
  return spdlog_level_name(to_spdlog(level));
}

bool enabled(const spdlog::logger& logger, config::log_level level) noexcept {
  return logger.should_log(to_spdlog(level));
}

void log_event(spdlog::logger& logger, config::log_level level,
  std::string_view message, std::initializer_list<log_field> fields) {
  auto lvl = to_spdlog(level);
  if (!logger.should_log(lvl))
    return;
  field_scope scope{fields.begin(), fields.size()};
  logger.log(lvl, spdlog::string_view_t{message.data(), message.size()});
}

std::unique_ptr<spdlog::formatter> make_json_formatter() {
  return std::make_unique<json_formatter>();
}

std::unique_ptr<spdlog::formatter> make_text_formatter() {
  return std::make_unique<text_formatter>();
}

log_setup make_log_setup(
  const config::log_config& cfg, std::string_view node_name) {
  log_setup result;
  result.level = cfg.level;
  result.dir = cfg.dir;
  result.fallback_prefix = result.file_prefix;
  result.fallback_prefix += '-';
  result.fallback_prefix
    += node_name.empty() ? std::string_view{"csp"} : node_name;
  result.retention_days = cfg.retention_days;
  result.json_file = cfg.json;
  return result;
}

namespace {

/// The daily file sink of `setup` with `prefix`.
std::shared_ptr<daily_file_sink> make_file_sink(
  const log_setup& setup, const std::string& prefix) {
  daily_file_options opts;
  opts.dir = setup.dir;
  opts.prefix = prefix;
  opts.retention_days = setup.retention_days;
  opts.clock = setup.clock;
  return std::make_shared<daily_file_sink>(std::move(opts));
}

} // namespace

void init_logging(const log_setup& setup) {
  std::vector<spdlog::sink_ptr> sinks;
  if (setup.console) {
    auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    console->set_formatter(make_text_formatter());
    sinks.push_back(std::move(console));
  }
  std::shared_ptr<daily_file_sink> file;
  bool fell_back = false;
  if (!setup.dir.empty()) {
    // Release the files of an earlier set-up first (their lock too).
    {
      auto& r = reg();
      std::lock_guard<std::mutex> guard{r.mtx};
      if (r.file) {
        r.file->flush();
        for (auto& [name, logger] : r.loggers)
          logger->sinks().clear();
        if (auto def = spdlog::default_logger())
          def->sinks().clear();
        r.sinks.clear();
        r.file.reset();
      }
    }
    try {
      file = make_file_sink(setup, setup.file_prefix);
    } catch (const log_dir_in_use&) {
      if (setup.fallback_prefix.empty()
        || setup.fallback_prefix == setup.file_prefix)
        throw;
      file = make_file_sink(setup, setup.fallback_prefix);
      fell_back = true;
    }
    file->set_formatter(
      setup.json_file ? make_json_formatter() : make_text_formatter());
    sinks.push_back(file);
  }
  auto& r = reg();
  {
    std::lock_guard<std::mutex> guard{r.mtx};
    r.sinks = std::move(sinks);
    r.file = file;
    r.level = to_spdlog(setup.level);
    for (auto& [name, logger] : r.loggers) {
      logger->sinks() = r.sinks;
      logger->set_level(r.level);
      logger->flush_on(spdlog::level::warn);
    }
    auto def
      = std::make_shared<spdlog::logger>("csp", r.sinks.begin(), r.sinks.end());
    def->set_level(r.level);
    def->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(def));
  }
  if (fell_back)
    log_event(*spdlog::default_logger(), config::log_level::warning,
      "log directory shared with another process; using another file prefix",
      {{"dir", setup.dir}, {"prefix", setup.fallback_prefix}});
}

void init_logging(const config::log_config& cfg, std::string_view node_name) {
  init_logging(make_log_setup(cfg, node_name));
}

std::shared_ptr<spdlog::logger> get_logger(std::string_view name) {
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  std::string key{name};
  if (auto i = r.loggers.find(key); i != r.loggers.end())
    return i->second;
  auto logger
    = std::make_shared<spdlog::logger>(key, r.sinks.begin(), r.sinks.end());
  logger->set_level(r.level);
  logger->flush_on(spdlog::level::warn);
  r.loggers.emplace(std::move(key), logger);
  return logger;
}

std::string log_file_path() {
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  return r.file ? r.file->current_path() : std::string{};
}

void shutdown_logging() {
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  for (auto& [name, logger] : r.loggers) {
    logger->flush();
    logger->sinks().clear();
  }
  r.loggers.clear();
  r.sinks.clear();
  r.file.reset();
  spdlog::shutdown();
}

} // namespace csp::monitoring
