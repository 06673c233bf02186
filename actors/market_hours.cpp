#include "actors/market_hours.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace csp::actors {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  auto q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool is_leap(int y) noexcept {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) noexcept {
  static constexpr int days[]
    = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/// 0 = Sunday.
int weekday(std::int64_t days) noexcept {
  auto r = (days + 4) % 7; // 1970-01-01 was a Thursday
  return static_cast<int>(r < 0 ? r + 7 : r);
}

/// Day number of the d-th weekday rule Mm.w.d in year y.
std::int64_t rule_day(int y, int m, int w, int d) noexcept {
  auto first = days_from_civil(y, m, 1);
  auto dow = weekday(first);
  int day = 1 + (d - dow + 7) % 7 + 7 * (w - 1);
  while (day > days_in_month(y, m))
    day -= 7;
  return first + day - 1;
}

struct reader {
  std::string_view data;
  std::size_t pos = 0;
  bool ok = true;

  std::int64_t be(std::size_t n) {
    if (pos + n > data.size()) {
      ok = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
      v = (v << 8) | static_cast<unsigned char>(data[pos + i]);
    pos += n;
    if (n == 4)
      return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  }

  void skip(std::size_t n) {
    if (pos + n > data.size())
      ok = false;
    else
      pos += n;
  }
};

// Parses [+-]hh[:mm[:ss]] into seconds.
bool parse_hms(std::string_view& s, std::int32_t& out) {
  int sign = 1;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  std::int32_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (s.empty() || s.front() < '0' || s.front() > '9')
      return false;
    std::int32_t v = 0;
    int digits = 0;
    while (!s.empty() && s.front() >= '0' && s.front() <= '9' && digits < 3) {
      v = v * 10 + (s.front() - '0');
      s.remove_prefix(1);
      ++digits;
    }
    parts[i] = v;
    if (s.empty() || s.front() != ':' || i == 2)
      break;
    s.remove_prefix(1);
  }
  out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool parse_name(std::string_view& s) {
  if (!s.empty() && s.front() == '<') {
    auto close = s.find('>');
    if (close == std::string_view::npos)
      return false;
    s.remove_prefix(close + 1);
    return true;
  }
  std::size_t n = 0;
  while (n < s.size()
    && ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z')))
    ++n;
  if (n < 3)
    return false;
  s.remove_prefix(n);
  return true;
}

bool parse_int(std::string_view& s, int& out) {
  if (s.empty() || s.front() < '0' || s.front() > '9')
    return false;
  out = 0;
  while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
    out = out * 10 + (s.front() - '0');
    s.remove_prefix(1);
  }
  return true;
}

bool parse_mwd(
  std::string_view& s, int& m, int& w, int& d, std::int32_t& time) {
  if (s.empty() || s.front() != 'M')
    return false;
  s.remove_prefix(1);
  if (!parse_int(s, m) || s.empty() || s.front() != '.')
    return false;
  s.remove_prefix(1);
  if (!parse_int(s, w) || s.empty() || s.front() != '.')
    return false;
  s.remove_prefix(1);
  if (!parse_int(s, d))
    return false;
  if (m < 1 || m > 12 || w < 1 || w > 5 || d < 0 || d > 6)
    return false;
  time = 7200;
  if (!s.empty() && s.front() == '/') {
    s.remove_prefix(1);
    if (!parse_hms(s, time))
      return false;
  }
  return true;
}

} // namespace

// -- time_zone ----------------------------------------------------------------

bool time_zone::parse_posix(std::string_view s, posix_rule& out) {
  posix_rule r;
  if (!parse_name(s))
    return false;
  std::int32_t off = 0;
  if (!parse_hms(s, off))
    return false;
  r.std_offset = -off;
  if (s.empty()) {
    out = r;
    return true;
  }
  if (!parse_name(s))
    return false;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (!s.empty() && s.front() != ',') {
    if (!parse_hms(s, off))
      return false;
    r.dst_offset = -off;
  }
  if (s.empty() || s.front() != ',')
    return false;
  s.remove_prefix(1);
  if (!parse_mwd(s, r.start_month, r.start_week, r.start_day, r.start_time))
    return false;
  if (s.empty() || s.front() != ',')
    return false;
  s.remove_prefix(1);
  if (!parse_mwd(s, r.end_month, r.end_week, r.end_day, r.end_time))
    return false;
  if (!s.empty())
    return false;
  out = r;
  return true;
}

std::int32_t time_zone::rule_offset(std::int64_t unix_s) const {
  const auto& r = *footer_;
  if (!r.has_dst)
    return r.std_offset;
  auto year = civil_from_days(floor_div(unix_s + r.std_offset, 86400)).year;
  // Transitions of that year in UTC; start is given in standard time, end
  // in daylight time.
  auto start = rule_day(year, r.start_month, r.start_week, r.start_day) * 86400
    + r.start_time - r.std_offset;
  auto end = rule_day(year, r.end_month, r.end_week, r.end_day) * 86400
    + r.end_time - r.dst_offset;
  bool dst = start < end ? (unix_s >= start && unix_s < end)
                         : !(unix_s >= end && unix_s < start);
  return dst ? r.dst_offset : r.std_offset;
}

