#define CAF_SUITE api.jwt
#include "caf/test/unit_test.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "api/detail/jwt_codec.hpp"
#include "api/jwt.hpp"

using namespace csp::api;
using namespace csp::api::detail;

namespace {

std::string hex(const std::array<unsigned char, hmac_sha256_size>& tag,
  std::size_t n = hmac_sha256_size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[tag[i] >> 4];
    out += digits[tag[i] & 15];
  }
  return out;
}

std::string bytes_of(std::initializer_list<int> xs) {
  std::string out;
  for (auto x : xs)
    out += static_cast<char>(x);
  return out;
}

/// Builds a token from header and payload JSON text with the primitives
/// (checked against RFC vectors above), independent of jwt_sign_hs256.
std::string make_token(const std::string& header, const std::string& payload,
  const std::string& secret) {
  auto input = base64url_encode(header) + "." + base64url_encode(payload);
  auto tag = hmac_sha256(secret, input);
  return input + "."
    + base64url_encode(
      std::string{reinterpret_cast<const char*>(tag.data()), tag.size()});
}

constexpr const char* hs256_header = R"({"alg":"HS256","typ":"JWT"})";

constexpr std::int64_t t0 = 1'700'000'000;

const std::string secret = "test-secret";

jwt_claims viewer_claims() {
  jwt_claims c;
  c.subject = "bob";
  c.r = role::viewer;
  c.exp_s = t0 + 3600;
  return c;
}

bool has_error(const jwt_result& res, jwt_errc code) {
  if (res.error == code)
    return true;
  CAF_MESSAGE("expected " << to_string(code) << ", got "
                          << (res.error ? to_string(*res.error) : "no error")
                          << " (" << res.message << ")");
  return false;
}

/// Flips one bit of the character at `pos`, keeping it a base64url
/// character of a different value.
std::string flip_char(std::string token, std::size_t pos) {
  token[pos] = token[pos] == 'A' ? 'B' : 'A';
  return token;
}

/// The token of a header value, or "<none>".
std::string bearer(std::string_view header) {
  auto t = bearer_token(header);
  return t ? std::string{*t} : std::string{"<none>"};
}

} // namespace

