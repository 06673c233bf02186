// libFuzzer target for api/jwt: arbitrary tokens, and well-signed tokens
// around arbitrary header or payload text, so the claim checks are reached.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/detail/jwt_codec.hpp"
#include "api/jwt.hpp"

namespace {

using namespace csp::api;

constexpr std::string_view secret = "fuzz-secret";
constexpr std::int64_t now_s = 1'700'000'000;

void require(bool ok) {
  if (!ok)
    std::abort();
}

std::string sign(std::string_view header, std::string_view payload) {
  auto input = detail::base64url_encode(header) + "."
    + detail::base64url_encode(payload);
  auto tag = detail::hmac_sha256(secret, input);
  return input + "."
    + detail::base64url_encode(
      std::string_view{reinterpret_cast<const char*>(tag.data()), tag.size()});
}

/// Checks the invariants of one verification.
void verify(std::string_view token, std::int64_t leeway) {
  auto res = jwt_verify_hs256(token, secret, now_s, leeway);
  require(res.claims.has_value() != res.error.has_value());
  if (!res.ok())
    return;
  const auto& c = *res.claims;
  require(c.r == role::viewer || c.r == role::admin);
  require(now_s < c.exp_s || leeway > 0);
  // What verified once verifies again after signing it anew.
  auto again
    = jwt_verify_hs256(jwt_sign_hs256(c, secret), secret, now_s, leeway);
  require(again.ok());
  require(again.claims->subject == c.subject && again.claims->r == c.r
    && again.claims->exp_s == c.exp_s && again.claims->nbf_s == c.nbf_s
    && again.claims->iat_s == c.iat_s);
  // Another secret never verifies it.
  require(!jwt_verify_hs256(token, "fuzz-secreT", now_s, leeway).ok());
  require(!jwt_verify_hs256(token, "", now_s, leeway).ok());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(
  const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string_view in{reinterpret_cast<const char*>(data + 1), size - 1};
  auto leeway = static_cast<std::int64_t>(data[0] >> 2) * 7;
  switch (data[0] & 3) {
    case 0: {
      // The input as a token, and as an Authorization header value.
      verify(in, leeway);
      if (auto t = bearer_token(in)) {
        require(!t->empty() && in.find(*t) != std::string_view::npos);
        verify(*t, leeway);
      }
      break;
    }
    case 1: {
      // A correctly signed token around arbitrary payload text.
      auto token = sign(R"({"alg":"HS256","typ":"JWT"})", in);
      auto res = jwt_verify_hs256(token, secret, now_s, leeway);
      if (token.size() <= max_token_size)
        require(res.error != jwt_errc::bad_signature
          && res.error != jwt_errc::unsupported_algorithm);
      verify(token, leeway);
      break;
    }
    case 2: {
      // A correctly signed token with an arbitrary header.
      auto token
        = sign(in, R"({"sub":"fuzz","role":"admin","exp":4102444800})");
      auto res = jwt_verify_hs256(token, secret, now_s, leeway);
      require(res.error != jwt_errc::bad_signature);
      verify(token, leeway);
      break;
    }
    default: {
      // base64url: round trip, and only canonical text decodes.
      auto enc = detail::base64url_encode(in);
      auto dec = detail::base64url_decode(enc);
      require(dec && *dec == in);
      if (auto raw = detail::base64url_decode(in))
        require(detail::base64url_encode(*raw) == in);
      break;
    }
  }
  return 0;
}
