#include "api/query.hpp"

#include <limits>

#include "messages/calendar.hpp"

namespace csp::api {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Visible ASCII (0x21..0x7E): the only bytes allowed in a raw target.
bool is_visible_ascii(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7E;
}

/// At most this many bytes of a value are quoted in an error text.
constexpr std::size_t max_quoted = 64;

/// `text` in quotes, cut to max_quoted bytes at a character boundary.
/// `text` is valid UTF-8 (parse_target guarantees it).
std::string quote(std::string_view text) {
  if (text.size() > max_quoted) {
    auto n = max_quoted;
    // Step back over continuation bytes to the start of a character.
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
      --n;
    text = text.substr(0, n);
    return "\"" + std::string{text} + "...\"";
  }
  return "\"" + std::string{text} + "\"";
}

std::string param_error(std::string_view name, std::string_view what) {
  return "parameter " + quote(name) + ": " + std::string{what};
}

/// Parses exactly `n` digits at `text[pos]`; -1 if any is not a digit.
int digits(std::string_view text, std::size_t pos, std::size_t n) noexcept {
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto c = text[pos + i];
    if (c < '0' || c > '9')
      return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool is_leap(int y) noexcept {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) noexcept {
  constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

std::optional<std::int64_t> parse_iso_utc(std::string_view s) noexcept {
  // YYYY-MM-DD[THH:MM:SS[.f{1,3}]Z]
  if (s.size() < 10 || s[4] != '-' || s[7] != '-')
    return std::nullopt;
  auto year = digits(s, 0, 4);
  auto month = digits(s, 5, 2);
  auto day = digits(s, 8, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1
    || day > days_in_month(year, month))
    return std::nullopt;
  std::int64_t ms = messages::days_from_civil(year, month, day) * 86'400'000;
  if (s.size() == 10)
    return ms;
  if (s.size() < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':'
    || s.back() != 'Z')
    return std::nullopt;
  auto hour = digits(s, 11, 2);
  auto minute = digits(s, 14, 2);
  auto second = digits(s, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0
    || second > 59)
    return std::nullopt;
  ms += ((hour * std::int64_t{60} + minute) * 60 + second) * 1000;
  auto frac = s.substr(19, s.size() - 20);
  if (frac.empty())
    return ms;
  if (frac.front() != '.' || frac.size() < 2 || frac.size() > 4)
    return std::nullopt;
  auto n = frac.size() - 1;
  auto f = digits(frac, 1, n);
  if (f < 0)
    return std::nullopt;
  for (auto i = n; i < 3; ++i)
    f *= 10;
  return ms + f;
}

} // namespace

const std::string* parsed_target::param(std::string_view name) const {
  auto i = params.find(name);
  return i == params.end() ? nullptr : &i->second;
}

std::optional<std::string> percent_decode(
  std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size())
        return std::nullopt;
      auto hi = hex_value(text[i + 1]);
      auto lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      auto byte = static_cast<char>(hi * 16 + lo);
      if (byte == '\0')
        return std::nullopt;
      out += byte;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '\0') {
      return std::nullopt;
    } else {
      out += c;
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  auto n = text.size();
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  auto cont = [&](std::size_t k) { return k < n && (at(k) & 0xC0) == 0x80; };
  while (i < n) {
    auto b = at(i);
    if (b < 0x80) {
      ++i;
    } else if (b >= 0xC2 && b <= 0xDF) {
      if (!cont(i + 1))
        return false;
      i += 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      if (!cont(i + 1) || !cont(i + 2))
        return false;
      auto b1 = at(i + 1);
      if (b == 0xE0 && b1 < 0xA0) // overlong
        return false;
      if (b == 0xED && b1 >= 0xA0) // surrogates
        return false;
      i += 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
      if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
        return false;
      auto b1 = at(i + 1);
      if (b == 0xF0 && b1 < 0x90) // overlong
        return false;
      if (b == 0xF4 && b1 >= 0x90) // above U+10FFFF
        return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

std::variant<parsed_target, std::string> parse_target(std::string_view target) {
  if (target.size() > max_target_size)
    return "request target longer than " + std::to_string(max_target_size)
      + " bytes";
  if (target.empty() || target.front() != '/')
    return std::string{"request target must start with \"/\""};
  for (char c : target)
    if (!is_visible_ascii(c))
      return std::string{"request target holds a byte outside visible ASCII"};
  if (target.find('#') != std::string_view::npos)
    return std::string{"request target must not have a fragment"};
  auto qmark = target.find('?');
  auto raw_path = target.substr(0, qmark);
  auto raw_query = qmark == std::string_view::npos ? std::string_view{}
                                                   : target.substr(qmark + 1);
  parsed_target result;
  result.path = "/";
  if (raw_path.size() > 1) {
    auto rest = raw_path.substr(1);
    for (;;) {
      auto slash = rest.find('/');
      auto raw_seg = rest.substr(0, slash);
      if (raw_seg.empty())
        return std::string{"empty path segment"};
      for (std::size_t i = 0; i + 2 < raw_seg.size(); ++i)
        if (raw_seg[i] == '%' && raw_seg[i + 1] == '2'
          && (raw_seg[i + 2] == 'F' || raw_seg[i + 2] == 'f'))
          return std::string{"escaped \"/\" (%2F) in a path segment"};
      auto seg = percent_decode(raw_seg, false);
      if (!seg)
        return std::string{"bad percent escape in the path"};
      if (*seg == "." || *seg == "..")
        return std::string{"\".\" or \"..\" path segment"};
      if (!is_valid_utf8(*seg))
        return std::string{"path is not UTF-8"};
      if (!result.segments.empty())
        result.path += '/';
      result.path += *seg;
      result.segments.push_back(std::move(*seg));
      if (slash == std::string_view::npos)
        break;
      rest.remove_prefix(slash + 1);
    }
  }
  while (!raw_query.empty()) {
    auto amp = raw_query.find('&');
    auto part = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view{}
                                              : raw_query.substr(amp + 1);
    if (part.empty())
      continue;
    auto eq = part.find('=');
    auto name = percent_decode(part.substr(0, eq), true);
    auto value = percent_decode(
      eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1),
      true);
    if (!name || !value)
      return std::string{"bad percent escape in the query"};
    if (name->empty())
      return std::string{"query parameter without a name"};
    if (!is_valid_utf8(*name) || !is_valid_utf8(*value))
      return std::string{"query is not UTF-8"};
    if (result.params.count(*name) != 0)
      return "parameter " + quote(*name) + " given more than once";
    if (result.params.size() == max_query_params)
      return "more than " + std::to_string(max_query_params)
        + " query parameters";
    result.params.emplace(std::move(*name), std::move(*value));
  }
  return result;
}

std::optional<std::int64_t> parse_non_negative(std::string_view text) noexcept {
  if (text.empty())
    return std::nullopt;
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto d = c - '0';
    if (v > (max - d) / 10)
      return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<std::int64_t> parse_time_ms(std::string_view text) noexcept {
  // The last millisecond of 9999-12-31.
  constexpr std::int64_t max_ms = 253'402'300'799'999;
  if (!text.empty() && text.find_first_not_of("0123456789") == text.npos) {
    auto v = parse_non_negative(text);
    if (!v || *v > max_ms)
      return std::nullopt;
    return v;
  }
  return parse_iso_utc(text);
}

param_value<std::int64_t> int_param(const parsed_target& t,
  std::string_view name, std::int64_t min, std::int64_t max) {
  param_value<std::int64_t> result;
  const auto* text = t.param(name);
  if (text == nullptr)
    return result;
  auto v = parse_non_negative(*text);
  if (!v || *v < min || *v > max)
    result.error = param_error(name,
      "expected an integer between " + std::to_string(min) + " and "
        + std::to_string(max) + ", got " + quote(*text));
  else
    result.value = v;
  return result;
}

param_value<std::int64_t> time_param(
  const parsed_target& t, std::string_view name) {
  param_value<std::int64_t> result;
  const auto* text = t.param(name);
  if (text == nullptr)
    return result;
  auto v = parse_time_ms(*text);
  if (!v)
    result.error = param_error(name,
      "expected milliseconds since the epoch or an ISO-8601 UTC time "
      "(2024-01-31, 2024-01-31T10:00:00Z, 2024-01-31T10:00:00.123Z), got "
        + quote(*text));
  else
    result.value = v;
  return result;
}

std::optional<std::string> check_known_params(
  const parsed_target& t, std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : t.params) {
    bool found = false;
    for (auto k : known)
      found = found || k == name;
    if (!found)
      return param_error(name, "unknown parameter");
  }
  return std::nullopt;
}

} // namespace csp::api
