#define CAF_SUITE net.clients
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "net/http_client.hpp"
#include "net/ws_client.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace csp::net;

namespace {

constexpr auto limit = std::chrono::seconds{20};

/// A self-signed certificate for 127.0.0.1, generated per run with the
/// openssl command line tool in a fresh temporary directory.
struct test_cert {
  std::string dir;
  std::string cert;
  std::string key;
  bool ok = false;

  test_cert() {
    char tmpl[] = "/tmp/csp-tls-XXXXXX";
    if (mkdtemp(tmpl) == nullptr)
      return;
    dir = tmpl;
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    auto cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
               "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout "
      + key + " -out " + cert + " >/dev/null 2>&1";
    ok = std::system(cmd.c_str()) == 0;
  }

  ~test_cert() {
    if (!dir.empty())
      std::system(("rm -rf " + dir).c_str());
  }
};

/// Serves one HTTP request (TLS or plain) on 127.0.0.1 with a fixed reply.
template <class Serve>
struct one_shot_server {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
  std::thread thread;

  explicit one_shot_server(Serve serve) {
    thread = std::thread{[this, serve] {
      tcp::socket sock{ioc};
      beast::error_code ec;
      acceptor.accept(sock, ec);
      if (!ec)
        serve(std::move(sock));
    }};
  }

  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  ~one_shot_server() {
    beast::error_code ec;
    acceptor.close(ec);
    thread.join();
  }
};

template <class Stream>
void reply(Stream& s, const std::string& body, std::string* target) {
  beast::flat_buffer buf;
  http::request<http::string_body> req;
  beast::error_code ec;
  http::read(s, buf, req, ec);
  if (ec)
    return;
  if (target)
    *target = std::string{req.target()};
  http::response<http::string_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = body;
  res.prepare_payload();
  http::write(s, res, ec);
}

http_response get(io_thread& io, const url& u, const client_options& opts) {
  std::promise<http_response> p;
  auto f = p.get_future();
  http_get(io, u, opts, [&p](http_response r) { p.set_value(std::move(r)); });
  CAF_REQUIRE(f.wait_for(limit) == std::future_status::ready);
  return f.get();
}

} // namespace

CAF_TEST(plain http get) {
  io_thread io;
  std::string target;
  one_shot_server srv{[&](tcp::socket s) { reply(s, "[1,2]", &target); }};
  auto u = parse_url(
    "http://127.0.0.1:" + std::to_string(srv.port()) + "/api/v3/ping?x=1");
  CAF_REQUIRE(u.value.has_value());
  auto res = get(io, *u.value, client_options{});
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK_EQUAL(res.body, "[1,2]");
  CAF_CHECK(res.error.empty());
  CAF_CHECK_EQUAL(target, "/api/v3/ping?x=1");
}

CAF_TEST(connection refused is an error not a status) {
  io_thread io;
  std::uint16_t port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor a{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
    port = a.local_endpoint().port();
  } // closed: nothing listens there now
  auto u = parse_url("http://127.0.0.1:" + std::to_string(port) + "/");
  auto res = get(io, *u.value, client_options{});
  CAF_CHECK_EQUAL(res.status, 0);
  CAF_CHECK(res.error.rfind("connect_failed", 0) == 0);
}

CAF_TEST(https verified against the test ca) {
  test_cert cert;
  CAF_REQUIRE(cert.ok);
  asio::ssl::context server_ctx{asio::ssl::context::tls_server};
  server_ctx.use_certificate_chain_file(cert.cert);
  server_ctx.use_private_key_file(cert.key, asio::ssl::context::pem);
  io_thread io;
  {
    one_shot_server srv{[&](tcp::socket s) {
      asio::ssl::stream<tcp::socket> tls{std::move(s), server_ctx};
      beast::error_code ec;
      tls.handshake(asio::ssl::stream_base::server, ec);
      if (!ec)
        reply(tls, "{\"ok\":true}", nullptr);
    }};
    auto u = parse_url("https://127.0.0.1:" + std::to_string(srv.port()) + "/");
    client_options opts;
    opts.ca_file = cert.cert;
    auto res = get(io, *u.value, opts);
    CAF_CHECK_EQUAL(res.error, "");
    CAF_CHECK_EQUAL(res.status, 200);
    CAF_CHECK_EQUAL(res.body, "{\"ok\":true}");
  }
  {
    // The system store does not trust the self-signed certificate.
    one_shot_server srv{[&](tcp::socket s) {
      asio::ssl::stream<tcp::socket> tls{std::move(s), server_ctx};
      beast::error_code ec;
      tls.handshake(asio::ssl::stream_base::server, ec);
    }};
    auto u = parse_url("https://127.0.0.1:" + std::to_string(srv.port()) + "/");
    auto res = get(io, *u.value, client_options{});
    CAF_CHECK_EQUAL(res.status, 0);
    CAF_CHECK(res.error.rfind("tls_failed", 0) == 0);
  }
}

CAF_TEST(wss round trip) {
  test_cert cert;
  CAF_REQUIRE(cert.ok);
  asio::ssl::context server_ctx{asio::ssl::context::tls_server};
  server_ctx.use_certificate_chain_file(cert.cert);
  server_ctx.use_private_key_file(cert.key, asio::ssl::context::pem);
  io_thread io;
  std::string target;
  std::string echoed;
  one_shot_server srv{[&](tcp::socket s) {
    websocket::stream<asio::ssl::stream<tcp::socket>> ws{
      std::move(s), server_ctx};
    beast::error_code ec;
    ws.next_layer().handshake(asio::ssl::stream_base::server, ec);
    if (ec)
      return;
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    http::read(ws.next_layer(), buf, req, ec);
    if (ec)
      return;
    target = std::string{req.target()};
    ws.accept(req, ec);
    if (ec)
      return;
    ws.text(true);
    ws.write(asio::buffer(std::string{"hello"}), ec);
    beast::flat_buffer in;
    ws.read(in, ec);
    if (!ec)
      echoed = beast::buffers_to_string(in.data());
    ws.close(websocket::close_code::normal, ec);
  }};
  auto u = parse_url("wss://127.0.0.1:" + std::to_string(srv.port())
    + "/stream?streams=btcusdt@trade");
  client_options opts;
  opts.ca_file = cert.cert;
  std::promise<void> opened;
  std::promise<std::string> first;
  std::promise<std::string> closed;
  ws_callbacks cbs;
  cbs.on_open = [&] { opened.set_value(); };
  cbs.on_message = [&](std::string_view m) { first.set_value(std::string{m}); };
  cbs.on_close = [&](const std::string& why) { closed.set_value(why); };
  auto conn = ws_connection::open(io, *u.value, opts, std::move(cbs));
  CAF_REQUIRE(opened.get_future().wait_for(limit) == std::future_status::ready);
  auto msg = first.get_future();
  CAF_REQUIRE(msg.wait_for(limit) == std::future_status::ready);
  CAF_CHECK_EQUAL(msg.get(), "hello");
  conn->send("pong-text");
  auto why = closed.get_future();
  CAF_REQUIRE(why.wait_for(limit) == std::future_status::ready);
  CAF_CHECK_EQUAL(why.get(), "closed_by_peer");
  CAF_CHECK_EQUAL(target, "/stream?streams=btcusdt@trade");
  CAF_CHECK_EQUAL(echoed, "pong-text");
}
