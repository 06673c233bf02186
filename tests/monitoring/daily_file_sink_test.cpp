#define CAF_SUITE daily_file_sink
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "monitoring/daily_file_sink.hpp"
#include "monitoring/log_files.hpp"
#include "monitoring/logging.hpp"

using namespace csp::monitoring;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t day_ms = 86'400'000;

/// 2024-01-15 is day 19737 (date -u -d @$((19737*86400))).
constexpr std::int64_t jan15 = 19737;

/// Milliseconds since the epoch of `day` at hh:mm:ss.mmm UTC.
constexpr std::int64_t at(std::int64_t day, int hh, int mm, int ss, int ms) {
  return day * day_ms + ((hh * 60 + mm) * 60 + ss) * std::int64_t{1000} + ms;
}

std::chrono::system_clock::time_point time_of(std::int64_t ms) {
  return std::chrono::system_clock::time_point{std::chrono::milliseconds{ms}};
}

/// A clock the test moves by hand.
struct manual_clock {
  std::shared_ptr<std::atomic<std::int64_t>> ms
    = std::make_shared<std::atomic<std::int64_t>>(0);

  void set(std::int64_t x) { ms->store(x); }

  wall_clock_fn fn() const {
    return [ms = ms] { return time_of(ms->load()); };
  }
};

/// A fresh directory, removed at the end of the test.
struct temp_dir {
  fs::path path;

  temp_dir() {
    static int counter = 0;
    path = fs::temp_directory_path()
      / ("csp_daily_sink_test_" + std::to_string(::getpid()) + "_"
        + std::to_string(++counter));
    fs::remove_all(path);
    fs::create_directories(path);
  }

  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string file(
    std::int64_t day, log_file_kind kind = log_file_kind::plain) const {
    return (path / daily_log_name("app", day, kind)).string();
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << content;
}

/// Decompresses a gzip file with zlib; fails the test if it is not one.
std::string gunzip(const std::string& path) {
  auto* gz = gzopen(path.c_str(), "rb");
  CAF_REQUIRE(gz != nullptr);
  CAF_REQUIRE_EQUAL(gzdirect(gz), 0); // really compressed, not plain text
  std::string result;
  char buf[4096];
  int n = 0;
  while ((n = gzread(gz, buf, sizeof(buf))) > 0)
    result.append(buf, static_cast<std::size_t>(n));
  CAF_REQUIRE_EQUAL(n, 0);
  CAF_REQUIRE_EQUAL(gzclose(gz), Z_OK);
  return result;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    result.push_back(line);
  return result;
}

/// Parses every line; fails the test on a line that is not a JSON object
/// with the seed's four fixed keys.
std::vector<json> parse_lines(const std::string& text) {
  std::vector<json> result;
  for (auto& line : split_lines(text)) {
    CAF_REQUIRE(json::accept(line));
    auto j = json::parse(line);
    CAF_REQUIRE(j.is_object());
    for (auto key : {"timestamp", "level", "logger", "message"})
      CAF_REQUIRE(j.contains(key) && j.at(key).is_string());
    result.push_back(std::move(j));
  }
  return result;
}

/// A sink in `dir` with a JSON formatter, and a logger writing to it.
struct fixture_logger {
  std::shared_ptr<daily_file_sink> sink;
  std::shared_ptr<spdlog::logger> logger;

  fixture_logger(const temp_dir& dir, const manual_clock& clock,
    bool background, std::int64_t retention_days = 30) {
    daily_file_options opts;
    opts.dir = dir.path.string();
    opts.retention_days = retention_days;
    opts.clock = clock.fn();
    opts.background = background;
    opts.flush_interval = std::chrono::hours{1};
    sink = std::make_shared<daily_file_sink>(std::move(opts));
    sink->set_formatter(make_json_formatter());
    logger = std::make_shared<spdlog::logger>("collectors.binance", sink);
    logger->set_level(spdlog::level::trace);
  }

  void log(
    std::int64_t ms, spdlog::level::level_enum lvl, const std::string& msg) {
    logger->log(time_of(ms), spdlog::source_loc{}, lvl, msg);
  }
};

/// Runs a shell pipeline and returns its standard output.
std::string shell(const std::string& cmd) {
  std::string out;
  auto* p = ::popen(cmd.c_str(), "r");
  CAF_REQUIRE(p != nullptr);
  char buf[256];
  while (auto n = std::fread(buf, 1, sizeof(buf), p))
    out.append(buf, n);
  ::pclose(p);
  return out;
}

} // namespace

