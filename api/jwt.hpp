#pragma once

// JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (JWS, RFC 7515): the
// only algorithm the API accepts. No CAF, no Beast: the HTTP and WebSocket
// handlers call these functions with the header text they received.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace csp::api {

/// What a token holder may do. An admin may do everything a viewer may.
enum class role { viewer, admin };

/// The claim spelling of a role: "viewer" or "admin".
std::string_view to_string(role r) noexcept;

/// Returns whether a holder of `have` may do what needs `need`.
constexpr bool permits(role have, role need) noexcept {
  return have == role::admin || need == role::viewer;
}

/// The claims the API reads from a token's payload.
struct jwt_claims {
  /// `sub`: who the token was issued to (may be empty: no `sub` claim).
  std::string subject;
  /// `role`: "viewer" or "admin"; required.
  role r = role::viewer;
  /// `exp`: expiry in seconds since the epoch; required.
  std::int64_t exp_s = 0;
  /// `nbf`: not valid before this time, in seconds since the epoch.
  std::optional<std::int64_t> nbf_s;
  /// `iat`: issue time in seconds since the epoch (informational).
  std::optional<std::int64_t> iat_s;
};

/// Why a token was refused.
enum class jwt_errc {
  /// Not three base64url parts, bad base64url, header or payload not a JSON
  /// object, a claim of the wrong type, or too long.
  malformed,
  /// The header's `alg` is missing or not exactly "HS256", or the header
  /// asks for extensions (`crit`) this implementation does not know.
  unsupported_algorithm,
  /// The signature does not match (wrong secret or altered token), or the
  /// secret is empty.
  bad_signature,
  /// now >= exp + leeway.
  expired,
  /// now + leeway < nbf.
  not_yet_valid,
  /// `exp` or `role` is missing.
  missing_claim,
  /// `role` is neither "viewer" nor "admin".
  bad_role,
};

/// A stable snake_case code for API error bodies and logs, e.g.
/// "token_expired".
std::string_view to_string(jwt_errc x) noexcept;

/// Outcome of jwt_verify_hs256: claims, or an error with a message for
/// humans. Exactly one of `claims` and `error` is set.
struct jwt_result {
  std::optional<jwt_claims> claims;
  std::optional<jwt_errc> error;
  std::string message;

  bool ok() const noexcept { return claims.has_value(); }
};

/// Outcome of jwt_decode_verified: the payload's JSON text, or an error.
struct jwt_payload_result {
  /// The decoded payload (JSON text, not parsed) when the signature holds.
  std::optional<std::string> payload;
  std::optional<jwt_errc> error;
  std::string message;
};

/// Longest token accepted, in characters; longer ones are malformed before
/// any decoding or hashing.
inline constexpr std::size_t max_token_size = 8192;

/// Returns a compact token with the header {"alg":"HS256","typ":"JWT"} and
/// the claims `sub` (when not empty), `role`, `exp`, `nbf` and `iat` (when
/// set). Throws std::invalid_argument when `secret` is empty or the subject
/// is not valid UTF-8.
std::string jwt_sign_hs256(const jwt_claims& c, std::string_view secret);

/// Checks the token's form, header and signature, but no claims: returns
/// the payload only if its HS256 signature under `secret` is correct.
jwt_payload_result jwt_decode_verified(
  std::string_view token, std::string_view secret);

/// Verifies a token completely: form, header (alg "HS256"), signature
/// (constant-time comparison), then the claims: `exp` and `role` required,
/// `nbf` checked when present. Expired when now_s >= exp + leeway_s; not
/// yet valid when now_s + leeway_s < nbf. A negative leeway counts as 0.
/// An empty secret verifies nothing (bad_signature). Never throws.
jwt_result jwt_verify_hs256(std::string_view token, std::string_view secret,
  std::int64_t now_s, std::int64_t leeway_s = 0);

/// Returns the token of an "Authorization" header value "Bearer <token>"
/// (scheme case-insensitive, RFC 7235; token of RFC 6750 b64token
/// characters), or nullopt when the value is not a bearer credential.
std::optional<std::string_view> bearer_token(
  std::string_view authorization_header) noexcept;

} // namespace csp::api
