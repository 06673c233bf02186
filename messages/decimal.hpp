#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace csp::messages {

__extension__ using int128 = __int128;

/// Number of fractional digits of every exchange price and quantity.
inline constexpr int decimal_digits = 8;

/// 10^decimal_digits: one unit of a decimal is 1 / decimal_scale.
inline constexpr std::int64_t decimal_scale = 100'000'000;

/// A fixed-point number with 8 fractional digits (Binance's precision).
/// Exact, so sums do not depend on the order in which trades arrive.
struct decimal {
  std::int64_t units = 0;

  static constexpr decimal from_units(std::int64_t u) noexcept {
    return decimal{u};
  }

  /// Rounds `x` to the nearest representable value.
  static decimal from_double(double x) noexcept;

  double to_double() const noexcept {
    return static_cast<double>(units) / static_cast<double>(decimal_scale);
  }

  friend constexpr bool operator==(decimal x, decimal y) noexcept {
    return x.units == y.units;
  }
  friend constexpr bool operator!=(decimal x, decimal y) noexcept {
    return x.units != y.units;
  }
  friend constexpr bool operator<(decimal x, decimal y) noexcept {
    return x.units < y.units;
  }
  friend constexpr bool operator>(decimal x, decimal y) noexcept {
    return x.units > y.units;
  }
  friend constexpr bool operator<=(decimal x, decimal y) noexcept {
    return x.units <= y.units;
  }
  friend constexpr bool operator>=(decimal x, decimal y) noexcept {
    return x.units >= y.units;
  }
};

/// A 128-bit fixed-point sum with 8 fractional digits, wide enough for a
/// day's volume of any instrument (int64 overflows at 9.2e10 units).
struct wide_decimal {
  int128 units = 0;

  wide_decimal& operator+=(decimal x) noexcept {
    units += x.units;
    return *this;
  }
  wide_decimal& operator+=(wide_decimal x) noexcept {
    units += x.units;
    return *this;
  }

  double to_double() const noexcept {
    return static_cast<double>(units) / static_cast<double>(decimal_scale);
  }

  friend bool operator==(wide_decimal x, wide_decimal y) noexcept {
    return x.units == y.units;
  }
  friend bool operator!=(wide_decimal x, wide_decimal y) noexcept {
    return x.units != y.units;
  }
};

/// Rounds a value in 1e-16 units (a product of two decimals, or a sum of
/// such products) half-to-even to 8 fractional digits.
wide_decimal round_product(int128 units_e16) noexcept;

/// Returns price × quantity rounded half-to-even to 8 fractional digits.
inline wide_decimal multiply(decimal price, decimal quantity) noexcept {
  return round_product(static_cast<int128>(price.units) * quantity.units);
}

/// Parses a plain decimal string such as "50000.12" or "0.00100000".
/// Accepts an optional leading '-', digits and at most one '.'. Rejects
/// empty input, exponents, stray characters, overflow and non-zero digits
/// beyond the 8th fractional digit. Returns false on error.
bool parse_decimal(std::string_view str, decimal& out) noexcept;

/// Writes the shortest exact form ("50000.5", "0.00000001", "12") of a value
/// given in 1e-8 units into `buf` (at least 64 bytes) and returns the
/// number of characters written.
std::size_t format_units(int128 units, char* buf) noexcept;

std::string to_string(decimal x);

std::string to_string(wide_decimal x);

} // namespace csp::messages