CAF_TEST(rotation happens exactly at midnight UTC) {
  temp_dir dir;
  manual_clock clock;
  clock.set(at(jan15, 23, 59, 59, 0));
  fixture_logger f{dir, clock, false};
  CAF_CHECK_EQUAL(f.sink->current_path(), dir.file(jan15));
  f.log(at(jan15, 0, 0, 0, 0), spdlog::level::info, "first of day N");
  f.log(at(jan15, 23, 59, 59, 999), spdlog::level::err, "last of day N");
  CAF_CHECK(fs::exists(dir.file(jan15)));
  f.log(at(jan15 + 1, 0, 0, 0, 0), spdlog::level::info, "first of day N+1");
  f.log(at(jan15 + 1, 0, 0, 0, 1), spdlog::level::warn, "second of day N+1");
  f.logger->flush();
  CAF_CHECK_EQUAL(f.sink->current_path(), dir.file(jan15 + 1));
  // Day N: compressed, the plain file gone.
  CAF_CHECK(!fs::exists(dir.file(jan15)));
  auto day_n = parse_lines(gunzip(dir.file(jan15, log_file_kind::gzip)));
  CAF_REQUIRE_EQUAL(day_n.size(), 2u);
  CAF_CHECK_EQUAL(day_n[0].at("message").get<std::string>(), "first of day N");
  CAF_CHECK_EQUAL(
    day_n[0].at("timestamp").get<std::string>(), "2024-01-15T00:00:00.000Z");
  CAF_CHECK_EQUAL(day_n[1].at("message").get<std::string>(), "last of day N");
  CAF_CHECK_EQUAL(
    day_n[1].at("timestamp").get<std::string>(), "2024-01-15T23:59:59.999Z");
  CAF_CHECK_EQUAL(day_n[1].at("level").get<std::string>(), "ERROR");
  CAF_CHECK_EQUAL(
    day_n[1].at("logger").get<std::string>(), "collectors.binance");
  // Day N+1: plain, being written.
  CAF_CHECK(!fs::exists(dir.file(jan15 + 1, log_file_kind::gzip)));
  auto day_n1 = parse_lines(read_file(dir.file(jan15 + 1)));
  CAF_REQUIRE_EQUAL(day_n1.size(), 2u);
  CAF_CHECK_EQUAL(
    day_n1[0].at("message").get<std::string>(), "first of day N+1");
  CAF_CHECK_EQUAL(
    day_n1[0].at("timestamp").get<std::string>(), "2024-01-16T00:00:00.000Z");
  CAF_CHECK_EQUAL(day_n1[1].at("level").get<std::string>(), "WARNING");
}

CAF_TEST(the gzip file holds exactly the lines of the day) {
  temp_dir dir;
  manual_clock clock;
  clock.set(at(jan15, 12, 0, 0, 0));
  fixture_logger f{dir, clock, true};
  constexpr int lines = 3000;
  int errors = 0;
  for (int i = 0; i < lines; ++i) {
    auto err = i % 7 == 0;
    errors += err ? 1 : 0;
    f.log(at(jan15, 12, 0, 0, 0) + i,
      err ? spdlog::level::err : spdlog::level::info,
      "line " + std::to_string(i) + " \"quoted\" payload");
  }
  f.logger->flush();
  auto plain = read_file(dir.file(jan15));
  CAF_CHECK_EQUAL(split_lines(plain).size(), static_cast<std::size_t>(lines));
  // Crossing midnight hands day N to the background thread.
  f.log(at(jan15 + 1, 0, 0, 0, 0), spdlog::level::info, "next day");
  f.sink->wait_idle();
  CAF_CHECK(!fs::exists(dir.file(jan15)));
  auto gz = dir.file(jan15, log_file_kind::gzip);
  auto unpacked = gunzip(gz);
  CAF_CHECK(unpacked == plain);
  auto docs = parse_lines(unpacked);
  CAF_REQUIRE_EQUAL(docs.size(), static_cast<std::size_t>(lines));
  for (int i = 0; i < lines; ++i)
    CAF_CHECK_EQUAL(
      docs[static_cast<std::size_t>(i)].at("message").get<std::string>(),
      "line " + std::to_string(i) + " \"quoted\" payload");
  // The seed's recipe: zcat logs/app_<date>.log.gz | grep ERROR.
  auto count = shell("zcat '" + gz + "' | grep -c ERROR");
  CAF_CHECK_EQUAL(count, std::to_string(errors) + "\n");
  CAF_CHECK(!fs::exists(gz + ".tmp"));
}

