#include "messages/decimal.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace csp::messages {

decimal decimal::from_double(double x) noexcept {
  return decimal{static_cast<std::int64_t>(
    std::llround(x * static_cast<double>(decimal_scale)))};
}

wide_decimal round_product(int128 product) noexcept {
  int128 q = product / decimal_scale;
  int128 r = product % decimal_scale;
  // Round half to even; r has the sign of product.
  int128 twice = (r < 0 ? -r : r) * 2;
  if (twice > decimal_scale || (twice == decimal_scale && (q % 2) != 0))
    q += product < 0 ? -1 : 1;
  return wide_decimal{q};
}

namespace {

/// Whether the 8 bytes at `p` are all ASCII digits; if so, stores their
/// value in `out`. Converts all eight at once (SWAR: digit pairs, then
/// quadruples, then the halves), as every exchange price carries exactly
/// eight fractional digits.
bool eight_digits(const char* p, std::int64_t& out) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  v -= 0x3030303030303030ULL;
  // A byte above 9 (or below '0', which wrapped) sets its high bit here.
  if (((v + 0x7676767676767676ULL) | v) & 0x8080808080808080ULL)
    return false;
  // Little endian: the first digit is the lowest byte.
  v = (v * 10) + (v >> 8); // byte 2k: d[2k]*10 + d[2k+1]
  v = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32)))
        + (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32))))
    >> 32;
  out = static_cast<std::int64_t>(v);
  return true;
}

/// Fast path for the common exchange form "123.45678" (at most 10 integral
/// and 8 fractional digits, so no overflow is possible). Returns false when
/// the string is not of that form; the general parser then decides.
bool parse_plain(std::string_view str, decimal& out) noexcept {
  auto n = str.size();
  if (n == 0 || n > 19)
    return false;
  std::int64_t integral = 0;
  std::size_t i = 0;
  // An 11th integral digit already means "not this form": stop there, so
  // that integral cannot overflow.
  std::size_t int_limit = n < 11 ? n : 11;
  for (; i < int_limit; ++i) {
    auto d = static_cast<unsigned>(str[i] - '0');
    if (d > 9)
      break;
    integral = integral * 10 + static_cast<std::int64_t>(d);
  }
  if (i == 0 || i > 10)
    return false;
  std::int64_t fraction = 0;
  int digits = 0;
  if (i < n) {
    if (str[i] != '.' || n - i - 1 > static_cast<std::size_t>(decimal_digits)
      || n - i - 1 == 0)
      return false;
    ++i;
    if (n - i == 8 && eight_digits(str.data() + i, fraction)) {
      out.units = integral * decimal_scale + fraction;
      return true;
    }
    for (; i < n; ++i) {
      auto d = static_cast<unsigned>(str[i] - '0');
      if (d > 9)
        return false;
      fraction = fraction * 10 + static_cast<std::int64_t>(d);
      ++digits;
    }
  }
  static constexpr std::int64_t pow10[]
    = {100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
  out.units = integral * decimal_scale + fraction * pow10[digits];
  return true;
}

} // namespace

bool parse_decimal(std::string_view str, decimal& out) noexcept {
  if (parse_plain(str, out))
    return true;
  if (str.empty())
    return false;
  bool negative = false;
  std::size_t pos = 0;
  if (str[0] == '-') {
    negative = true;
    pos = 1;
  }
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  std::int64_t integral = 0;
  std::size_t int_digits = 0;
  for (; pos < str.size() && str[pos] != '.'; ++pos) {
    char c = str[pos];
    if (c < '0' || c > '9')
      return false;
    if (integral > (max / decimal_scale - (c - '0')) / 10)
      return false;
    integral = integral * 10 + (c - '0');
    ++int_digits;
  }
  std::int64_t fraction = 0;
  std::size_t frac_digits = 0;
  if (pos < str.size()) {
    ++pos; // skip '.'
    if (pos == str.size() && int_digits == 0)
      return false;
    for (; pos < str.size(); ++pos) {
      char c = str[pos];
      if (c < '0' || c > '9')
        return false;
      if (frac_digits < static_cast<std::size_t>(decimal_digits)) {
        fraction = fraction * 10 + (c - '0');
      } else if (c != '0') {
        return false; // more precision than the platform keeps
      }
      ++frac_digits;
    }
  }
  if (int_digits == 0 && frac_digits == 0)
    return false;
  for (auto i = frac_digits; i < static_cast<std::size_t>(decimal_digits); ++i)
    fraction *= 10;
  std::int64_t units = integral * decimal_scale + fraction;
  out.units = negative ? -units : units;
  return true;
}

std::size_t format_units(int128 units, char* buf) noexcept {
  char tmp[48];
  std::size_t n = 0;
  bool negative = units < 0;
  // Work on the magnitude as unsigned to handle the minimum value.
  __extension__ using uint128 = unsigned __int128;
  uint128 mag = negative ? static_cast<uint128>(-(units + 1)) + 1
                         : static_cast<uint128>(units);
  auto frac = static_cast<std::int64_t>(mag % decimal_scale);
  uint128 integral = mag / decimal_scale;
  do {
    tmp[n++] = static_cast<char>('0' + static_cast<int>(integral % 10));
    integral /= 10;
  } while (integral != 0);
  std::size_t len = 0;
  if (negative)
    buf[len++] = '-';
  while (n > 0)
    buf[len++] = tmp[--n];
  if (frac != 0) {
    buf[len++] = '.';
    char digits[decimal_digits];
    for (int i = decimal_digits - 1; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    int last = decimal_digits - 1;
    while (digits[last] == '0')
      --last;
    for (int i = 0; i <= last; ++i)
      buf[len++] = digits[i];
  }
  return len;
}

std::string to_string(decimal x) {
  char buf[64];
  return std::string(buf, format_units(x.units, buf));
}

std::string to_string(wide_decimal x) {
  char buf[64];
  return std::string(buf, format_units(x.units, buf));
}

} // namespace csp::messages
