#define CAF_SUITE api.cors
#include "caf/test/unit_test.hpp"

#include <string>

#include "api/cors.hpp"

using namespace csp::api;

namespace {

/// The value of header `name`, or "<absent>".
std::string header(const cors_headers& h, const std::string& name) {
  std::string result = "<absent>";
  int seen = 0;
  for (const auto& [key, value] : h.headers)
    if (key == name) {
      result = value;
      ++seen;
    }
  if (seen > 1)
    return "<repeated>";
  return result;
}

cors_config listed() {
  return cors_config{{"https://app.example.com", "http://localhost:3000"}};
}

} // namespace

CAF_TEST(a listed origin is echoed) {
  auto h = cors_for(listed(), "https://app.example.com", false);
  CAF_REQUIRE(h.has_value());
  CAF_CHECK_EQUAL(
    header(*h, "Access-Control-Allow-Origin"), "https://app.example.com");
  CAF_CHECK_EQUAL(header(*h, "Vary"), "Origin");
  CAF_CHECK_EQUAL(header(*h, "Access-Control-Expose-Headers"), "Retry-After");
  // No preflight fields on an ordinary response.
  CAF_CHECK_EQUAL(header(*h, "Access-Control-Allow-Methods"), "<absent>");
  CAF_CHECK_EQUAL(header(*h, "Access-Control-Max-Age"), "<absent>");
  // Credentials are never allowed: the API uses bearer tokens.
  CAF_CHECK_EQUAL(header(*h, "Access-Control-Allow-Credentials"), "<absent>");
  auto local = cors_for(listed(), "http://localhost:3000", false);
  CAF_REQUIRE(local.has_value());
  CAF_CHECK_EQUAL(
    header(*local, "Access-Control-Allow-Origin"), "http://localhost:3000");
}

CAF_TEST(a preflight gets methods headers and max age) {
  auto h = cors_for(listed(), "https://app.example.com", true);
  CAF_REQUIRE(h.has_value());
  CAF_CHECK_EQUAL(
    header(*h, "Access-Control-Allow-Origin"), "https://app.example.com");
  CAF_CHECK_EQUAL(header(*h, "Vary"), "Origin");
  CAF_CHECK_EQUAL(
    header(*h, "Access-Control-Allow-Methods"), "GET, POST, DELETE, OPTIONS");
  CAF_CHECK_EQUAL(
    header(*h, "Access-Control-Allow-Headers"), "Authorization, Content-Type");
  CAF_CHECK_EQUAL(header(*h, "Access-Control-Max-Age"), "600");
  CAF_CHECK_EQUAL(header(*h, "Access-Control-Expose-Headers"), "<absent>");
}

CAF_TEST(other origins get nothing) {
  for (auto origin : {"https://evil.example.com", "http://app.example.com",
         "https://app.example.com:8443", "https://app.example.com/",
         "https://APP.example.com", "https://app.example.com.evil.net",
         "https://xapp.example.com", "null", "*", "http://localhost:30000",
         "http://localhost"}) {
    CAF_MESSAGE("origin " << origin);
    CAF_CHECK(!cors_for(listed(), origin, false));
    CAF_CHECK(!cors_for(listed(), origin, true));
  }
  // No Origin header: not a cross-origin request.
  CAF_CHECK(!cors_for(listed(), "", false));
  // Nothing configured: nothing allowed.
  CAF_CHECK(!cors_for(cors_config{}, "https://app.example.com", false));
}

CAF_TEST(a wildcard allows every origin without echoing it) {
  cors_config any{{"*"}};
  auto h = cors_for(any, "https://anywhere.example.org", true);
  CAF_REQUIRE(h.has_value());
  CAF_CHECK_EQUAL(header(*h, "Access-Control-Allow-Origin"), "*");
  CAF_CHECK_EQUAL(header(*h, "Vary"), "Origin");
  CAF_CHECK_EQUAL(header(*h, "Access-Control-Max-Age"), "600");
  auto null_origin = cors_for(any, "null", false);
  CAF_REQUIRE(null_origin.has_value());
  CAF_CHECK_EQUAL(header(*null_origin, "Access-Control-Allow-Origin"), "*");
  CAF_CHECK(!cors_for(any, "", false));
}

CAF_TEST(configured origins are validated) {
  for (auto good : {"*", "https://app.example.com", "http://localhost:3000",
         "http://127.0.0.1:8080", "https://[::1]:8443", "http://[2001:db8::1]",
         "https://a-b.example", "http://x:65535", "https://host:80",
         "http://host:443"}) {
    CAF_MESSAGE("good " << good);
    CAF_CHECK(!check_cors_origin(good));
  }
  for (auto bad : {"", "app.example.com", "ftp://app.example.com", "https://",
         "https://app.example.com/", "https://app.example.com/x",
         "https://app.example.com?x", "https://app.example.com#x",
         "https://user@app.example.com", "https://App.Example.com",
         "https://app.example.com:", "https://app.example.com:0",
         "https://app.example.com:65536", "https://app.example.com:08080",
         "https://app.example.com:8x", "https://app.example.com:443",
         "http://app.example.com:80", "https://app..example.com",
         "https://.example.com", "https://app_example.com", "https://[::1",
         "https://[]", "https://[::1]x", "https://[::G]", "HTTPS://x.com",
         "*.example.com", "https://*.example.com", " https://x.com", "null"}) {
    CAF_MESSAGE("bad " << bad);
    auto err = check_cors_origin(bad);
    CAF_CHECK(err.has_value());
    if (err)
      CAF_MESSAGE("  " << *err);
  }
  CAF_CHECK(!check_cors_config(listed()));
  CAF_CHECK(!check_cors_config(cors_config{}));
  CAF_CHECK(!check_cors_config(cors_config{{"*"}}));
  CAF_CHECK(check_cors_config(cors_config{{"*", "https://x.com"}}));
  CAF_CHECK(
    check_cors_config(cors_config{{"https://x.com", "https://x.com/"}}));
}