CAF_TEST(no line is lost when threads cross midnight together) {
  temp_dir dir;
  manual_clock clock;
  clock.set(at(jan15, 23, 59, 0, 0));
  fixture_logger f{dir, clock, true};
  constexpr int threads = 4;
  constexpr int per_thread = 1500;
  const auto start = at(jan15 + 1, 0, 0, 0, 0) - per_thread / 2;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&f, t, start] {
      for (int i = 0; i < per_thread; ++i)
        f.log(start + i, spdlog::level::info,
          std::to_string(t) + ":" + std::to_string(i));
    });
  for (auto& w : workers)
    w.join();
  f.logger->flush();
  f.sink->wait_idle();
  auto day_n = parse_lines(gunzip(dir.file(jan15, log_file_kind::gzip)));
  auto day_n1 = parse_lines(read_file(dir.file(jan15 + 1)));
  CAF_CHECK_EQUAL(day_n.size() + day_n1.size(),
    static_cast<std::size_t>(threads * per_thread));
  std::set<std::string> seen;
  for (auto* docs : {&day_n, &day_n1})
    for (auto& d : *docs)
      seen.insert(d.at("message").get<std::string>());
  CAF_CHECK_EQUAL(seen.size(), static_cast<std::size_t>(threads * per_thread));
  // Day N's file never holds a line of day N+1.
  for (auto& d : day_n)
    CAF_CHECK(d.at("timestamp").get<std::string>() < "2024-01-16");
  CAF_CHECK(!day_n.empty());
}

CAF_TEST(a quiet node still rotates at midnight) {
  temp_dir dir;
  manual_clock clock;
  clock.set(at(jan15, 23, 0, 0, 0));
  fixture_logger f{dir, clock, false};
  f.log(at(jan15, 23, 0, 0, 0), spdlog::level::info, "only line");
  f.sink->maintain(); // still day N: nothing happens
  CAF_CHECK(fs::exists(dir.file(jan15)));
  CAF_CHECK(!fs::exists(dir.file(jan15, log_file_kind::gzip)));
  clock.set(at(jan15 + 1, 0, 0, 1, 0));
  f.sink->maintain();
  CAF_CHECK(!fs::exists(dir.file(jan15)));
  auto lines = parse_lines(gunzip(dir.file(jan15, log_file_kind::gzip)));
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  CAF_CHECK_EQUAL(lines[0].at("message").get<std::string>(), "only line");
  CAF_CHECK_EQUAL(f.sink->current_path(), dir.file(jan15 + 1));
  // The new day's file appears with its first line.
  CAF_CHECK(!fs::exists(dir.file(jan15 + 1)));
  f.log(at(jan15 + 1, 0, 0, 2, 0), spdlog::level::info, "day N+1");
  f.logger->flush();
  CAF_CHECK_EQUAL(parse_lines(read_file(dir.file(jan15 + 1))).size(), 1u);
}

CAF_TEST(retention deletes only expired files of the pattern) {
  temp_dir dir;
  const auto today = jan15;
  auto p = [&](const std::string& name) { return (dir.path / name).string(); };
  // 2023-12-16 is today - 30, 2023-12-15 today - 31.
  const std::vector<std::string> expired
    = {"app_2023-12-15.log.gz", "app_2023-12-15.log", "app_2023-06-01.log.gz"};
  const std::vector<std::string> kept = {"app_2023-12-16.log.gz",
    "app-node_2023-06-01.log.gz", "other_2023-06-01.log.gz",
    "app_2023-06-01.txt", "app_2023-06-01.log.gz.bak", "notes.log"};
  for (auto& name : expired)
    write_file(p(name), "old\n");
  for (auto& name : kept)
    write_file(p(name), "keep\n");
  manual_clock clock;
  clock.set(at(today, 12, 0, 0, 0));
  fixture_logger f{dir, clock, true};
  f.sink->wait_idle();
  for (auto& name : expired)
    CAF_CHECK_EQUAL(fs::exists(p(name)), false);
  for (auto& name : kept)
    CAF_CHECK_EQUAL(read_file(p(name)), "keep\n");
  // A day later 2023-12-16 has expired too.
  f.log(at(today + 1, 0, 0, 0, 0), spdlog::level::info, "tomorrow");
  f.sink->wait_idle();
  CAF_CHECK(!fs::exists(p("app_2023-12-16.log.gz")));
  for (std::size_t i = 1; i < kept.size(); ++i)
    CAF_CHECK_EQUAL(read_file(p(kept[i])), "keep\n");
  CAF_CHECK(fs::exists(dir.file(today, log_file_kind::gzip)));
}

