#define CAF_SUITE net.url
#include "caf/test/unit_test.hpp"

#include <string>

#include "net/url.hpp"

using namespace csp::net;

namespace {

url must_parse(const std::string& text) {
  auto r = parse_url(text);
  if (!r.value)
    CAF_MESSAGE(text + ": " + r.error);
  CAF_REQUIRE(r.value.has_value());
  CAF_CHECK(r.error.empty());
  return *r.value;
}

bool rejected(const std::string& text) {
  auto r = parse_url(text);
  return !r.value && !r.error.empty();
}

} // namespace

CAF_TEST(schemes and default ports) {
  auto a = must_parse("wss://stream.binance.com:9443");
  CAF_CHECK(a.kind == scheme::wss);
  CAF_CHECK_EQUAL(a.host, "stream.binance.com");
  CAF_CHECK_EQUAL(a.port, 9443);
  CAF_CHECK_EQUAL(a.target, "/");
  CAF_CHECK(a.tls());
  auto b = must_parse("ws://127.0.0.1:8080/stream?streams=btcusdt@trade");
  CAF_CHECK(b.kind == scheme::ws);
  CAF_CHECK(!b.tls());
  CAF_CHECK_EQUAL(b.host, "127.0.0.1");
  CAF_CHECK_EQUAL(b.port, 8080);
  CAF_CHECK_EQUAL(b.target, "/stream?streams=btcusdt@trade");
  CAF_CHECK_EQUAL(must_parse("http://example.com").port, 80);
  CAF_CHECK_EQUAL(must_parse("https://example.com/x").port, 443);
  CAF_CHECK_EQUAL(must_parse("ws://h").port, 80);
  CAF_CHECK_EQUAL(must_parse("wss://h").port, 443);
  CAF_CHECK_EQUAL(must_parse("http://h?a=1").target, "/?a=1");
  CAF_CHECK_EQUAL(must_parse("http://h:65535/").port, 65535);
  CAF_CHECK_EQUAL(must_parse("http://h:1/").port, 1);
}

CAF_TEST(ipv6 literals) {
  auto a = must_parse("http://[::1]:8080/x");
  CAF_CHECK_EQUAL(a.host, "::1");
  CAF_CHECK_EQUAL(a.port, 8080);
  CAF_CHECK_EQUAL(a.host_header(), "[::1]:8080");
  CAF_CHECK_EQUAL(must_parse("https://[fe80::1]").port, 443);
  CAF_CHECK(rejected("http://[::1"));
  CAF_CHECK(rejected("http://[]:80"));
  CAF_CHECK(rejected("http://[::1]x"));
  CAF_CHECK(rejected("http://[zz::1]/"));
}

CAF_TEST(bad urls are rejected) {
  CAF_CHECK(rejected(""));
  CAF_CHECK(rejected("example.com"));
  CAF_CHECK(rejected("ftp://example.com"));
  CAF_CHECK(rejected("WSS://example.com"));
  CAF_CHECK(rejected("http://"));
  CAF_CHECK(rejected("http:///path"));
  CAF_CHECK(rejected("http://:80/"));
  CAF_CHECK(rejected("http://h:/"));
  CAF_CHECK(rejected("http://h:0/"));
  CAF_CHECK(rejected("http://h:65536/"));
  CAF_CHECK(rejected("http://h:123456/"));
  CAF_CHECK(rejected("http://h:8a/"));
  CAF_CHECK(rejected("http://user@h/"));
  CAF_CHECK(rejected("http://h/#frag"));
  CAF_CHECK(rejected("http://h /"));
  CAF_CHECK(rejected("http://h/a b"));
  CAF_CHECK(rejected("http://h/\n"));
  CAF_CHECK(rejected("http://h%41/"));
}

CAF_TEST(host header and round trip) {
  CAF_CHECK_EQUAL(must_parse("https://h:443/").host_header(), "h");
  CAF_CHECK_EQUAL(must_parse("https://h:8443/").host_header(), "h:8443");
  CAF_CHECK_EQUAL(must_parse("http://h:80/").host_header(), "h");
  CAF_CHECK_EQUAL(must_parse("wss://h:9443/ws").to_string(), "wss://h:9443/ws");
  CAF_CHECK_EQUAL(must_parse("http://h:80/a?b").to_string(), "http://h/a?b");
}

CAF_TEST(local http base of a bind address) {
  CAF_CHECK_EQUAL(local_http_base("127.0.0.1", 9090), "http://127.0.0.1:9090");
  CAF_CHECK_EQUAL(local_http_base("0.0.0.0", 8000), "http://127.0.0.1:8000");
  CAF_CHECK_EQUAL(local_http_base("10.1.2.3", 8000), "http://10.1.2.3:8000");
  CAF_CHECK_EQUAL(local_http_base("::", 9090), "http://[::1]:9090");
  CAF_CHECK_EQUAL(local_http_base("::1", 9090), "http://[::1]:9090");
  CAF_CHECK_EQUAL(local_http_base("0.0.0.0", 80), "http://127.0.0.1:80");
}

CAF_TEST(with target joins paths) {
  auto base = must_parse("http://h:1/prefix/");
  CAF_CHECK_EQUAL(
    with_target(base, "/api/v3/ping").target, "/prefix/api/v3/ping");
  CAF_CHECK_EQUAL(with_target(must_parse("http://h"), "/api").target, "/api");
  CAF_CHECK_EQUAL(
    with_target(must_parse("http://h/p?q=1"), "x").target, "/p/x");
  CAF_CHECK_EQUAL(with_target(base, "/a").port, 1);
}
