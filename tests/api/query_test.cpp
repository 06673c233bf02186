#define CAF_SUITE api.query
#include "caf/test/unit_test.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "api/query.hpp"

using namespace csp::api;

namespace {

using strings = std::vector<std::string>;

/// Parses a target that must be valid.
parsed_target ok(std::string_view target) {
  auto res = parse_target(target);
  if (auto err = std::get_if<std::string>(&res)) {
    CAF_FAIL("unexpected error for " << target << ": " << *err);
  }
  return std::get<parsed_target>(res);
}

/// The error text for a target that must be refused, or "<accepted>".
std::string error_of(std::string_view target) {
  auto res = parse_target(target);
  if (auto err = std::get_if<std::string>(&res))
    return *err;
  return "<accepted>";
}

bool refused(std::string_view target) {
  auto err = error_of(target);
  CAF_MESSAGE(target << " -> " << err);
  return err != "<accepted>";
}

std::string param_or(const parsed_target& t, std::string_view name) {
  const auto* v = t.param(name);
  return v ? *v : std::string{"<absent>"};
}

} // namespace

CAF_TEST(paths split into decoded segments) {
  auto t = ok("/api/v1/bars/BTCUSDT");
  CAF_CHECK_EQUAL(t.path, "/api/v1/bars/BTCUSDT");
  CAF_CHECK_EQUAL(t.segments, (strings{"api", "v1", "bars", "BTCUSDT"}));
  CAF_CHECK(t.params.empty());
  auto root = ok("/");
  CAF_CHECK_EQUAL(root.path, "/");
  CAF_CHECK(root.segments.empty());
  // Escapes decode; "+" is a plus in a path.
  auto esc = ok("/a%20b/%5EGSPC/x+y/%c3%a9");
  CAF_CHECK_EQUAL(esc.segments, (strings{"a b", "^GSPC", "x+y", "\xc3\xa9"}));
  CAF_CHECK_EQUAL(esc.path, "/a b/^GSPC/x+y/\xc3\xa9");
}

CAF_TEST(bad paths are refused) {
  CAF_CHECK(refused(""));
  CAF_CHECK(refused("api/v1"));
  CAF_CHECK(refused("http://host/api"));
  CAF_CHECK(refused("*"));
  CAF_CHECK(refused("/api//v1"));
  CAF_CHECK(refused("/api/v1/"));
  CAF_CHECK(refused("//"));
  CAF_CHECK(refused("/api/../secret"));
  CAF_CHECK(refused("/api/./v1"));
  CAF_CHECK(refused("/api/%2e%2e/v1"));
  CAF_CHECK(refused("/a%2Fb"));
  CAF_CHECK(refused("/a%2fb"));
  CAF_CHECK(refused("/a%00b"));
  CAF_CHECK(refused("/a%zzb"));
  CAF_CHECK(refused("/a%4"));
  CAF_CHECK(refused("/a%"));
  CAF_CHECK(refused("/a b"));
  CAF_CHECK(refused("/a\tb"));
  CAF_CHECK(refused(std::string_view{"/a\0b", 4}));
  CAF_CHECK(refused("/a\x7f"));
  CAF_CHECK(refused("/caf\xc3\xa9"));
  CAF_CHECK(refused("/a#frag"));
  // Decoded text must be UTF-8: a lone continuation byte, an overlong
  // "/", a surrogate.
  CAF_CHECK(refused("/%80"));
  CAF_CHECK(refused("/%c0%af"));
  CAF_CHECK(refused("/%ed%a0%80"));
  CAF_CHECK_EQUAL(error_of("/a%2Fb"), "escaped \"/\" (%2F) in a path segment");
}

CAF_TEST(query parameters decode) {
  auto t = ok("/api/v1/bars?symbol=BTCUSDT&limit=100&note=a+b%2Bc&empty=&flag");
  CAF_CHECK_EQUAL(t.path, "/api/v1/bars");
  CAF_CHECK_EQUAL(t.params.size(), 5u);
  CAF_CHECK_EQUAL(param_or(t, "symbol"), "BTCUSDT");
  CAF_CHECK_EQUAL(param_or(t, "limit"), "100");
  CAF_CHECK_EQUAL(param_or(t, "note"), "a b+c");
  CAF_CHECK_EQUAL(param_or(t, "empty"), "");
  CAF_CHECK_EQUAL(param_or(t, "flag"), "");
  CAF_CHECK_EQUAL(param_or(t, "other"), "<absent>");
  // "/" and "?" and "=" may appear in values.
  auto v = ok("/x?next=/a/b?c=d&e=%26%3D%2F");
  CAF_CHECK_EQUAL(param_or(v, "next"), "/a/b?c=d");
  CAF_CHECK_EQUAL(param_or(v, "e"), "&=/");
  // Empty parts are skipped; an empty query is none.
  auto e = ok("/x?&a=1&&b=2&");
  CAF_CHECK_EQUAL(e.params.size(), 2u);
  CAF_CHECK(ok("/x?").params.empty());
  // Names decode too.
  CAF_CHECK_EQUAL(param_or(ok("/x?a%20b=1"), "a b"), "1");
}

