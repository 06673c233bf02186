#include "api/jwt.hpp"

#include "api/detail/jwt_codec.hpp"

#include <cstdint>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace csp::api {

namespace detail {

namespace {

constexpr char b64url_alphabet[]
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The 6-bit value of a base64url character, or -1.
int b64url_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

} // namespace

std::array<unsigned char, hmac_sha256_size> hmac_sha256(
  std::string_view key, std::string_view data) {
  std::array<unsigned char, hmac_sha256_size> out{};
  if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::invalid_argument("hmac_sha256: key too long");
  // OpenSSL wants a non-null key pointer even for an empty key.
  static const char no_key = 0;
  const char* key_ptr = key.empty() ? &no_key : key.data();
  unsigned int len = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), bytes,
        data.size(), out.data(), &len)
      == nullptr
    || len != out.size())
    throw std::runtime_error("hmac_sha256: OpenSSL HMAC failed");
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    auto v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += b64url_alphabet[(v >> 18) & 63];
    out += b64url_alphabet[(v >> 12) & 63];
    out += b64url_alphabet[(v >> 6) & 63];
    out += b64url_alphabet[v & 63];
  }
  auto rest = bytes.size() - i;
  if (rest == 1) {
    auto v = byte(i) << 16;
    out += b64url_alphabet[(v >> 18) & 63];
    out += b64url_alphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    auto v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += b64url_alphabet[(v >> 18) & 63];
    out += b64url_alphabet[(v >> 12) & 63];
    out += b64url_alphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    auto v = b64url_value(c);
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // 2 or 4 bits are left over after a partial group; they must be zero.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
    return std::nullopt;
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  if (a.empty())
    return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace detail

namespace {

using nlohmann::json;

std::string sign_input(std::string_view signing_input, std::string_view key) {
  auto tag = detail::hmac_sha256(key, signing_input);
  return std::string{reinterpret_cast<const char*>(tag.data()), tag.size()};
}

jwt_payload_result payload_error(jwt_errc code, std::string message) {
  jwt_payload_result result;
  result.error = code;
  result.message = std::move(message);
  return result;
}

jwt_result claims_error(jwt_errc code, std::string message) {
  jwt_result result;
  result.error = code;
  result.message = std::move(message);
  return result;
}

/// Reads an integer claim that may be absent. Returns false when present
/// but not an integer that fits std::int64_t.
bool read_int_claim(
  const json& obj, const char* name, std::optional<std::int64_t>& out) {
  auto i = obj.find(name);
  if (i == obj.end())
    return true;
  if (i->is_number_unsigned()) {
    auto u = i->get<std::uint64_t>();
    if (u
      > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return false;
    out = static_cast<std::int64_t>(u);
    return true;
  }
  if (i->is_number_integer()) {
    out = i->get<std::int64_t>();
    return true;
  }
  return false;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  // b is never negative here.
  if (a > std::numeric_limits<std::int64_t>::max() - b)
    return std::numeric_limits<std::int64_t>::max();
  return a + b;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = a[i];
    auto y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

bool is_b64token_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
    || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~'
    || c == '+' || c == '/';
}

} // namespace

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::viewer:
      return "viewer";
    case role::admin:
      return "admin";
  }
  return "?";
}

std::string_view to_string(jwt_errc x) noexcept {
  switch (x) {
    case jwt_errc::malformed:
      return "token_malformed";
    case jwt_errc::unsupported_algorithm:
      return "token_unsupported_algorithm";
    case jwt_errc::bad_signature:
      return "token_bad_signature";
    case jwt_errc::expired:
      return "token_expired";
    case jwt_errc::not_yet_valid:
      return "token_not_yet_valid";
    case jwt_errc::missing_claim:
      return "token_missing_claim";
    case jwt_errc::bad_role:
      return "token_bad_role";
  }
  return "token_invalid";
}

std::string jwt_sign_hs256(const jwt_claims& c, std::string_view secret) {
  if (secret.empty())
    throw std::invalid_argument("jwt_sign_hs256: the secret must not be empty");
  json payload = json::object();
  if (!c.subject.empty())
    payload["sub"] = c.subject;
  payload["role"] = std::string{to_string(c.r)};
  payload["exp"] = c.exp_s;
  if (c.nbf_s)
    payload["nbf"] = *c.nbf_s;
  if (c.iat_s)
    payload["iat"] = *c.iat_s;
  std::string payload_text;
  try {
    payload_text = payload.dump();
  } catch (const json::exception&) {
    throw std::invalid_argument(
      "jwt_sign_hs256: the subject is not valid UTF-8");
  }
  std::string token
    = detail::base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  token += '.';
  token += detail::base64url_encode(payload_text);
  auto signature = sign_input(token, secret);
  token += '.';
  token += detail::base64url_encode(signature);
  return token;
}

