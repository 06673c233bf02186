#include "api/json_text.hpp"

#include <charconv>
#include <cmath>

namespace csp::api {

namespace {

__extension__ using u128 = unsigned __int128;

/// Length of the valid UTF-8 sequence starting at s[i], or 0 when the
/// bytes there do not start one. `bad` receives the number of bytes that
/// form the maximal invalid subpart (at least 1) when 0 is returned.
std::size_t utf8_sequence(
  std::string_view s, std::size_t i, std::size_t& bad) noexcept {
  auto byte
    = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto c = byte(0);
  bad = 1;
  if (c < 0x80)
    return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0; // no overlong 3-byte forms
    else if (c == 0xED)
      hi = 0x9F; // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90; // no overlong 4-byte forms
    else if (c == 0xF4)
      hi = 0x8F; // nothing above U+10FFFF
  } else {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    if (i + k >= s.size())
      return 0;
    auto b = byte(k);
    auto min = k == 1 ? lo : static_cast<unsigned char>(0x80);
    auto max = k == 1 ? hi : static_cast<unsigned char>(0xBF);
    if (b < min || b > max)
      return 0;
    bad = k + 1;
  }
  return len;
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t bad = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      auto n = utf8_sequence(s, i, bad);
      if (n == 0) {
        out += "\xEF\xBF\xBD"; // U+FFFD
        i += bad;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_json_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

void append_json_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  if (v == 0 && std::signbit(v)) {
    // "-0" reads back as the integer 0 in many parsers; "-0.0" keeps the
    // sign.
    out += "-0.0";
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

void append_fixed8(std::string& out, messages::int128 units) {
  // Magnitude as unsigned 128 bits (also for the most negative value).
  bool negative = units < 0;
  u128 mag = negative ? static_cast<u128>(0) - static_cast<u128>(units)
                      : static_cast<u128>(units);
  char digits[48];
  std::size_t n = 0;
  // At least 9 digits: 8 fractional and one integral.
  while (mag != 0 || n < 9) {
    digits[n++] = static_cast<char>('0' + static_cast<int>(mag % 10));
    mag /= 10;
  }
  if (negative)
    out += '-';
  for (std::size_t k = n; k > 8; --k)
    out += digits[k - 1];
  out += '.';
  for (std::size_t k = 8; k > 0; --k)
    out += digits[k - 1];
}

} // namespace csp::api