CAF_TEST(bad queries are refused) {
  CAF_CHECK(refused("/x?a=1&a=2"));
  CAF_CHECK(refused("/x?a=1&%61=2"));
  CAF_CHECK(refused("/x?=1"));
  CAF_CHECK(refused("/x?a=%"));
  CAF_CHECK(refused("/x?a=%g0"));
  CAF_CHECK(refused("/x?a=%00"));
  CAF_CHECK(refused("/x?a%00=1"));
  CAF_CHECK(refused("/x?a=%ff"));
  CAF_CHECK(refused("/x?a=b c"));
  CAF_CHECK(refused("/x?a=1#f"));
  CAF_CHECK_EQUAL(
    error_of("/x?limit=1&limit=2"), "parameter \"limit\" given more than once");
}

CAF_TEST(size limits) {
  std::string params = "/x?";
  for (int i = 0; i < 32; ++i)
    params += "p" + std::to_string(i) + "=" + std::to_string(i) + "&";
  CAF_CHECK_EQUAL(ok(params).params.size(), 32u);
  CAF_CHECK(refused(params + "p32=32"));
  std::string longest = "/" + std::string(8191, 'a');
  CAF_CHECK_EQUAL(longest.size(), 8192u);
  CAF_CHECK_EQUAL(ok(longest).segments.size(), 1u);
  CAF_CHECK(refused(longest + "a"));
}

CAF_TEST(strict non negative integers) {
  CAF_CHECK(parse_non_negative("0") == 0);
  CAF_CHECK(parse_non_negative("42") == 42);
  CAF_CHECK(parse_non_negative("007") == 7);
  CAF_CHECK(parse_non_negative("9223372036854775807")
    == std::numeric_limits<std::int64_t>::max());
  for (auto bad : {"", "-1", "+1", " 1", "1 ", "1a", "0x10", "1e3", "1.0",
         "9223372036854775808", "99999999999999999999", "\xd9\xa1"}) {
    CAF_MESSAGE("bad " << bad);
    CAF_CHECK(!parse_non_negative(bad));
  }
}