CAF_TEST(start up compresses the leftovers of earlier days) {
  temp_dir dir;
  const auto today = jan15;
  const std::string yesterday = "{\"message\":\"yesterday\"}\n";
  const std::string two_days = "{\"message\":\"two days ago\"}\n";
  const std::string five_days = "{\"message\":\"five days ago\"}\n";
  const std::string earlier_today = "{\"message\":\"before the restart\"}\n";
  write_file(dir.file(today - 1), yesterday);
  // A crash in the middle of compressing yesterday's file.
  write_file(dir.file(today - 1, log_file_kind::partial), "\x1f\x8b partial");
  // A crash after the gzip file was renamed into place but before the
  // plain file was removed.
  write_file(dir.file(today - 2), two_days);
  write_file(dir.file(today - 2, log_file_kind::gzip), "stale");
  write_file(dir.file(today - 5), five_days);
  write_file(dir.file(today), earlier_today);
  manual_clock clock;
  clock.set(at(today, 8, 0, 0, 0));
  {
    fixture_logger f{dir, clock, false};
    f.log(at(today, 8, 0, 0, 1), spdlog::level::info, "after the restart");
  }
  CAF_CHECK_EQUAL(gunzip(dir.file(today - 1, log_file_kind::gzip)), yesterday);
  CAF_CHECK_EQUAL(gunzip(dir.file(today - 2, log_file_kind::gzip)), two_days);
  CAF_CHECK_EQUAL(gunzip(dir.file(today - 5, log_file_kind::gzip)), five_days);
  for (auto day : {today - 1, today - 2, today - 5})
    CAF_CHECK(!fs::exists(dir.file(day)));
  CAF_CHECK(!fs::exists(dir.file(today - 1, log_file_kind::partial)));
  // Today's file is appended to, not compressed.
  CAF_CHECK(!fs::exists(dir.file(today, log_file_kind::gzip)));
  auto lines = split_lines(read_file(dir.file(today)));
  CAF_REQUIRE_EQUAL(lines.size(), 2u);
  CAF_CHECK_EQUAL(lines[0] + "\n", earlier_today);
  CAF_CHECK_EQUAL(json::parse(lines[1]).at("message").get<std::string>(),
    "after the restart");
}

CAF_TEST(a failed compression keeps the original) {
  temp_dir dir;
  auto src = (dir.path / "app_2024-01-14.log").string();
  write_file(src, "precious\n");
  auto bad_dst = (dir.path / "missing" / "app_2024-01-14.log.gz").string();
  auto err = gzip_file(src, bad_dst);
  CAF_CHECK(!err.empty());
  CAF_CHECK_EQUAL(read_file(src), "precious\n");
  CAF_CHECK(!fs::exists(bad_dst + ".tmp"));
  CAF_CHECK(!gzip_file(
    (dir.path / "absent.log").string(), (dir.path / "absent.log.gz").string())
               .empty());
  CAF_CHECK(!fs::exists(dir.path / "absent.log.gz"));
  // And a good one replaces it.
  CAF_CHECK_EQUAL(gzip_file(src, src + ".gz"), "");
  CAF_CHECK(!fs::exists(src));
  CAF_CHECK_EQUAL(gunzip(src + ".gz"), "precious\n");
}

CAF_TEST(one writer per directory and prefix) {
  temp_dir dir;
  manual_clock clock;
  clock.set(at(jan15, 12, 0, 0, 0));
  auto first = std::make_unique<fixture_logger>(dir, clock, false);
  daily_file_options opts;
  opts.dir = dir.path.string();
  opts.clock = clock.fn();
  opts.background = false;
  auto make = [&] { return std::make_shared<daily_file_sink>(opts); };
  auto refused = false;
  try {
    make();
  } catch (const log_dir_in_use&) {
    refused = true;
  }
  CAF_CHECK(refused);
  opts.prefix = "app-node-b";
  auto other = make();
  CAF_CHECK_EQUAL(
    other->current_path(), (dir.path / "app-node-b_2024-01-15.log").string());
  first.reset();
  opts.prefix = "app";
  CAF_CHECK_EQUAL(make()->current_path(), dir.file(jan15));
}
