#define CAF_SUITE logging
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include "monitoring/daily_file_sink.hpp"
#include "monitoring/logging.hpp"

// Counts heap allocations of this test binary.
namespace {
std::atomic<long> allocations{0};
} // namespace

// The replacement pairs malloc with free on purpose.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  ++allocations;
  if (auto p = std::malloc(n == 0 ? 1 : n))
    return p;
  throw std::bad_alloc{};
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

#pragma GCC diagnostic pop

using namespace csp::monitoring;
using csp::config::log_level;
using nlohmann::json;

namespace {

/// A logger writing JSON lines into a string stream.
struct capture {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger;

  explicit capture(const char* name, bool json_format = true) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
    sink->set_formatter(
      json_format ? make_json_formatter() : make_text_formatter());
    logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(spdlog::level::trace);
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in{out.str()};
    std::string line;
    while (std::getline(in, line))
      result.push_back(line);
    return result;
  }

  /// Parses the only line; fails the test if there is not exactly one.
  json single() const {
    auto ls = lines();
    CAF_REQUIRE_EQUAL(ls.size(), 1u);
    CAF_REQUIRE(json::accept(ls[0]));
    return json::parse(ls[0]);
  }
};

bool is_iso_utc_ms(const std::string& s) {
  // YYYY-MM-DDTHH:MM:SS.mmmZ
  const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() != shape.size())
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
      return false;
  }
  return true;
}

/// Logs the seed's example event ("Trade received" with four fields).
void log_seed_example(spdlog::logger& logger) {
  log_event(logger, log_level::info, "Trade received",
    {{"symbol", "BTCUSDT"}, {"price", 50000.0}, {"volume", 1.5},
      {"exchange", "binance"}});
}

/// Checks a parsed line of log_seed_example against the seed's example.
void check_seed_example(const json& j) {
  CAF_CHECK_EQUAL(j.size(), 8u);
  CAF_CHECK(is_iso_utc_ms(j.at("timestamp").get<std::string>()));
  CAF_CHECK_EQUAL(j.at("level").get<std::string>(), "INFO");
  CAF_CHECK_EQUAL(j.at("logger").get<std::string>(), "collectors.binance");
  CAF_CHECK_EQUAL(j.at("message").get<std::string>(), "Trade received");
  CAF_CHECK_EQUAL(j.at("symbol").get<std::string>(), "BTCUSDT");
  CAF_CHECK(j.at("price").is_number_float());
  CAF_CHECK_EQUAL(j.at("price").get<double>(), 50000.0);
  CAF_CHECK_EQUAL(j.at("volume").get<double>(), 1.5);
  CAF_CHECK_EQUAL(j.at("exchange").get<std::string>(), "binance");
}

} // namespace

CAF_TEST(the seed example) {
  capture cap{"collectors.binance"};
  log_seed_example(*cap.logger);
  auto j = cap.single();
  check_seed_example(j);
  // The key order follows the seed: timestamp, level, logger, message.
  auto line = cap.lines().at(0);
  CAF_CHECK_EQUAL(line.find("{\"timestamp\":"), 0u);
  CAF_CHECK(line.find("\"level\"") < line.find("\"logger\""));
  CAF_CHECK(line.find("\"logger\"") < line.find("\"message\""));
  CAF_CHECK(line.find("\"message\"") < line.find("\"symbol\""));
  CAF_CHECK(line.find("\"price\":50000.0") != std::string::npos);
}