jwt_payload_result jwt_decode_verified(
  std::string_view token, std::string_view secret) {
  if (token.size() > max_token_size)
    return payload_error(jwt_errc::malformed,
      "token longer than " + std::to_string(max_token_size) + " characters");
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos
    || token.find('.', dot2 + 1) != std::string_view::npos)
    return payload_error(jwt_errc::malformed,
      "a token has three base64url parts separated by two dots");
  auto header_b64 = token.substr(0, dot1);
  auto payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  auto signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty() || signature_b64.empty())
    return payload_error(jwt_errc::malformed, "empty token part");
  auto header_text = detail::base64url_decode(header_b64);
  if (!header_text)
    return payload_error(jwt_errc::malformed, "header is not base64url");
  auto payload = detail::base64url_decode(payload_b64);
  if (!payload)
    return payload_error(jwt_errc::malformed, "payload is not base64url");
  auto signature = detail::base64url_decode(signature_b64);
  if (!signature || signature->size() != detail::hmac_sha256_size)
    return payload_error(
      jwt_errc::malformed, "signature is not 32 bytes of base64url");
  auto header = json::parse(*header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object())
    return payload_error(jwt_errc::malformed, "header is not a JSON object");
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()
    || alg->get_ref<const std::string&>() != "HS256")
    return payload_error(
      jwt_errc::unsupported_algorithm, "only alg \"HS256\" is accepted");
  if (header.contains("crit"))
    return payload_error(
      jwt_errc::unsupported_algorithm, "critical header extensions");
  if (secret.empty())
    return payload_error(jwt_errc::bad_signature, "no secret configured");
  auto expected = sign_input(token.substr(0, dot2), secret);
  if (!detail::constant_time_equal(expected, *signature))
    return payload_error(jwt_errc::bad_signature, "signature mismatch");
  jwt_payload_result result;
  result.payload = std::move(payload);
  return result;
}

jwt_result jwt_verify_hs256(std::string_view token, std::string_view secret,
  std::int64_t now_s, std::int64_t leeway_s) {
  auto verified = jwt_decode_verified(token, secret);
  if (!verified.payload)
    return claims_error(*verified.error, std::move(verified.message));
  auto payload = json::parse(*verified.payload, nullptr, false);
  if (payload.is_discarded() || !payload.is_object())
    return claims_error(jwt_errc::malformed, "payload is not a JSON object");
  jwt_claims claims;
  std::optional<std::int64_t> exp;
  if (!read_int_claim(payload, "exp", exp))
    return claims_error(jwt_errc::malformed, "exp is not an integer");
  if (!read_int_claim(payload, "nbf", claims.nbf_s))
    return claims_error(jwt_errc::malformed, "nbf is not an integer");
  if (!read_int_claim(payload, "iat", claims.iat_s))
    return claims_error(jwt_errc::malformed, "iat is not an integer");
  if (auto sub = payload.find("sub"); sub != payload.end()) {
    if (!sub->is_string())
      return claims_error(jwt_errc::malformed, "sub is not a string");
    claims.subject = sub->get<std::string>();
  }
  if (!exp)
    return claims_error(jwt_errc::missing_claim, "no exp claim");
  claims.exp_s = *exp;
  auto r = payload.find("role");
  if (r == payload.end())
    return claims_error(jwt_errc::missing_claim, "no role claim");
  if (!r->is_string())
    return claims_error(jwt_errc::bad_role, "role is not a string");
  const auto& role_name = r->get_ref<const std::string&>();
  if (role_name == "viewer")
    claims.r = role::viewer;
  else if (role_name == "admin")
    claims.r = role::admin;
  else
    return claims_error(
      jwt_errc::bad_role, "role must be \"viewer\" or \"admin\"");
  auto leeway = leeway_s < 0 ? std::int64_t{0} : leeway_s;
  if (now_s >= saturating_add(claims.exp_s, leeway))
    return claims_error(jwt_errc::expired, "token expired");
  if (claims.nbf_s && saturating_add(now_s, leeway) < *claims.nbf_s)
    return claims_error(jwt_errc::not_yet_valid, "token not valid yet");
  jwt_result result;
  result.claims = std::move(claims);
  return result;
}

std::optional<std::string_view> bearer_token(
  std::string_view authorization_header) noexcept {
  auto v = authorization_header;
  auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!v.empty() && is_ows(v.front()))
    v.remove_prefix(1);
  while (!v.empty() && is_ows(v.back()))
    v.remove_suffix(1);
  constexpr std::string_view scheme = "bearer";
  if (v.size() <= scheme.size() || !iequals(v.substr(0, scheme.size()), scheme)
    || v[scheme.size()] != ' ')
    return std::nullopt;
  v.remove_prefix(scheme.size());
  while (!v.empty() && v.front() == ' ')
    v.remove_prefix(1);
  // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  std::size_t i = 0;
  while (i < v.size() && is_b64token_char(v[i]))
    ++i;
  if (i == 0)
    return std::nullopt;
  while (i < v.size() && v[i] == '=')
    ++i;
  if (i != v.size())
    return std::nullopt;
  return v;
}

} // namespace csp::api
