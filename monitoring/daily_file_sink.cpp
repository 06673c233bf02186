#include "monitoring/daily_file_sink.hpp"

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "monitoring/log_files.hpp"

namespace csp::monitoring {

namespace {

constexpr std::chrono::hours day_length{24};

spdlog::log_clock::time_point start_of_day(std::int64_t day) {
  return spdlog::log_clock::time_point{day_length * day};
}

} // namespace

/// The background thread: carries out maintenance requests in order,
/// flushes the sink and checks the clock every flush_interval.
struct daily_file_sink::worker {
  std::mutex mtx;
  std::condition_variable cv;
  std::uint64_t requested = 0;
  std::uint64_t done = 0;
  std::int64_t today = 0;
  bool stop = false;
  std::thread thread;

  void run(daily_file_sink& sink) {
    std::unique_lock<std::mutex> guard{mtx};
    for (;;) {
      auto interval = sink.options_.flush_interval;
      cv.wait_for(
        guard, interval, [this] { return stop || requested != done; });
      auto stopping = stop;
      if (!stopping && requested == done) {
        // Timer tick: flush and notice a midnight without log lines.
        guard.unlock();
        sink.tick();
        guard.lock();
      }
      if (requested != done) {
        auto target = requested;
        auto day = today;
        guard.unlock();
        sink.run_maintenance(day);
        guard.lock();
        done = target;
        cv.notify_all();
      }
      if (stopping)
        return;
    }
  }
};

daily_file_sink::daily_file_sink(daily_file_options options)
    : options_(std::move(options)) {
  namespace fs = std::filesystem;
  if (options_.dir.empty())
    options_.dir = ".";
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec)
    throw spdlog::spdlog_ex(
      "cannot create log directory " + options_.dir + ": " + ec.message());
  // Absolute, so the paths stay right if the process changes directory.
  if (auto abs = fs::absolute(options_.dir, ec); !ec)
    options_.dir = abs.lexically_normal().string();
  auto lock_path
    = (fs::path{options_.dir} / (options_.prefix + ".lock")).string();
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0)
    throw spdlog::spdlog_ex("cannot open " + lock_path, errno);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw log_dir_in_use("log files " + options_.prefix + "_* in "
      + options_.dir + " are written by another logger (" + lock_path
      + " is locked)");
  }
  try {
    day_ = utc_day(now());
    next_day_start_ = start_of_day(day_ + 1);
    file_.open(path_of(day_));
    file_open_ = true;
  } catch (...) {
    ::close(lock_fd_);
    throw;
  }
  if (options_.background) {
    worker_ = std::make_unique<worker>();
    worker_->thread = std::thread{[this] { worker_->run(*this); }};
  }
  // Leftovers of earlier days and expired files.
  request_maintenance(day_);
}

daily_file_sink::~daily_file_sink() {
  if (worker_) {
    {
      std::lock_guard<std::mutex> guard{worker_->mtx};
      worker_->stop = true;
    }
    worker_->cv.notify_all();
    worker_->thread.join();
  }
  std::lock_guard<std::mutex> guard{mutex_};
  file_.close();
  ::close(lock_fd_);
}

std::string daily_file_sink::current_path() {
  std::lock_guard<std::mutex> guard{mutex_};
  return path_of(day_);
}

void daily_file_sink::maintain() {
  std::lock_guard<std::mutex> guard{mutex_};
  auto today = utc_day(now());
  if (today > day_) {
    rotate_to(today);
    request_maintenance(today);
  }
}

void daily_file_sink::tick() noexcept {
  try {
    flush();
    maintain();
  } catch (const std::exception& ex) {
    // Disk full or the like: the next tick tries again.
    std::fprintf(stderr, "log file %s: %s\n", options_.dir.c_str(), ex.what());
  }
}

void daily_file_sink::wait_idle() {
  if (!worker_)
    return;
  std::unique_lock<std::mutex> guard{worker_->mtx};
  auto target = worker_->requested;
  worker_->cv.wait(guard, [&] { return worker_->done >= target; });
}

void daily_file_sink::sink_it_(const spdlog::details::log_msg& msg) {
  if (msg.time >= next_day_start_) {
    auto day = utc_day(msg.time);
    rotate_to(day);
    request_maintenance(day);
  }
  if (!file_open_) {
    file_.open(path_of(day_));
    file_open_ = true;
  }
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  file_.write(formatted);
}

void daily_file_sink::flush_() {
  if (file_open_)
    file_.flush();
}

std::chrono::system_clock::time_point daily_file_sink::now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

void daily_file_sink::rotate_to(std::int64_t day) {
  // Closing flushes every line of the finished day before it is compressed.
  file_.close();
  file_open_ = false;
  day_ = day;
  next_day_start_ = start_of_day(day + 1);
}

void daily_file_sink::request_maintenance(std::int64_t today) {
  if (!worker_) {
    run_maintenance(today);
    return;
  }
  {
    std::lock_guard<std::mutex> guard{worker_->mtx};
    worker_->today = today;
    ++worker_->requested;
  }
  worker_->cv.notify_all();
}

void daily_file_sink::run_maintenance(std::int64_t today) const noexcept {
  try {
    auto report = maintain_log_dir(
      options_.dir, options_.prefix, today, options_.retention_days);
    for (auto& err : report.errors)
      std::fprintf(stderr, "log maintenance in %s: %s\n", options_.dir.c_str(),
        err.c_str());
  } catch (const std::exception& ex) {
    std::fprintf(
      stderr, "log maintenance in %s: %s\n", options_.dir.c_str(), ex.what());
  }
}

std::string daily_file_sink::path_of(std::int64_t day) const {
  return (
    std::filesystem::path{options_.dir} / daily_log_name(options_.prefix, day))
    .string();
}

} // namespace csp::monitoring