CAF_TEST(timestamps are ISO - 8601 UTC with milliseconds) {
  auto fmt = make_json_formatter();
  auto at = [&](std::int64_t ms) {
    spdlog::log_clock::time_point t{std::chrono::milliseconds{ms}};
    spdlog::details::log_msg msg{
      t, spdlog::source_loc{}, "x", spdlog::level::info, "m"};
    spdlog::memory_buf_t buf;
    fmt->format(msg, buf);
    return json::parse(std::string{buf.data(), buf.size()})
      .at("timestamp")
      .get<std::string>();
  };
  // 1705314645 s is 2024-01-15 10:30:45 UTC (date -u -d @1705314645).
  CAF_CHECK_EQUAL(at(1'705'314'645'123), "2024-01-15T10:30:45.123Z");
  CAF_CHECK_EQUAL(at(1'705'314'645'007), "2024-01-15T10:30:45.007Z");
  CAF_CHECK_EQUAL(at(0), "1970-01-01T00:00:00.000Z");
  // 2000-02-29 23:59:59.999 UTC = 951868799 s.
  CAF_CHECK_EQUAL(at(951'868'799'999), "2000-02-29T23:59:59.999Z");
}

CAF_TEST(messages and fields are escaped) {
  capture cap{"api.\"server\""};
  const std::string tricky = "say \"hi\"\\ \n\tnext\r\x01\x1f end";
  const std::string unicode = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  log_event(*cap.logger, log_level::warning, tricky,
    {{"quote", "a\"b"}, {"unicode", unicode}, {"new\nline key", tricky},
      {"empty", ""}});
  auto j = cap.single();
  CAF_CHECK_EQUAL(j.at("message").get<std::string>(), tricky);
  CAF_CHECK_EQUAL(j.at("logger").get<std::string>(), "api.\"server\"");
  CAF_CHECK_EQUAL(j.at("quote").get<std::string>(), "a\"b");
  CAF_CHECK_EQUAL(j.at("unicode").get<std::string>(), unicode);
  CAF_CHECK_EQUAL(j.at("new\nline key").get<std::string>(), tricky);
  CAF_CHECK_EQUAL(j.at("empty").get<std::string>(), "");
  // The raw line has no control characters.
  auto line = cap.lines().at(0);
  for (char c : line)
    CAF_CHECK(static_cast<unsigned char>(c) >= 0x20);
}

CAF_TEST(invalid utf8 becomes the replacement character) {
  capture cap{"x"};
  const std::string bad = "a\xff"
                          "b\xc3"
                          "c\xed\xa0\x80";
  log_event(*cap.logger, log_level::error, bad, {{"v", bad}});
  auto j = cap.single();
  const std::string fffd = "\xef\xbf\xbd";
  auto expected = "a" + fffd + "b" + fffd + "c" + fffd + fffd + fffd;
  CAF_CHECK_EQUAL(j.at("message").get<std::string>(), expected);
  CAF_CHECK_EQUAL(j.at("v").get<std::string>(), expected);
}

CAF_TEST(typed field values) {
  capture cap{"x"};
  log_event(*cap.logger, log_level::info, "types",
    {{"i", -42}, {"big", std::numeric_limits<std::int64_t>::min()},
      {"u", std::numeric_limits<std::uint64_t>::max()}, {"d", -0.25},
      {"whole", 3.0}, {"nan", std::numeric_limits<double>::quiet_NaN()},
      {"inf", std::numeric_limits<double>::infinity()}, {"yes", true},
      {"no", false}, {"s", std::string{"str"}}});
  auto j = cap.single();
  CAF_CHECK(j.at("i").is_number_integer());
  CAF_CHECK_EQUAL(j.at("i").get<std::int64_t>(), -42);
  CAF_CHECK_EQUAL(
    j.at("big").get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
  CAF_CHECK_EQUAL(
    j.at("u").get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
  CAF_CHECK_EQUAL(j.at("d").get<double>(), -0.25);
  CAF_CHECK(j.at("whole").is_number_float());
  CAF_CHECK(j.at("nan").is_null());
  CAF_CHECK(j.at("inf").is_null());
  CAF_CHECK(j.at("yes").is_boolean() && j.at("yes").get<bool>());
  CAF_CHECK(j.at("no").is_boolean() && !j.at("no").get<bool>());
  CAF_CHECK_EQUAL(j.at("s").get<std::string>(), "str");
}

CAF_TEST(fixed keys are never shadowed by fields) {
  capture cap{"x"};
  log_event(*cap.logger, log_level::info, "m",
    {{"level", "fake"}, {"message", "other"}});
  auto j = cap.single();
  CAF_CHECK_EQUAL(j.at("level").get<std::string>(), "INFO");
  CAF_CHECK_EQUAL(j.at("message").get<std::string>(), "m");
  CAF_CHECK_EQUAL(j.at("ctx_level").get<std::string>(), "fake");
  CAF_CHECK_EQUAL(j.at("ctx_message").get<std::string>(), "other");
}

CAF_TEST(level names) {
  CAF_CHECK_EQUAL(level_name(log_level::debug), "DEBUG");
  CAF_CHECK_EQUAL(level_name(log_level::info), "INFO");
  CAF_CHECK_EQUAL(level_name(log_level::warning), "WARNING");
  CAF_CHECK_EQUAL(level_name(log_level::error), "ERROR");
  CAF_CHECK_EQUAL(level_name(log_level::critical), "CRITICAL");
  capture cap{"x"};
  const log_level levels[] = {log_level::debug, log_level::info,
    log_level::warning, log_level::error, log_level::critical};
  const char* names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
  for (auto lvl : levels)
    log_event(*cap.logger, lvl, "m");
  auto ls = cap.lines();
  CAF_REQUIRE_EQUAL(ls.size(), 5u);
  for (size_t i = 0; i < 5; ++i)
    CAF_CHECK_EQUAL(
      json::parse(ls[i]).at("level").get<std::string>(), names[i]);
}

CAF_TEST(disabled levels write and allocate nothing) {
  capture cap{"x"};
  cap.logger->set_level(spdlog::level::warn);
  CAF_CHECK(!enabled(*cap.logger, log_level::info));
  CAF_CHECK(enabled(*cap.logger, log_level::warning));
  std::string symbol = "BTCUSDT";
  auto before = allocations.load();
  log_event(*cap.logger, log_level::debug, "dropped",
    {{"symbol", symbol}, {"price", 1.0}, {"n", 3}});
  log_event(*cap.logger, log_level::info, "dropped", {{"symbol", "ETHUSDT"}});
  auto after = allocations.load();
  CAF_CHECK_EQUAL(after - before, 0);
  // The counter does see allocations.
  auto probe = std::make_unique<std::string>(64, 'x');
  CAF_CHECK(allocations.load() > after);
  log_event(*cap.logger, log_level::warning, "kept 1");
  log_event(*cap.logger, log_level::error, "kept 2");
  log_event(*cap.logger, log_level::critical, "kept 3");
  auto ls = cap.lines();
  CAF_REQUIRE_EQUAL(ls.size(), 3u);
  CAF_CHECK_EQUAL(
    json::parse(ls[0]).at("message").get<std::string>(), "kept 1");
  CAF_CHECK_EQUAL(
    json::parse(ls[2]).at("level").get<std::string>(), "CRITICAL");
}

CAF_TEST(plain spdlog calls still produce valid lines) {
  capture cap{"x"};
  cap.logger->info("plain \"quoted\" {}", 42);
  auto j = cap.single();
  CAF_CHECK_EQUAL(j.at("message").get<std::string>(), "plain \"quoted\" 42");
  CAF_CHECK_EQUAL(j.size(), 4u);
}

CAF_TEST(the text format is readable) {
  capture cap{"collectors.binance", false};
  log_event(*cap.logger, log_level::warning, "Gap detected",
    {{"symbol", "BTCUSDT"}, {"missing", 3}});
  auto ls = cap.lines();
  CAF_REQUIRE_EQUAL(ls.size(), 1u);
  auto expected_tail = std::string{" WARNING collectors.binance: Gap detected "
                                   "symbol=\"BTCUSDT\" missing=3"};
  CAF_CHECK(ls[0].size() > expected_tail.size());
  CAF_CHECK_EQUAL(
    ls[0].substr(ls[0].size() - expected_tail.size()), expected_tail);
  CAF_CHECK(is_iso_utc_ms(ls[0].substr(0, 24)));
}

namespace {

/// 2100-01-01 (day 47482): a "today" later than any real event time, so
/// every line goes into that day's file whatever the real date is.
constexpr std::int64_t y2100 = 47482;

std::chrono::system_clock::time_point y2100_noon() {
  return std::chrono::system_clock::time_point{
    std::chrono::hours{24 * y2100 + 12}};
}

/// A fresh directory, removed at the end of the test.
struct log_dir {
  std::filesystem::path path;

  explicit log_dir(const std::string& name) {
    path = std::filesystem::temp_directory_path()
      / ("csp_logging_test_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }

  ~log_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }

  log_dir(const log_dir&) = delete;
  log_dir& operator=(const log_dir&) = delete;

  /// The set-up of a node named `node` logging here, console off.
  log_setup setup(log_level level, const char* node = "node-a") const {
    csp::config::log_config cfg;
    cfg.level = level;
    cfg.dir = path.string();
    cfg.json = true;
    auto result = make_log_setup(cfg, node);
    result.console = false;
    result.clock = y2100_noon;
    return result;
  }

  /// The lines of `name`, each required to be JSON.
  std::vector<json> lines(const std::string& name) const {
    std::ifstream in{path / name};
    std::vector<json> docs;
    std::string line;
    while (std::getline(in, line)) {
      CAF_REQUIRE(json::accept(line));
      docs.push_back(json::parse(line));
    }
    return docs;
  }
};

} // namespace

CAF_TEST(init_logging writes json lines to the daily file) {
  log_dir dir{"init"};
  csp::config::log_config cfg;
  cfg.dir = dir.path.string();
  cfg.retention_days = 9;
  auto setup = make_log_setup(cfg, "node-a");
  CAF_CHECK_EQUAL(setup.dir, dir.path.string());
  CAF_CHECK_EQUAL(setup.file_prefix, "app");
  CAF_CHECK_EQUAL(setup.fallback_prefix, "app-node-a");
  CAF_CHECK_EQUAL(setup.retention_days, 9);
  setup.console = false;
  setup.clock = y2100_noon;
  init_logging(setup);
  CAF_CHECK_EQUAL(log_file_path(), (dir.path / "app_2100-01-01.log").string());
  auto logger = get_logger("storage.pg_writer");
  CAF_CHECK_EQUAL(logger.get(), get_logger("storage.pg_writer").get());
  log_event(*logger, log_level::debug, "filtered");
  log_event(*logger, log_level::info, "Batch written", {{"rows", 1000}});
  log_event(*get_logger("api"), log_level::error, "line\nbreak");
  shutdown_logging();
  CAF_CHECK_EQUAL(log_file_path(), "");
  auto docs = dir.lines("app_2100-01-01.log");
  CAF_REQUIRE_EQUAL(docs.size(), 2u);
  CAF_CHECK_EQUAL(docs[0].at("logger").get<std::string>(), "storage.pg_writer");
  CAF_CHECK_EQUAL(docs[0].at("rows").get<int>(), 1000);
  CAF_CHECK_EQUAL(docs[1].at("level").get<std::string>(), "ERROR");
  CAF_CHECK_EQUAL(docs[1].at("message").get<std::string>(), "line\nbreak");
}

CAF_TEST(the file lines have the seed fields) {
  log_dir dir{"seed"};
  init_logging(dir.setup(log_level::info));
  log_seed_example(*get_logger("collectors.binance"));
  shutdown_logging();
  auto docs = dir.lines("app_2100-01-01.log");
  CAF_REQUIRE_EQUAL(docs.size(), 1u);
  check_seed_example(docs[0]);
}

CAF_TEST(the configured level filters the file) {
  log_dir dir{"level"};
  init_logging(dir.setup(log_level::warning));
  auto logger = get_logger("processing");
  const log_level levels[] = {log_level::debug, log_level::info,
    log_level::warning, log_level::error, log_level::critical};
  for (auto lvl : levels)
    log_event(*logger, lvl, std::string{level_name(lvl)});
  logger->info("plain info");
  logger->warn("plain warning");
  shutdown_logging();
  auto docs = dir.lines("app_2100-01-01.log");
  std::vector<std::string> got;
  for (auto& d : docs)
    got.push_back(d.at("level").get<std::string>() + " "
      + d.at("message").get<std::string>());
  CAF_CHECK_EQUAL(got,
    (std::vector<std::string>{"WARNING WARNING", "ERROR ERROR",
      "CRITICAL CRITICAL", "WARNING plain warning"}));
  // Another level after a new init_logging (the same directory again).
  init_logging(dir.setup(log_level::debug));
  log_event(*get_logger("processing"), log_level::debug, "now visible");
  shutdown_logging();
  docs = dir.lines("app_2100-01-01.log");
  CAF_REQUIRE_EQUAL(docs.size(), 5u);
  CAF_CHECK_EQUAL(docs[4].at("message").get<std::string>(), "now visible");
}

CAF_TEST(a second node in the same directory gets its own files) {
  log_dir dir{"shared"};
  // Another process (here: another sink) writes app_* files already.
  daily_file_options other;
  other.dir = dir.path.string();
  other.clock = y2100_noon;
  other.background = false;
  auto holder = std::make_shared<daily_file_sink>(other);
  init_logging(dir.setup(log_level::info, "node-b"));
  CAF_CHECK_EQUAL(
    log_file_path(), (dir.path / "app-node-b_2100-01-01.log").string());
  log_event(*get_logger("node"), log_level::info, "hello");
  shutdown_logging();
  auto docs = dir.lines("app-node-b_2100-01-01.log");
  // The warning about the fallback, then the line.
  CAF_REQUIRE_EQUAL(docs.size(), 2u);
  CAF_CHECK_EQUAL(docs[0].at("level").get<std::string>(), "WARNING");
  CAF_CHECK_EQUAL(docs[0].at("prefix").get<std::string>(), "app-node-b");
  CAF_CHECK_EQUAL(docs[1].at("message").get<std::string>(), "hello");
  CAF_CHECK(dir.lines("app_2100-01-01.log").empty());
  // Without a fallback the set-up is refused.
  auto setup = dir.setup(log_level::info);
  setup.fallback_prefix.clear();
  auto refused = false;
  try {
    init_logging(setup);
  } catch (const log_dir_in_use&) {
    refused = true;
  }
  CAF_CHECK(refused);
  shutdown_logging();
}
