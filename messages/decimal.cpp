#include "messages/decimal.hpp"

#include <cmath>
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

bool parse_decimal(std::string_view str, decimal& out) noexcept {
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