// RFC 4231 section 4, test cases 1 to 7 (HMAC-SHA-256 lines).
CAF_TEST(hmac sha256 matches RFC 4231) {
  CAF_CHECK_EQUAL(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CAF_CHECK_EQUAL(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CAF_CHECK_EQUAL(
    hex(hmac_sha256(std::string(20, '\xaa'), std::string(50, '\xdd'))),
    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  std::string key4;
  for (int i = 1; i <= 25; ++i)
    key4 += static_cast<char>(i);
  CAF_CHECK_EQUAL(hex(hmac_sha256(key4, std::string(50, '\xcd'))),
    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Test case 5 publishes the first 128 bits only.
  CAF_CHECK_EQUAL(
    hex(hmac_sha256(std::string(20, '\x0c'), "Test With Truncation"), 16),
    "a3b6167473100ee06e0c796c2955552b");
  CAF_CHECK_EQUAL(hex(hmac_sha256(std::string(131, '\xaa'),
                    "Test Using Larger Than Block-Size Key - Hash Key First")),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CAF_CHECK_EQUAL(
    hex(hmac_sha256(std::string(131, '\xaa'),
      "This is a test using a larger than block-size key and a larger than "
      "block-size data. The key needs to be hashed before being used by the "
      "HMAC algorithm.")),
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

// RFC 4648 section 10 vectors, without the padding base64url omits here.
CAF_TEST(base64url matches RFC 4648) {
  const std::pair<const char*, const char*> vectors[] = {
    {"", ""},
    {"f", "Zg"},
    {"fo", "Zm8"},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg"},
    {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
  };
  for (auto& [plain, encoded] : vectors) {
    CAF_CHECK_EQUAL(base64url_encode(plain), encoded);
    CAF_CHECK(base64url_decode(encoded) == std::string{plain});
  }
  // The two characters base64url replaces ("+/" in base64, as printed by
  // `printf '\xfb\xff\xbf' | base64`).
  auto high = bytes_of({0xfb, 0xff, 0xbf});
  CAF_CHECK_EQUAL(base64url_encode(high), "-_-_");
  CAF_CHECK(base64url_decode("-_-_") == high);
  CAF_CHECK_EQUAL(base64url_encode(bytes_of({0xfb, 0xff})), "-_8");
  CAF_CHECK_EQUAL(base64url_encode(bytes_of({0xff})), "_w");
}

CAF_TEST(base64url rejects padding and foreign characters) {
  CAF_CHECK(!base64url_decode("Zg=="));
  CAF_CHECK(!base64url_decode("Zm8="));
  CAF_CHECK(!base64url_decode("Zm9v+A"));
  CAF_CHECK(!base64url_decode("Zm9v/A"));
  CAF_CHECK(!base64url_decode("Zm 9v"));
  CAF_CHECK(!base64url_decode("Zm9v."));
  CAF_CHECK(!base64url_decode(std::string{"Zm\0v", 4}));
  // 4n+1 characters cannot come from any bytes.
  CAF_CHECK(!base64url_decode("Z"));
  CAF_CHECK(!base64url_decode("Zm9vY"));
  // Non-zero unused bits: "Zh" would also decode to "f".
  CAF_CHECK(!base64url_decode("Zh"));
  CAF_CHECK(!base64url_decode("Zm9"));
  CAF_CHECK(base64url_decode("Zm8").has_value());
}

CAF_TEST(constant time comparison) {
  CAF_CHECK(constant_time_equal("", ""));
  CAF_CHECK(constant_time_equal("abc", "abc"));
  CAF_CHECK(!constant_time_equal("abc", "abd"));
  CAF_CHECK(!constant_time_equal("abc", "ab"));
}

// RFC 7515 appendix A.1: the example JWS with HMAC SHA-256 and its key.
CAF_TEST(the RFC 7515 example verifies with its published key) {
  const std::string token
    = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
      "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  auto key = base64url_decode(
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUu"
    "TwjAzZr1Z9CAow");
  CAF_REQUIRE(key.has_value());
  CAF_CHECK_EQUAL(key->size(), 64u);
  auto decoded = jwt_decode_verified(token, *key);
  CAF_REQUIRE(decoded.payload.has_value());
  CAF_CHECK_EQUAL(*decoded.payload,
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n"
    " \"http://example.com/is_root\":true}");
  // The signature holds, so the claims decide: the example has no role.
  auto res = jwt_verify_hs256(token, *key, 1300819379);
  CAF_CHECK(has_error(res, jwt_errc::missing_claim));
  // The same token with one signature bit changed fails earlier.
  auto altered = flip_char(token, token.size() - 5);
  CAF_CHECK(
    jwt_decode_verified(altered, *key).error == jwt_errc::bad_signature);
  CAF_CHECK(has_error(
    jwt_verify_hs256(altered, *key, 1300819379), jwt_errc::bad_signature));
  // And with another key.
  CAF_CHECK(has_error(jwt_verify_hs256(token, "another key", 1300819379),
    jwt_errc::bad_signature));
}

CAF_TEST(sign then verify round trip) {
  jwt_claims c;
  c.subject = "alice";
  c.r = role::admin;
  c.exp_s = t0 + 60;
  c.nbf_s = t0 - 60;
  c.iat_s = t0 - 60;
  auto token = jwt_sign_hs256(c, secret);
  auto res = jwt_verify_hs256(token, secret, t0);
  CAF_REQUIRE(res.ok());
  CAF_CHECK(!res.error);
  CAF_CHECK_EQUAL(res.claims->subject, "alice");
  CAF_CHECK(res.claims->r == role::admin);
  CAF_CHECK_EQUAL(res.claims->exp_s, t0 + 60);
  CAF_CHECK(res.claims->nbf_s == t0 - 60);
  CAF_CHECK(res.claims->iat_s == t0 - 60);
  // Without optional claims.
  auto plain
    = jwt_verify_hs256(jwt_sign_hs256(viewer_claims(), secret), secret, t0);
  CAF_REQUIRE(plain.ok());
  CAF_CHECK(plain.claims->r == role::viewer);
  CAF_CHECK(!plain.claims->nbf_s);
  CAF_CHECK(!plain.claims->iat_s);
}

CAF_TEST(signed tokens have the documented form) {
  // Computed once with Python's hmac, base64 and json (sorted keys, no
  // spaces) for sub "alice", role admin, exp 1700000000, iat 1699990000
  // and the secret "test-secret".
  jwt_claims c;
  c.subject = "alice";
  c.r = role::admin;
  c.exp_s = 1'700'000'000;
  c.iat_s = 1'699'990'000;
  CAF_CHECK_EQUAL(jwt_sign_hs256(c, "test-secret"),
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJleHAiOjE3MDAwMDAwMDAsImlhdCI6MTY5OTk5MDAwMCwicm9sZSI6ImFkbWluIiwic3Vi"
    "IjoiYWxpY2UifQ.-l8yDiQzfzM2B8Pd48P1HARzdXEwXUWasvrXTp2GFKE");
}

CAF_TEST(a token built from the primitives verifies) {
  auto token = make_token(hs256_header,
    R"({"sub":"carol","role":"viewer","exp":1700003600})", secret);
  auto res = jwt_verify_hs256(token, secret, t0);
  CAF_REQUIRE(res.ok());
  CAF_CHECK_EQUAL(res.claims->subject, "carol");
}

CAF_TEST(expiry and leeway) {
  auto token = jwt_sign_hs256(viewer_claims(), secret); // exp = t0 + 3600
  CAF_CHECK(jwt_verify_hs256(token, secret, t0 + 3599).ok());
  CAF_CHECK(
    has_error(jwt_verify_hs256(token, secret, t0 + 3600), jwt_errc::expired));
  CAF_CHECK(
    has_error(jwt_verify_hs256(token, secret, t0 + 100000), jwt_errc::expired));
  // 30 s leeway: valid until exp + 30 exclusive.
  CAF_CHECK(jwt_verify_hs256(token, secret, t0 + 3629, 30).ok());
  CAF_CHECK(has_error(
    jwt_verify_hs256(token, secret, t0 + 3630, 30), jwt_errc::expired));
  // A negative leeway counts as none.
  CAF_CHECK(has_error(
    jwt_verify_hs256(token, secret, t0 + 3600, -100), jwt_errc::expired));
  CAF_CHECK(jwt_verify_hs256(token, secret, t0 + 3599, -100).ok());
  // Huge values do not overflow.
  auto far = viewer_claims();
  far.exp_s = INT64_MAX;
  auto far_token = jwt_sign_hs256(far, secret);
  CAF_CHECK(jwt_verify_hs256(far_token, secret, t0, INT64_MAX).ok());
  CAF_CHECK(has_error(
    jwt_verify_hs256(far_token, secret, INT64_MAX), jwt_errc::expired));
}

CAF_TEST(not before) {
  auto c = viewer_claims();
  c.nbf_s = t0 + 100;
  auto token = jwt_sign_hs256(c, secret);
  CAF_CHECK(
    has_error(jwt_verify_hs256(token, secret, t0), jwt_errc::not_yet_valid));
  CAF_CHECK(has_error(
    jwt_verify_hs256(token, secret, t0 + 99), jwt_errc::not_yet_valid));
  CAF_CHECK(jwt_verify_hs256(token, secret, t0 + 100).ok());
  // Leeway applies to nbf too.
  CAF_CHECK(jwt_verify_hs256(token, secret, t0 + 90, 10).ok());
  CAF_CHECK(has_error(
    jwt_verify_hs256(token, secret, t0 + 89, 10), jwt_errc::not_yet_valid));
}

CAF_TEST(other algorithms are refused) {
  const std::string payload
    = R"({"sub":"bob","role":"admin","exp":1700003600})";
  for (auto header :
    {R"({"alg":"none","typ":"JWT"})", R"({"alg":"HS512","typ":"JWT"})",
      R"({"alg":"RS256","typ":"JWT"})", R"({"alg":"hs256"})",
      R"({"alg":"HS256 "})", R"({"typ":"JWT"})", R"({"alg":null})",
      R"({"alg":["HS256"]})", R"({"alg":"HS256","crit":["exp"]})"}) {
    CAF_MESSAGE("header " << header);
    // Even correctly HMAC-signed with the secret, the header decides.
    auto token = make_token(header, payload, secret);
    CAF_CHECK(has_error(
      jwt_verify_hs256(token, secret, t0), jwt_errc::unsupported_algorithm));
  }
  // The classic "alg":"none" token with an empty signature.
  auto none = base64url_encode(R"({"alg":"none"})") + "."
    + base64url_encode(payload) + ".";
  auto res = jwt_verify_hs256(none, secret, t0);
  CAF_CHECK(!res.ok());
  CAF_CHECK(res.error == jwt_errc::unsupported_algorithm
    || res.error == jwt_errc::malformed);
  // A header that is not a JSON object.
  for (auto header : {R"(["HS256"])", R"("HS256")", "HS256", "{", "null"}) {
    CAF_MESSAGE("header " << header);
    auto token = make_token(header, payload, secret);
    CAF_CHECK(
      has_error(jwt_verify_hs256(token, secret, t0), jwt_errc::malformed));
  }
}

CAF_TEST(altered tokens fail the signature check) {
  auto token = jwt_sign_hs256(viewer_claims(), secret);
  CAF_REQUIRE(jwt_verify_hs256(token, secret, t0).ok());
  auto dot2 = token.rfind('.');
  // One changed character in the signature, the payload or the header.
  CAF_CHECK(
    has_error(jwt_verify_hs256(flip_char(token, token.size() - 3), secret, t0),
      jwt_errc::bad_signature));
  CAF_CHECK(has_error(jwt_verify_hs256(flip_char(token, dot2 - 5), secret, t0),
    jwt_errc::bad_signature));
  // An elevated role with the old signature.
  auto guess = make_token(
    hs256_header, R"({"sub":"bob","role":"admin","exp":1700003600})", "guess");
  auto forged = guess.substr(0, guess.rfind('.')) + token.substr(dot2);
  auto forged_res = jwt_verify_hs256(forged, secret, t0);
  CAF_CHECK(!forged_res.ok());
  // Wrong and empty secrets.
  CAF_CHECK(has_error(
    jwt_verify_hs256(token, "test-secreT", t0), jwt_errc::bad_signature));
  CAF_CHECK(
    has_error(jwt_verify_hs256(token, "", t0), jwt_errc::bad_signature));
  // A signature of the wrong length (truncated by one byte).
  auto short_sig = token.substr(0, token.size() - 2);
  CAF_CHECK(
    has_error(jwt_verify_hs256(short_sig, secret, t0), jwt_errc::malformed));
}

CAF_TEST(structurally broken tokens are malformed) {
  auto token = jwt_sign_hs256(viewer_claims(), secret);
  auto dot1 = token.find('.');
  auto dot2 = token.rfind('.');
  for (const auto& bad : {std::string{}, std::string{"."}, std::string{".."},
         std::string{"abc"}, token.substr(0, dot2), token.substr(0, dot1),
         token.substr(0, token.size() - 1), token + ".", token + ".x",
         "." + token, token.substr(0, dot1) + ".." + token.substr(dot2 + 1),
         token.substr(0, dot1 + 1) + "=" + token.substr(dot1 + 1), token + "=",
         token.substr(0, dot2) + ".!" + token.substr(dot2 + 2)}) {
    CAF_MESSAGE("token " << bad);
    CAF_CHECK(
      has_error(jwt_verify_hs256(bad, secret, t0), jwt_errc::malformed));
  }
}

CAF_TEST(oversize tokens are refused before any work) {
  auto c = viewer_claims();
  c.subject = std::string(max_token_size, 'x');
  auto token = jwt_sign_hs256(c, secret);
  CAF_CHECK_GREATER(token.size(), max_token_size);
  CAF_CHECK(
    has_error(jwt_verify_hs256(token, secret, t0), jwt_errc::malformed));
  // Just under the limit still works.
  c.subject = std::string(5000, 'x');
  auto fits = jwt_sign_hs256(c, secret);
  CAF_REQUIRE_LESS_OR_EQUAL(fits.size(), max_token_size);
  CAF_CHECK(jwt_verify_hs256(fits, secret, t0).ok());
}

CAF_TEST(claims are checked after the signature) {
  auto check = [](const char* payload, jwt_errc code) {
    CAF_MESSAGE("payload " << payload);
    return has_error(
      jwt_verify_hs256(make_token(hs256_header, payload, secret), secret, t0),
      code);
  };
  CAF_CHECK(check(
    R"({"sub":"bob","role":"root","exp":1700003600})", jwt_errc::bad_role));
  CAF_CHECK(check(
    R"({"sub":"bob","role":"Admin","exp":1700003600})", jwt_errc::bad_role));
  CAF_CHECK(
    check(R"({"sub":"bob","role":1,"exp":1700003600})", jwt_errc::bad_role));
  CAF_CHECK(
    check(R"({"sub":"bob","exp":1700003600})", jwt_errc::missing_claim));
  CAF_CHECK(check(R"({"sub":"bob","role":"admin"})", jwt_errc::missing_claim));
  CAF_CHECK(
    check(R"({"role":"admin","exp":"1700003600"})", jwt_errc::malformed));
  CAF_CHECK(
    check(R"({"role":"admin","exp":1700003600.5})", jwt_errc::malformed));
  CAF_CHECK(check(
    R"({"role":"admin","exp":18446744073709551615})", jwt_errc::malformed));
  CAF_CHECK(check(
    R"({"role":"admin","exp":1700003600,"nbf":"0"})", jwt_errc::malformed));
  CAF_CHECK(
    check(R"({"role":"admin","exp":1700003600,"sub":7})", jwt_errc::malformed));
  CAF_CHECK(check(R"(["role","admin"])", jwt_errc::malformed));
  CAF_CHECK(check(R"({"role":"admin",)", jwt_errc::malformed));
  // No sub is fine: an empty subject.
  auto ok = jwt_verify_hs256(
    make_token(hs256_header, R"({"role":"admin","exp":1700003600})", secret),
    secret, t0);
  CAF_REQUIRE(ok.ok());
  CAF_CHECK_EQUAL(ok.claims->subject, "");
}

CAF_TEST(signing needs a secret) {
  auto throws = [](const jwt_claims& c, const std::string& key) {
    try {
      jwt_sign_hs256(c, key);
    } catch (const std::invalid_argument& ex) {
      CAF_MESSAGE("thrown: " << ex.what());
      return true;
    }
    return false;
  };
  CAF_CHECK(throws(viewer_claims(), ""));
  CAF_CHECK(!throws(viewer_claims(), "k"));
  auto c = viewer_claims();
  c.subject = "\xff\xfe";
  CAF_CHECK(throws(c, secret));
}

CAF_TEST(error codes and roles have stable names) {
  CAF_CHECK_EQUAL(to_string(jwt_errc::malformed), "token_malformed");
  CAF_CHECK_EQUAL(
    to_string(jwt_errc::unsupported_algorithm), "token_unsupported_algorithm");
  CAF_CHECK_EQUAL(to_string(jwt_errc::bad_signature), "token_bad_signature");
  CAF_CHECK_EQUAL(to_string(jwt_errc::expired), "token_expired");
  CAF_CHECK_EQUAL(to_string(jwt_errc::not_yet_valid), "token_not_yet_valid");
  CAF_CHECK_EQUAL(to_string(jwt_errc::missing_claim), "token_missing_claim");
  CAF_CHECK_EQUAL(to_string(jwt_errc::bad_role), "token_bad_role");
  CAF_CHECK_EQUAL(to_string(role::viewer), "viewer");
  CAF_CHECK_EQUAL(to_string(role::admin), "admin");
  CAF_CHECK(permits(role::admin, role::admin));
  CAF_CHECK(permits(role::admin, role::viewer));
  CAF_CHECK(permits(role::viewer, role::viewer));
  CAF_CHECK(!permits(role::viewer, role::admin));
}

CAF_TEST(bearer credentials) {
  CAF_CHECK_EQUAL(bearer("Bearer abc.def.ghi"), "abc.def.ghi");
  CAF_CHECK_EQUAL(bearer("bearer abc"), "abc");
  CAF_CHECK_EQUAL(bearer("BEARER abc"), "abc");
  CAF_CHECK_EQUAL(bearer("  Bearer   a-b_c~d+e/f==  "), "a-b_c~d+e/f==");
  CAF_CHECK(!bearer_token(""));
  CAF_CHECK(!bearer_token("Bearer"));
  CAF_CHECK(!bearer_token("Bearer "));
  CAF_CHECK(!bearer_token("Bearer    "));
  CAF_CHECK(!bearer_token("Bearerabc"));
  CAF_CHECK(!bearer_token("Basic dXNlcjpwYXNz"));
  CAF_CHECK(!bearer_token("Bearer abc def"));
  CAF_CHECK(!bearer_token("Bearer abc,def"));
  CAF_CHECK(!bearer_token("Bearer =abc"));
  CAF_CHECK(!bearer_token("Bearer ab=c"));
  CAF_CHECK(!bearer_token("Bearer\tabc"));
  CAF_CHECK(!bearer_token(std::string{"Bearer ab\0c", 11}));
}
