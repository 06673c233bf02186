#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace csp::messages {

/// Whether two arrays of doubles hold the same bit patterns: two nulls
/// (NaN) are equal, 0.0 and -0.0 are not.
template <std::size_t N>
bool same_bits(
  const std::array<double, N>& x, const std::array<double, N>& y) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    std::uint64_t a;
    std::uint64_t b;
    std::memcpy(&a, &x[i], sizeof(a));
    std::memcpy(&b, &y[i], sizeof(b));
    if (a != b)
      return false;
  }
  return true;
}

} // namespace csp::messages