std::optional<time_zone> time_zone::from_posix(std::string_view rule) {
  posix_rule r;
  if (!parse_posix(rule, r))
    return std::nullopt;
  time_zone result;
  result.footer_ = r;
  result.initial_offset_ = r.std_offset;
  return result;
}

std::optional<time_zone> time_zone::parse(std::string_view bytes) {
  reader in{bytes};
  auto header = [&](int& version, std::int64_t(&counts)[6]) {
    if (bytes.size() < in.pos + 44 || bytes.substr(in.pos, 4) != "TZif")
      return false;
    in.skip(4);
    auto v = bytes[in.pos];
    version = v == 0 ? 1 : v - '0';
    in.skip(16);
    for (auto& c : counts) {
      c = in.be(4);
      if (c < 0 || c > 100000)
        return false;
    }
    return in.ok;
  };
  int version = 0;
  std::int64_t c[6]; // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(version, c))
    return std::nullopt;
  std::size_t time_size = 4;
  if (version >= 2) {
    // Skip the 32-bit block; use the 64-bit one that follows.
    in.skip(static_cast<std::size_t>(
      c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]));
    if (!in.ok || !header(version, c))
      return std::nullopt;
    time_size = 8;
  }
  auto timecnt = static_cast<std::size_t>(c[3]);
  auto typecnt = static_cast<std::size_t>(c[4]);
  if (typecnt == 0)
    return std::nullopt;
  time_zone result;
  result.transitions_.resize(timecnt);
  for (auto& t : result.transitions_)
    t = in.be(time_size);
  std::vector<std::size_t> idx(timecnt);
  for (auto& i : idx)
    i = static_cast<std::size_t>(in.be(1));
  std::vector<std::int32_t> offsets(typecnt);
  for (auto& o : offsets) {
    o = static_cast<std::int32_t>(in.be(4));
    in.skip(2);
  }
  in.skip(
    static_cast<std::size_t>(c[5] + c[2] * (time_size + 4) + c[1] + c[0]));
  if (!in.ok)
    return std::nullopt;
  for (auto i : idx)
    if (i >= typecnt)
      return std::nullopt;
  if (!std::is_sorted(result.transitions_.begin(), result.transitions_.end()))
    return std::nullopt;
  result.transition_offsets_.reserve(timecnt);
  for (auto i : idx)
    result.transition_offsets_.push_back(offsets[i]);
  result.initial_offset_ = offsets[0];
  if (version >= 2 && in.pos < bytes.size() && bytes[in.pos] == '\n') {
    auto rest = bytes.substr(in.pos + 1);
    auto nl = rest.find('\n');
    if (nl != std::string_view::npos && nl > 0) {
      posix_rule r;
      if (parse_posix(rest.substr(0, nl), r))
        result.footer_ = r;
    }
  }
  return result;
}

std::optional<time_zone> time_zone::load(
  std::string_view name, const std::string& dir) {
  if (name.empty() || name.find("..") != std::string_view::npos
    || name.front() == '/')
    return std::nullopt;
  std::ifstream file{dir + "/" + std::string{name}, std::ios::binary};
  if (!file)
    return std::nullopt;
  std::string bytes{
    std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
  return parse(bytes);
}

std::int32_t time_zone::utc_offset(std::int64_t unix_s) const {
  if (transitions_.empty())
    return footer_ ? rule_offset(unix_s) : initial_offset_;
  if (unix_s < transitions_.front())
    return initial_offset_;
  if (unix_s >= transitions_.back() && footer_)
    return rule_offset(unix_s);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_s);
  return transition_offsets_[static_cast<std::size_t>(
    std::distance(transitions_.begin(), it) - 1)];
}

// -- market_hours -------------------------------------------------------------

bool market_hours::is_open(std::int64_t unix_ms) const {
  auto unix_s = floor_div(unix_ms, 1000);
  auto local = unix_s + zone.utc_offset(unix_s);
  auto days = floor_div(local, 86400);
  auto dow = weekday(days);
  if (dow == 0 || dow == 6)
    return false;
  auto date = civil_from_days(days);
  auto key = date.year * 10000 + date.month * 100 + date.day;
  if (std::find(holidays.begin(), holidays.end(), key) != holidays.end())
    return false;
  auto minute = static_cast<int>((local - days * 86400) / 60);
  return minute >= open_minute && minute < close_minute;
}

std::optional<market_hours> nyse_hours(const std::string& dir) {
  auto zone = time_zone::load("America/New_York", dir);
  if (!zone)
    return std::nullopt;
  return market_hours{"NYSE", std::move(*zone), 9 * 60 + 30, 16 * 60, {}};
}

std::optional<market_hours> bist_hours(const std::string& dir) {
  auto zone = time_zone::load("Europe/Istanbul", dir);
  if (!zone)
    return std::nullopt;
  return market_hours{"BIST", std::move(*zone), 10 * 60, 18 * 60, {}};
}

} // namespace csp::actors
