#include "monitoring/metrics_process.hpp"

#include <cstdio>
#include <string>

#include <dirent.h>
#include <unistd.h>

#include "monitoring/metrics_catalogue.hpp"

namespace csp::monitoring {

namespace {

// Parses an unsigned decimal at the start of `s`, then skips one space.
bool take_uint(std::string_view& s, std::uint64_t& out) {
  if (s.empty() || s[0] < '0' || s[0] > '9')
    return false;
  std::uint64_t x = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i)
    x = x * 10 + static_cast<std::uint64_t>(s[i] - '0');
  out = x;
  s.remove_prefix(i);
  if (!s.empty() && s[0] == ' ')
    s.remove_prefix(1);
  return true;
}

// Skips one space-separated field.
bool skip_field(std::string_view& s) {
  auto pos = s.find(' ');
  if (pos == std::string_view::npos || pos == 0)
    return false;
  s.remove_prefix(pos + 1);
  return true;
}

// Reads a whole (small) file; empty on error.
std::string slurp(const char* path) {
  std::string out;
  auto* f = std::fopen(path, "rb");
  if (f == nullptr)
    return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    out.append(buf, n);
  std::fclose(f);
  return out;
}

double count_open_fds() {
  auto* dir = opendir("/proc/self/fd");
  if (dir == nullptr)
    return -1.0;
  long n = 0;
  while (auto* entry = readdir(dir))
    if (entry->d_name[0] != '.')
      ++n;
  closedir(dir);
  // The directory stream itself holds one descriptor while counting.
  return static_cast<double>(n - 1);
}

prometheus::MetricFamily family(
  std::string_view name, prometheus::MetricType type, double value) {
  prometheus::MetricFamily fam;
  fam.name = std::string{name};
  if (auto* spec = find_metric(name))
    fam.help = std::string{spec->help};
  fam.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  fam.metric.push_back(std::move(m));
  return fam;
}

} // namespace

std::optional<proc_stat_fields> parse_proc_stat(std::string_view line) {
  auto close = line.rfind(')');
  if (close == std::string_view::npos || close + 2 > line.size())
    return std::nullopt;
  // Field 3 (state) starts after ") ".
  auto s = line.substr(close + 2);
  proc_stat_fields out;
  std::uint64_t ignored = 0;
  // Fields 3..13: state, then ten numbers.
  if (!skip_field(s))
    return std::nullopt;
  for (int field = 4; field <= 13; ++field)
    if (!skip_field(s))
      return std::nullopt;
  if (!take_uint(s, out.utime_ticks) || !take_uint(s, out.stime_ticks))
    return std::nullopt;
  // Fields 16..21: cutime, cstime (may be negative), priority, nice (may
  // be negative), num_threads, itrealvalue.
  for (int field = 16; field <= 21; ++field)
    if (!skip_field(s))
      return std::nullopt;
  if (!take_uint(s, out.start_ticks))
    return std::nullopt;
  // Field 23: vsize.
  if (!take_uint(s, ignored))
    return std::nullopt;
  bool negative = !s.empty() && s[0] == '-';
  if (negative)
    s.remove_prefix(1);
  std::uint64_t rss = 0;
  if (!take_uint(s, rss))
    return std::nullopt;
  out.rss_pages = negative ? -static_cast<std::int64_t>(rss)
                           : static_cast<std::int64_t>(rss);
  return out;
}

std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat) {
  constexpr std::string_view key = "btime ";
  size_t pos = 0;
  while (pos < proc_stat.size()) {
    auto eol = proc_stat.find('\n', pos);
    auto line = proc_stat.substr(
      pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (line.substr(0, key.size()) == key) {
      auto rest = line.substr(key.size());
      std::uint64_t x = 0;
      if (take_uint(rest, x))
        return x;
      return std::nullopt;
    }
    if (eol == std::string_view::npos)
      break;
    pos = eol + 1;
  }
  return std::nullopt;
}

std::optional<process_stats> read_process_stats() {
  auto stat = parse_proc_stat(slurp("/proc/self/stat"));
  if (!stat)
    return std::nullopt;
  auto ticks = sysconf(_SC_CLK_TCK);
  auto page = sysconf(_SC_PAGESIZE);
  if (ticks <= 0 || page <= 0)
    return std::nullopt;
  auto hz = static_cast<double>(ticks);
  process_stats out;
  out.resident_memory_bytes
    = static_cast<double>(stat->rss_pages) * static_cast<double>(page);
  out.cpu_seconds
    = static_cast<double>(stat->utime_ticks + stat->stime_ticks) / hz;
  if (auto btime = parse_boot_time(slurp("/proc/stat")))
    out.start_time_seconds = static_cast<double>(*btime)
      + static_cast<double>(stat->start_ticks) / hz;
  out.open_fds = count_open_fds();
  return out;
}

std::vector<prometheus::MetricFamily> process_collector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  auto stats = read_process_stats();
  if (!stats)
    return out;
  using prometheus::MetricType;
  out.push_back(family(
    "process_cpu_seconds_total", MetricType::Counter, stats->cpu_seconds));
  if (stats->open_fds >= 0.0)
    out.push_back(
      family("process_open_fds", MetricType::Gauge, stats->open_fds));
  out.push_back(family("process_resident_memory_bytes", MetricType::Gauge,
    stats->resident_memory_bytes));
  if (stats->start_time_seconds > 0.0)
    out.push_back(family("process_start_time_seconds", MetricType::Gauge,
      stats->start_time_seconds));
  return out;
}

} // namespace csp::monitoring
