#include "monitoring/log_files.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include "messages/calendar.hpp"

namespace csp::monitoring {

namespace {

constexpr std::int64_t ms_per_day = 86'400'000;

constexpr std::string_view plain_suffix = ".log";
constexpr std::string_view gzip_suffix = ".log.gz";
constexpr std::string_view partial_suffix = ".log.gz.tmp";

/// Length of "YYYY-MM-DD".
constexpr std::size_t date_size = 10;

/// Parses "YYYY-MM-DD" into a day number if it is a real date.
std::optional<std::int64_t> parse_date(std::string_view str) noexcept {
  if (str.size() != date_size || str[4] != '-' || str[7] != '-')
    return std::nullopt;
  auto number = [&](std::size_t pos, std::size_t len) -> int {
    int x = 0;
    for (auto i = pos; i < pos + len; ++i) {
      if (str[i] < '0' || str[i] > '9')
        return -1;
      x = x * 10 + (str[i] - '0');
    }
    return x;
  };
  auto year = number(0, 4);
  auto month = number(5, 2);
  auto day = number(8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31)
    return std::nullopt;
  auto days = messages::days_from_civil(year, month, day);
  auto back = messages::civil_from_days(days);
  if (back.month != month || back.day != day) // e.g. 2023-02-30
    return std::nullopt;
  return days;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

/// Closes a file descriptor on scope exit.
class fd_guard {
public:
  explicit fd_guard(int fd) noexcept : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const noexcept { return fd_; }
  /// Closes now; returns false (errno set) if close failed.
  bool close() noexcept {
    auto fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

private:
  int fd_;
};

/// Compresses the open file `in` into the open file `out` (gzip format).
std::string deflate_fd(int in, int out, const std::string& src) {
  auto out_dup = ::dup(out);
  if (out_dup < 0)
    return errno_text("dup");
  auto* gz = gzdopen(out_dup, "wb6");
  if (gz == nullptr) {
    ::close(out_dup);
    return "gzdopen failed";
  }
  std::array<char, std::size_t{64} * 1024> buf{};
  std::string err;
  for (;;) {
    auto n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      err = errno_text("read " + src);
      break;
    }
    if (n == 0)
      break;
    if (gzwrite(gz, buf.data(), static_cast<unsigned>(n)) != n) {
      int code = 0;
      err = std::string{"gzwrite: "} + gzerror(gz, &code);
      break;
    }
  }
  if (gzclose(gz) != Z_OK && err.empty())
    err = "gzclose failed (disk full?)";
  return err;
}

/// Syncs the directory holding `path` so a rename in it is durable.
void sync_parent(const std::string& path) {
  auto parent = std::filesystem::path{path}.parent_path();
  if (parent.empty())
    parent = ".";
  fd_guard dir{::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.get() >= 0)
    ::fsync(dir.get());
}

} // namespace

std::int64_t utc_day(std::chrono::system_clock::time_point t) noexcept {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
    t.time_since_epoch())
              .count();
  auto day = ms / ms_per_day;
  if (ms % ms_per_day < 0)
    --day;
  return day;
}

std::string daily_log_name(
  std::string_view prefix, std::int64_t day, log_file_kind kind) {
  auto date = messages::civil_from_days(day);
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02d",
    std::clamp(date.year, 0, 9999), date.month, date.day);
  std::string result{prefix};
  result += '_';
  result += buf.data();
  switch (kind) {
    case log_file_kind::plain:
      result += plain_suffix;
      break;
    case log_file_kind::gzip:
      result += gzip_suffix;
      break;
    case log_file_kind::partial:
      result += partial_suffix;
      break;
  }
  return result;
}

std::optional<log_file_info> parse_daily_log_name(
  std::string_view prefix, std::string_view name) noexcept {
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix
    || name[prefix.size()] != '_')
    return std::nullopt;
  auto rest = name.substr(prefix.size() + 1);
  if (rest.size() < date_size)
    return std::nullopt;
  auto suffix = rest.substr(date_size);
  log_file_info info;
  if (suffix == plain_suffix)
    info.kind = log_file_kind::plain;
  else if (suffix == gzip_suffix)
    info.kind = log_file_kind::gzip;
  else if (suffix == partial_suffix)
    info.kind = log_file_kind::partial;
  else
    return std::nullopt;
  auto day = parse_date(rest.substr(0, date_size));
  if (!day)
    return std::nullopt;
  info.day = *day;
  return info;
}

log_dir_plan plan_log_dir(std::string_view prefix,
  const std::vector<std::string>& names, std::int64_t today,
  std::int64_t retention_days) {
  log_dir_plan plan;
  for (auto& name : names) {
    auto info = parse_daily_log_name(prefix, name);
    if (!info || info->day >= today)
      continue;
    if (info->kind == log_file_kind::partial
      || (retention_days > 0 && info->day < today - retention_days))
      plan.remove.push_back(name);
    else if (info->kind == log_file_kind::plain)
      plan.compress.push_back(name);
  }
  std::sort(plan.compress.begin(), plan.compress.end());
  std::sort(plan.remove.begin(), plan.remove.end());
  return plan;
}

std::string gzip_file(const std::string& src, const std::string& dst) {
  auto tmp = dst + ".tmp";
  fd_guard in{::open(src.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.get() < 0)
    return errno_text("open " + src);
  fd_guard out{
    ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (out.get() < 0)
    return errno_text("open " + tmp);
  auto err = deflate_fd(in.get(), out.get(), src);
  if (err.empty() && ::fsync(out.get()) != 0)
    err = errno_text("fsync " + tmp);
  if (!out.close() && err.empty())
    err = errno_text("close " + tmp);
  if (err.empty() && std::rename(tmp.c_str(), dst.c_str()) != 0)
    err = errno_text("rename " + tmp);
  if (!err.empty()) {
    ::unlink(tmp.c_str());
    return err;
  }
  // The gzip file is complete and in place before the original goes.
  sync_parent(dst);
  if (::unlink(src.c_str()) != 0)
    return errno_text("unlink " + src);
  return {};
}

log_dir_report maintain_log_dir(const std::string& dir, std::string_view prefix,
  std::int64_t today, std::int64_t retention_days) {
  namespace fs = std::filesystem;
  log_dir_report report;
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it{dir, ec}, end; !ec && it != end;
       it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_regular_file(type_ec))
      names.push_back(it->path().filename().string());
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    report.errors.push_back("list " + dir + ": " + ec.message());
  auto plan = plan_log_dir(prefix, names, today, retention_days);
  for (auto& name : plan.remove) {
    std::error_code rm_ec;
    if (fs::remove(fs::path{dir} / name, rm_ec))
      ++report.removed;
    else if (rm_ec)
      report.errors.push_back("remove " + name + ": " + rm_ec.message());
  }
  for (auto& name : plan.compress) {
    auto src = (fs::path{dir} / name).string();
    if (auto err = gzip_file(src, src + ".gz"); err.empty())
      ++report.compressed;
    else
      report.errors.push_back(err);
  }
  return report;
}

} // namespace csp::monitoring
