#pragma once

// Building blocks of api/jwt, public for their tests and the fuzzers:
// HMAC-SHA256 (OpenSSL), unpadded base64url (RFC 4648 section 5) and a
// constant-time comparison.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace csp::api::detail {

/// Bytes of an HMAC-SHA256 tag.
inline constexpr std::size_t hmac_sha256_size = 32;

/// Returns HMAC-SHA256(key, data) (RFC 2104, FIPS 180-4).
std::array<unsigned char, hmac_sha256_size> hmac_sha256(
  std::string_view key, std::string_view data);

/// Encodes bytes as base64url without padding.
std::string base64url_encode(std::string_view bytes);

/// Decodes unpadded base64url. Returns nullopt for padding ('='), any
/// character outside the base64url alphabet, an impossible length
/// (4n + 1), or unused trailing bits that are not zero (a non-canonical
/// encoding), so every byte string has exactly one accepted encoding.
std::optional<std::string> base64url_decode(std::string_view text);

/// Compares two byte strings in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

} // namespace csp::api::detail