CAF_TEST(times as epoch milliseconds or ISO 8601 UTC) {
  // Expected values from `date -u -d '2024-01-31 10:00:00' +%s` etc.
  CAF_CHECK(parse_time_ms("1706695200000") == 1'706'695'200'000);
  CAF_CHECK(parse_time_ms("0") == 0);
  CAF_CHECK(parse_time_ms("2024-01-31") == 1'706'659'200'000);
  CAF_CHECK(parse_time_ms("2024-01-31T10:00:00Z") == 1'706'695'200'000);
  CAF_CHECK(parse_time_ms("2024-01-31T10:00:00.123Z") == 1'706'695'200'123);
  CAF_CHECK(parse_time_ms("2024-01-31T10:00:00.1Z") == 1'706'695'200'100);
  CAF_CHECK(parse_time_ms("2024-01-31T10:00:00.12Z") == 1'706'695'200'120);
  CAF_CHECK(parse_time_ms("2024-02-29") == 1'709'164'800'000);
  CAF_CHECK(parse_time_ms("2000-02-29") == 951'782'400'000);
  CAF_CHECK(parse_time_ms("1970-01-01T00:00:00Z") == 0);
  CAF_CHECK(parse_time_ms("2024-12-31T23:59:59Z") == 1'735'689'599'000);
  CAF_CHECK(parse_time_ms("9999-12-31T23:59:59.999Z") == 253'402'300'799'999);
  CAF_CHECK(parse_time_ms("253402300799999") == 253'402'300'799'999);
  for (auto bad :
    {"", "-1", "+5", "253402300800000", "2024-1-31", "2024-01-31T10:00:00",
      "2024-01-31T10:00Z", "2024-01-31 10:00:00Z", "2024-01-31t10:00:00z",
      "2024-01-31T10:00:00+00:00", "2024-01-31T10:00:00.Z",
      "2024-01-31T10:00:00.1234Z", "2024-01-31T10:00:00,123Z",
      "2024-01-31T24:00:00Z", "2024-01-31T23:60:00Z", "2024-01-31T23:59:60Z",
      "2024-02-30", "2023-02-29", "2100-02-29", "2024-13-01", "2024-00-10",
      "2024-04-31", "2024-01-00", "1969-12-31", "0000-01-01", "2024-01-31Z",
      "2024-01-31T", "20240131T100000Z", "2024-01-3a", "1e12",
      "2024-01-31T10:00:00.12aZ", "2024-01-31T1a:00:00Z"}) {
    CAF_MESSAGE("bad " << bad);
    CAF_CHECK(!parse_time_ms(bad));
  }
}

CAF_TEST(typed parameter readers) {
  auto t = ok("/bars?limit=500&start=2024-01-31&end=1706695200000&bad=-3"
              "&when=yesterday");
  auto limit = int_param(t, "limit", 1, 1000);
  CAF_CHECK(limit.ok());
  CAF_CHECK(limit.value == 500);
  auto absent = int_param(t, "offset", 0, 10);
  CAF_CHECK(absent.ok());
  CAF_CHECK(!absent.value);
  auto too_big = int_param(t, "limit", 1, 100);
  CAF_CHECK(!too_big.ok());
  CAF_CHECK(!too_big.value);
  CAF_CHECK_EQUAL(too_big.error,
    "parameter \"limit\": expected an integer "
    "between 1 and 100, got \"500\"");
  auto negative = int_param(t, "bad", 0, 10);
  CAF_CHECK(!negative.ok());
  auto start = time_param(t, "start");
  CAF_CHECK(start.ok());
  CAF_CHECK(start.value == 1'706'659'200'000);
  CAF_CHECK(time_param(t, "end").value == 1'706'695'200'000);
  auto when = time_param(t, "when");
  CAF_CHECK(!when.ok());
  CAF_CHECK_NOT_EQUAL(when.error.find("\"when\""), std::string::npos);
  CAF_CHECK(!time_param(t, "none").value);
  CAF_CHECK(time_param(t, "none").ok());
  CAF_CHECK(!check_known_params(t, {"limit", "start", "end", "bad", "when"}));
  auto unknown = check_known_params(t, {"limit", "start", "end", "bad"});
  CAF_REQUIRE(unknown.has_value());
  CAF_CHECK_EQUAL(*unknown, "parameter \"when\": unknown parameter");
}

CAF_TEST(error texts quote at most 64 bytes and stay UTF - 8) {
  // 70 two-byte characters: the cut must not split one.
  std::string value;
  for (int i = 0; i < 70; ++i)
    value += "%C3%A9";
  auto t = ok("/x?limit=" + value);
  auto res = int_param(t, "limit", 0, 10);
  CAF_CHECK(!res.ok());
  CAF_CHECK(is_valid_utf8(res.error));
  CAF_CHECK_NOT_EQUAL(res.error.find("...\""), std::string::npos);
  CAF_CHECK_LESS(res.error.size(), 150u);
}

CAF_TEST(utf8 validation) {
  CAF_CHECK(is_valid_utf8(""));
  CAF_CHECK(is_valid_utf8("plain"));
  CAF_CHECK(is_valid_utf8("\xc3\xa9"));              // U+00E9
  CAF_CHECK(is_valid_utf8("\xe2\x82\xac"));          // U+20AC
  CAF_CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));      // U+1F600
  CAF_CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF
  CAF_CHECK(!is_valid_utf8("\x80"));                 // lone continuation
  CAF_CHECK(!is_valid_utf8("\xc3"));                 // truncated
  CAF_CHECK(!is_valid_utf8("\xc0\xaf"));             // overlong "/"
  CAF_CHECK(!is_valid_utf8("\xe0\x80\xaf"));         // overlong "/"
  CAF_CHECK(!is_valid_utf8("\xed\xa0\x80"));         // surrogate U+D800
  CAF_CHECK(!is_valid_utf8("\xf4\x90\x80\x80"));     // above U+10FFFF
  CAF_CHECK(!is_valid_utf8("\xf8\x88\x80\x80\x80")); // 5-byte form
  CAF_CHECK(!is_valid_utf8("\xff"));
}

CAF_TEST(percent decoding) {
  CAF_CHECK(percent_decode("a%41%62+", false) == std::string{"aAb+"});
  CAF_CHECK(percent_decode("a%41%62+", true) == std::string{"aAb "});
  CAF_CHECK(!percent_decode("%", false));
  CAF_CHECK(!percent_decode("%4", false));
  CAF_CHECK(!percent_decode("%4G", false));
  CAF_CHECK(!percent_decode("%00", false));
  CAF_CHECK(!percent_decode(std::string_view{"a\0", 2}, false));
}
