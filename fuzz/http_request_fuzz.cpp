// libFuzzer target for the API's request front: raw bytes into Beast's
// HTTP/1.1 request parser (header-only here, with the server's limits),
// then, for every complete request, the router's target parsing, the
// bearer token check and CORS.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "api/cors.hpp"
#include "api/jwt.hpp"
#include "api/query.hpp"

namespace {

namespace http = boost::beast::http;
using namespace csp::api;

constexpr std::string_view secret = "fuzz-secret";
constexpr std::int64_t now_s = 1'700'000'000;
/// api.max_header_bytes default.
constexpr std::uint32_t header_limit = 16'384;
/// Smaller than api.max_body_bytes so the limit is reachable by inputs.
constexpr std::uint64_t body_limit = 4'096;
/// Pipelined requests handled per input.
constexpr int max_requests = 4;

void require(bool ok) {
  if (!ok)
    std::abort();
}

std::string_view view(boost::beast::string_view s) {
  return {s.data(), s.size()};
}

void handle(const http::request<http::string_body>& req) {
  require(req.body().size() <= body_limit);
  auto target = parse_target(view(req.target()));
  if (const auto* t = std::get_if<parsed_target>(&target)) {
    auto limit = int_param(*t, "limit", 1, 1000);
    auto start = time_param(*t, "start");
    require(limit.ok() || !limit.value);
    require(start.ok() || !start.value);
  }
  auto auth = view(req[http::field::authorization]);
  if (auto token = bearer_token(auth)) {
    auto res = jwt_verify_hs256(*token, secret, now_s, 30);
    require(res.ok() != res.error.has_value());
  }
  static const cors_config cors{{"https://app.example.com"}};
  auto origin = view(req[http::field::origin]);
  if (auto h = cors_for(cors, origin, req.method() == http::verb::options))
    require(origin == "https://app.example.com");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(
  const std::uint8_t* data, std::size_t size) {
  auto buf = boost::asio::const_buffer{data, size};
  for (int n = 0; n < max_requests && buf.size() > 0; ++n) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    parser.eager(true);
    boost::beast::error_code ec;
    while (buf.size() > 0 && !parser.is_done()) {
      auto used = parser.put(buf, ec);
      buf += used;
      if (ec == http::error::need_more) {
        ec = {};
        if (used == 0)
          break;
        continue;
      }
      if (ec)
        return 0;
    }
    if (!parser.is_done()) {
      // The connection ends here.
      parser.put_eof(ec);
      if (ec || !parser.is_done())
        return 0;
    }
    handle(parser.get());
    if (!parser.get().keep_alive())
      return 0;
  }
  return 0;
}
