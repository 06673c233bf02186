#define CAF_SUITE net.http_server
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <nlohmann/json.hpp>

#include "net/http_server.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace csp::net;
using namespace std::chrono_literals;

namespace {

/// A blocking client socket whose reads give up after `timeout`.
struct client {
  asio::io_context ioc;
  tcp::socket sock{ioc};

  explicit client(std::uint16_t port, std::chrono::milliseconds timeout = 5s) {
    sock.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{};
    tv.tv_sec = static_cast<long>(timeout.count() / 1000);
    tv.tv_usec = static_cast<long>((timeout.count() % 1000) * 1000);
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  void write_raw(const std::string& bytes) {
    asio::write(sock, asio::buffer(bytes));
  }

  /// Reads one response; status 0 when none arrived.
  http::response<http::string_body> read() {
    http::response<http::string_body> res;
    boost::system::error_code ec;
    http::read(sock, buf, res, ec);
    if (ec)
      res.result(0);
    return res;
  }

  http::response<http::string_body> get(
    const std::string& target, const std::string& extra_headers = {}) {
    write_raw(
      "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + extra_headers + "\r\n");
    return read();
  }

  /// Whether the server closed the connection (read gives EOF, not a
  /// timeout).
  bool closed_by_server() {
    char c;
    boost::system::error_code ec;
    sock.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  beast::flat_buffer buf;
};

server_options small_options() {
  server_options o;
  o.threads = 2;
  o.max_header_bytes = 2048;
  o.max_body_bytes = 1000;
  o.read_timeout = 300ms;
  o.idle_timeout = 2s;
  o.handler_timeout = 300ms;
  o.ws_queue_limit = 4;
  o.ws_ping_interval = 5s;
  o.ws_close_timeout = 500ms;
  return o;
}

/// Answers GET /echo with method, target, body and the x-test header;
/// /later from another thread; /drop drops the responder; /never keeps it
/// without answering; /throw throws.
server_handlers echo_handlers(std::vector<responder>& kept, std::mutex& mtx) {
  server_handlers h;
  h.on_request = [&kept, &mtx](server_request req, responder r) {
    if (req.target == "/later") {
      std::thread{[r] {
        server_response res;
        res.body = "later";
        res.content_type = "text/plain";
        r(res);
        r(server_response{500, "text/plain", "second", {}, false, nullptr});
      }}.detach();
      return;
    }
    if (req.target == "/drop") {
      r.decorate([](server_response& res) {
        res.headers.emplace_back("X-Seen-Status", std::to_string(res.status));
      });
      return;
    }
    if (req.target == "/never") {
      std::lock_guard<std::mutex> guard{mtx};
      kept.push_back(r);
      return;
    }
    if (req.target == "/throw")
      throw std::runtime_error("handler failed");
    if (req.target == "/shared") {
      // One body for every response; `body` is ignored when it is set.
      static const auto body = std::make_shared<const std::string>(
        std::string(100'000, 'x') + "end");
      server_response res;
      res.content_type = "text/plain";
      res.body = "not sent";
      res.shared_body = body;
      r(std::move(res));
      return;
    }
    nlohmann::json j{{"method", req.method}, {"target", req.target},
      {"body", req.body}, {"x_test", std::string{req.header("x-test")}},
      {"remote", req.remote_address}};
    server_response res;
    res.body = j.dump();
    res.headers.emplace_back("X-Reply", "yes");
    r(std::move(res));
  };
  return h;
}

struct fixture {
  std::vector<responder> kept;
  std::mutex mtx;
  http_server srv{small_options(), echo_handlers(kept, mtx)};
  std::uint16_t port = 0;

  fixture() {
    auto err = srv.start();
    CAF_REQUIRE_EQUAL(err, "");
    port = srv.port();
    CAF_REQUIRE_NOT_EQUAL(port, 0);
  }

  ~fixture() {
    srv.stop();
    std::lock_guard<std::mutex> guard{mtx};
    kept.clear();
  }
};

std::string error_code_of(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.contains("error"))
    return "<not an error body: " + body + ">";
  return j["error"]["code"].get<std::string>();
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_server_tests, fixture)

CAF_TEST(a request reaches the handler and its response the client) {
  client c{port};
  c.write_raw("POST /echo?a=1 HTTP/1.1\r\nHost: x\r\nX-Test: hello\r\n"
              "Content-Length: 5\r\n\r\nabcde");
  auto res = c.read();
  CAF_CHECK_EQUAL(res.result_int(), 200U);
  CAF_CHECK_EQUAL(res[http::field::content_type], "application/json");
  CAF_CHECK_EQUAL(res["X-Reply"], "yes");
  auto j = nlohmann::json::parse(res.body());
  CAF_CHECK_EQUAL(j["method"], "POST");
  CAF_CHECK_EQUAL(j["target"], "/echo?a=1");
  CAF_CHECK_EQUAL(j["body"], "abcde");
  CAF_CHECK_EQUAL(j["x_test"], "hello");
  CAF_CHECK_EQUAL(j["remote"], "127.0.0.1");
}

CAF_TEST(a shared body is sent as it is to every request) {
  client c{port};
  for (int i = 0; i < 3; ++i) {
    auto res = c.get("/shared");
    CAF_CHECK_EQUAL(res.result_int(), 200U);
    CAF_CHECK_EQUAL(res.body().size(), 100'003U);
    CAF_CHECK_EQUAL(res.body().substr(res.body().size() - 4), "xend");
    CAF_CHECK_EQUAL(res[http::field::content_length], "100003");
  }
}

CAF_TEST(keep - alive serves several requests on one connection) {
  client c{port};
  for (int i = 0; i < 3; ++i) {
    auto res = c.get("/echo/" + std::to_string(i));
    CAF_CHECK_EQUAL(res.result_int(), 200U);
    auto j = nlohmann::json::parse(res.body());
    CAF_CHECK_EQUAL(j["target"], "/echo/" + std::to_string(i));
  }
  // Two pipelined requests are answered in order.
  c.write_raw("GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: "
              "x\r\n\r\n");
  auto r1 = c.read();
  auto r2 = c.read();
  auto j1 = nlohmann::json::parse(r1.body());
  auto j2 = nlohmann::json::parse(r2.body());
  CAF_CHECK_EQUAL(j1["target"], "/p1");
  CAF_CHECK_EQUAL(j2["target"], "/p2");
}

CAF_TEST(a responder completed on another thread answers once) {
  client c{port};
  auto res = c.get("/later");
  CAF_CHECK_EQUAL(res.result_int(), 200U);
  CAF_CHECK_EQUAL(res.body(), "later");
  // The second completion was ignored: the next response is the echo.
  auto next = c.get("/echo");
  CAF_CHECK_EQUAL(next.result_int(), 200U);
}

CAF_TEST(a dropped responder answers 503 and a throwing handler 500) {
  client c{port};
  auto res = c.get("/drop");
  CAF_CHECK_EQUAL(res.result_int(), 503U);
  CAF_CHECK_EQUAL(error_code_of(res.body()), "unavailable");
  // The decorator saw the 503 and its header went out.
  CAF_CHECK_EQUAL(res["X-Seen-Status"], "503");
  auto thrown = c.get("/throw");
  CAF_CHECK_EQUAL(thrown.result_int(), 500U);
  CAF_CHECK_EQUAL(error_code_of(thrown.body()), "internal_error");
}

CAF_TEST(a handler that never answers gets 504 after the handler timeout) {
  client c{port};
  auto t0 = std::chrono::steady_clock::now();
  auto res = c.get("/never");
  auto waited = std::chrono::steady_clock::now() - t0;
  CAF_CHECK_EQUAL(res.result_int(), 504U);
  CAF_CHECK_EQUAL(error_code_of(res.body()), "timeout");
  CAF_CHECK(waited >= 250ms);
  // A late answer after the timeout goes nowhere; the connection goes on.
  {
    std::lock_guard<std::mutex> guard{mtx};
    CAF_REQUIRE_EQUAL(kept.size(), 1U);
    kept.front()(server_response{});
  }
  CAF_CHECK_EQUAL(c.get("/echo").result_int(), 200U);
}

CAF_TEST(an oversized body gets 413 and the connection is closed) {
  client c{port};
  c.write_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n"
    + std::string(1001, 'x'));
  auto res = c.read();
  CAF_CHECK_EQUAL(res.result_int(), 413U);
  CAF_CHECK_EQUAL(error_code_of(res.body()), "payload_too_large");
  CAF_CHECK(c.closed_by_server());
  // A body at the limit is fine.
  client ok{port};
  ok.write_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    + std::string(1000, 'x'));
  CAF_CHECK_EQUAL(ok.read().result_int(), 200U);
}

CAF_TEST(oversized headers get 431) {
  client c{port};
  c.write_raw("GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: "
    + std::string(3000, 'a') + "\r\n\r\n");
  auto res = c.read();
  CAF_CHECK_EQUAL(res.result_int(), 431U);
  CAF_CHECK_EQUAL(error_code_of(res.body()), "headers_too_large");
  CAF_CHECK(c.closed_by_server());
}

CAF_TEST(malformed requests get 400 and the connection is closed) {
  for (std::string bad : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
         "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
         "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"}) {
    client c{port};
    c.write_raw(bad);
    auto res = c.read();
    CAF_CHECK_EQUAL(res.result_int(), 400U);
    CAF_CHECK_EQUAL(error_code_of(res.body()), "bad_request");
    CAF_CHECK(c.closed_by_server());
  }
}

CAF_TEST(a request that stalls is cut after the read timeout) {
  client c{port};
  auto t0 = std::chrono::steady_clock::now();
  c.write_raw("GET /echo HTTP/1.1\r\nHost:");
  CAF_CHECK(c.closed_by_server());
  auto waited = std::chrono::steady_clock::now() - t0;
  CAF_CHECK(waited >= 250ms);
  CAF_CHECK(waited < 4s);
}

CAF_TEST(an idle keep - alive connection waits longer than the read timeout) {
  client c{port};
  CAF_CHECK_EQUAL(c.get("/echo").result_int(), 200U);
  // Idle for longer than the read timeout (300 ms) but not the idle
  // timeout (2 s): the next request is still served.
  std::this_thread::sleep_for(600ms);
  CAF_CHECK_EQUAL(c.get("/echo").result_int(), 200U);
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- WebSocket
// -------------------------------------------------------------------

namespace {

struct ws_fixture {
  std::mutex mtx;
  std::condition_variable cv;
  std::shared_ptr<ws_peer> peer;
  std::vector<std::string> received;
  std::string close_reason;
  /// Sum of what on_sent reported.
  std::size_t reported_sent = 0;
  std::unique_ptr<http_server> srv;
  std::uint16_t port = 0;

  explicit ws_fixture(server_options opts = small_options()) {
    server_handlers h;
    h.on_request = [](server_request, responder r) { r(server_response{}); };
    h.on_upgrade
      = [this](const server_request& req, const std::shared_ptr<ws_peer>& p,
          ws_handlers& wh) -> std::optional<server_response> {
      if (req.target != "/ws")
        return json_error(404, "not_found", "no such endpoint");
      {
        std::lock_guard<std::mutex> guard{mtx};
        peer = p;
      }
      wh.on_message = [this, p](std::string_view text) {
        std::lock_guard<std::mutex> guard{mtx};
        received.emplace_back(text);
        p->send("echo:" + std::string{text});
        cv.notify_all();
      };
      wh.on_sent = [this](std::size_t n) {
        std::lock_guard<std::mutex> guard{mtx};
        reported_sent += n;
        cv.notify_all();
      };
      wh.on_close = [this](const std::string& why) {
        std::lock_guard<std::mutex> guard{mtx};
        close_reason = why;
        cv.notify_all();
      };
      return std::nullopt;
    };
    srv = std::make_unique<http_server>(opts, std::move(h));
    CAF_REQUIRE_EQUAL(srv->start(), "");
    port = srv->port();
  }

  ~ws_fixture() { srv->stop(); }

  std::shared_ptr<ws_peer> wait_peer() {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, 5s, [this] { return peer != nullptr; });
    return peer;
  }

  std::string wait_close() {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, 5s, [this] { return !close_reason.empty(); });
    return close_reason;
  }

  /// What on_sent reported once it reached `n` (or after 5 s).
  std::size_t wait_reported(std::size_t n) {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, 5s, [this, n] { return reported_sent >= n; });
    return reported_sent;
  }
};

/// The same server with room for 64 queued messages.
struct ws_wide_fixture : ws_fixture {
  ws_wide_fixture() : ws_fixture(wide_options()) {}

  static server_options wide_options() {
    auto o = small_options();
    o.ws_queue_limit = 64;
    return o;
  }
};

using text_ptr = std::shared_ptr<const std::string>;

/// Message `i` of a test sequence: its number, then `size` filler bytes
/// that differ per message.
std::string text(std::size_t i, std::size_t size) {
  auto s = "m" + std::to_string(i) + ":";
  s.append(size, static_cast<char>('a' + i % 26));
  return s;
}

/// The same, shared.
text_ptr numbered(std::size_t i, std::size_t size) {
  return std::make_shared<const std::string>(text(i, size));
}

/// A blocking WebSocket client with bounded reads.
struct ws_client_sync {
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::flat_buffer buf;

  ws_client_sync(std::uint16_t port, const std::string& target,
    boost::system::error_code& ec) {
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec)
      return;
    timeval tv{5, 0};
    setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv,
      sizeof(tv));
    ws.handshake("127.0.0.1", target, ec);
  }

  std::string read(boost::system::error_code& ec) {
    buf.consume(buf.size());
    ws.read(buf, ec);
    return beast::buffers_to_string(buf.data());
  }
};

/// Reads messages while they equal `expected` in order; returns how many
/// did (the first that differs is logged).
std::size_t read_in_order(ws_client_sync& c,
  const std::vector<text_ptr>& expected, boost::system::error_code& ec) {
  std::size_t same = 0;
  for (const auto& want : expected) {
    auto got = c.read(ec);
    if (ec)
      break;
    if (got != *want) {
      CAF_MESSAGE("message " << same << " differs: " << got.substr(0, 12)
                             << " instead of " << want->substr(0, 12));
      break;
    }
    ++same;
  }
  return same;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(ws_server_tests, ws_fixture)

CAF_TEST(websocket messages flow both ways) {
  boost::system::error_code ec;
  ws_client_sync c{port, "/ws", ec};
  CAF_REQUIRE(!ec);
  c.ws.write(asio::buffer(std::string{"hello"}));
  CAF_CHECK_EQUAL(c.read(ec), "echo:hello");
  CAF_CHECK(!ec);
  auto p = wait_peer();
  CAF_REQUIRE(p != nullptr);
  CAF_CHECK_EQUAL(p->remote_address(), "127.0.0.1");
  CAF_CHECK(p->send("pushed"));
  CAF_CHECK_EQUAL(c.read(ec), "pushed");
  CAF_CHECK_EQUAL(srv->stats().ws_connections, 1U);
}

CAF_TEST(a refused upgrade gets the handler response) {
  boost::system::error_code ec;
  ws_client_sync c{port, "/elsewhere", ec};
  CAF_CHECK(ec); // handshake fails: the server answered 404
  CAF_CHECK_EQUAL(srv->stats().ws_connections, 0U);
}

CAF_TEST(close sends the code and reason to the client) {
  boost::system::error_code ec;
  ws_client_sync c{port, "/ws", ec};
  CAF_REQUIRE(!ec);
  auto p = wait_peer();
  CAF_REQUIRE(p != nullptr);
  p->close(4001, "slow consumer");
  CAF_CHECK(!p->send("after close"));
  c.read(ec);
  CAF_CHECK_EQUAL(ec, websocket::error::closed);
  CAF_CHECK_EQUAL(static_cast<int>(c.ws.reason().code), 4001);
  CAF_CHECK_EQUAL(std::string{c.ws.reason().reason.c_str()}, "slow consumer");
  CAF_CHECK_EQUAL(wait_close(), "closed: slow consumer");
}

CAF_TEST(a client that does not read is closed at the queue limit) {
  boost::system::error_code ec;
  ws_client_sync c{port, "/ws", ec};
  CAF_REQUIRE(!ec);
  auto p = wait_peer();
  CAF_REQUIRE(p != nullptr);
  auto big = std::make_shared<const std::string>(std::size_t{1} << 20, 'x');
  // 200 MB offered, one message per send; loopback buffers hold a few MB,
  // so the four queue slots fill up long before. Sends are handed over
  // asynchronously: the connection counts them on its own thread and
  // closes itself when a fifth would wait.
  for (int i = 0; i < 200 && p->send(big); ++i)
    std::this_thread::yield();
  auto why = wait_close();
  CAF_MESSAGE("close reason: " << why);
  // The close frame cannot pass the full socket: cut after the timeout.
  CAF_CHECK(why == "close timeout"
    || why == "closed: slow consumer: 5 messages waiting");
  CAF_CHECK(!p->send(big));
  CAF_CHECK_LESS_OR_EQUAL(p->queued(), 4U);
}

CAF_TEST(stopping the server says going away to websocket clients) {
  boost::system::error_code ec;
  ws_client_sync c{port, "/ws", ec};
  CAF_REQUIRE(!ec);
  CAF_REQUIRE(wait_peer() != nullptr);
  std::thread stopper{[this] { srv->stop(); }};
  c.read(ec);
  stopper.join();
  CAF_CHECK_EQUAL(ec, websocket::error::closed);
  CAF_CHECK_EQUAL(static_cast<int>(c.ws.reason().code), 1001);
}

CAF_TEST(a send over the queue limit closes the client as a slow consumer) {
  boost::system::error_code ec;
  ws_client_sync c{port, "/ws", ec};
  CAF_REQUIRE(!ec);
  auto p = wait_peer();
  CAF_REQUIRE(p != nullptr);
  // Five messages in one send, four slots: none of them is written.
  std::vector<text_ptr> five;
  for (std::size_t i = 0; i < 5; ++i)
    five.push_back(numbered(i, 10));
  CAF_CHECK(p->send(five));
  c.read(ec);
  CAF_CHECK_EQUAL(ec, websocket::error::closed);
  CAF_CHECK_EQUAL(static_cast<int>(c.ws.reason().code), 1008);
  CAF_CHECK_EQUAL(std::string{c.ws.reason().reason.c_str()},
    "slow consumer: 5 messages waiting");
  CAF_CHECK_EQUAL(wait_close(), "closed: slow consumer: 5 messages waiting");
  CAF_CHECK(!p->send(numbered(5, 10)));
}

CAF_TEST(on_sent reports what was written once half the queue limit is) {
  boost::system::error_code ec;
  ws_client_sync c{port, "/ws", ec};
  CAF_REQUIRE(!ec);
  auto p = wait_peer();
  CAF_REQUIRE(p != nullptr);
  // Limit 4: reports come in steps of at least 2 messages.
  CAF_CHECK(p->send(numbered(0, 10)));
  CAF_CHECK_EQUAL(c.read(ec), text(0, 10));
  CAF_CHECK(p->send(std::vector<text_ptr>{numbered(1, 10), numbered(2, 10)}));
  CAF_CHECK_EQUAL(c.read(ec), text(1, 10));
  CAF_CHECK_EQUAL(c.read(ec), text(2, 10));
  CAF_CHECK_EQUAL(wait_reported(3), 3U);
  // One more is written but not reported until a second one follows.
  CAF_CHECK(p->send(numbered(3, 10)));
  CAF_CHECK_EQUAL(c.read(ec), text(3, 10));
  CAF_CHECK(p->send(numbered(4, 10)));
  CAF_CHECK_EQUAL(c.read(ec), text(4, 10));
  CAF_CHECK_EQUAL(wait_reported(5), 5U);
  CAF_CHECK(!ec);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(ws_batch_tests, ws_wide_fixture)

CAF_TEST(batched messages arrive whole and in order) {
  boost::system::error_code ec;
  ws_client_sync c{port, "/ws", ec};
  CAF_REQUIRE(!ec);
  c.ws.read_message_max(1U << 20);
  auto p = wait_peer();
  CAF_REQUIRE(p != nullptr);
  // Every length encoding of a frame header (7, 16 and 64 bits), at and
  // around the boundaries (the texts are 3 bytes longer: 125, 126, 127,
  // 65534, 65535, 65536 bytes); several sends and single messages in a row,
  // written while earlier ones are in flight, so the server batches them.
  const std::vector<std::size_t> sizes{
    0, 1, 122, 123, 124, 65000, 65531, 65532, 65533, 70000, 3};
  std::vector<text_ptr> expected;
  for (std::size_t i = 0; i < sizes.size(); ++i)
    expected.push_back(numbered(i, sizes[i]));
  CAF_CHECK(
    p->send(std::vector<text_ptr>(expected.begin(), expected.begin() + 5)));
  CAF_CHECK(p->send(expected[5]));
  CAF_CHECK(
    p->send(std::vector<text_ptr>(expected.begin() + 6, expected.end())));
  for (std::size_t k = 0; k < 12; ++k) {
    std::vector<text_ptr> three;
    for (std::size_t j = 0; j < 3; ++j) {
      three.push_back(numbered(expected.size(), 20 + j));
      expected.push_back(three.back());
    }
    CAF_CHECK(p->send(three));
  }
  CAF_CHECK_EQUAL(read_in_order(c, expected, ec), expected.size());
  CAF_CHECK(!ec);
}

CAF_TEST(messages sent one by one arrive in order around a partial write) {
  boost::system::error_code ec;
  ws_client_sync c{port, "/ws", ec};
  CAF_REQUIRE(!ec);
  c.ws.read_message_max(1U << 20);
  auto p = wait_peer();
  CAF_REQUIRE(p != nullptr);
  // Each send is its own write: the small ones go out at once while the
  // socket has room; the 900 KB ones outgrow the loopback buffer (the
  // client reads only after all were sent), so the rest of each is
  // written later and what follows must wait behind it.
  std::vector<text_ptr> expected;
  for (std::size_t i = 0; i < 60; ++i) {
    expected.push_back(numbered(i, i % 20 == 10 ? 900'000 : 40));
    CAF_CHECK(p->send(expected.back()));
  }
  CAF_CHECK_EQUAL(read_in_order(c, expected, ec), expected.size());
  CAF_CHECK(!ec);
  // Half the queue limit (32) written at least once: reported.
  CAF_CHECK_GREATER_OR_EQUAL(wait_reported(32), 32U);
}

CAF_TEST(pongs wait for a gathered write and never split its frames) {
  boost::system::error_code ec;
  ws_client_sync c{port, "/ws", ec};
  CAF_REQUIRE(!ec);
  c.ws.read_message_max(1U << 20);
  int pongs = 0;
  c.ws.control_callback([&pongs](websocket::frame_type kind, auto) {
    if (kind == websocket::frame_type::pong)
      ++pongs;
  });
  auto p = wait_peer();
  CAF_REQUIRE(p != nullptr);
  // 60 messages of 300 KB (18 MB) in one send: more than loopback buffers
  // take, so the gathered write is still going when the pings arrive.
  std::vector<text_ptr> batch;
  for (std::size_t i = 0; i < 60; ++i)
    batch.push_back(numbered(i, 300'000));
  CAF_CHECK(p->send(batch));
  for (int i = 0; i < 3; ++i) {
    c.ws.ping(websocket::ping_data{"p" + std::to_string(i)}, ec);
    CAF_REQUIRE(!ec);
  }
  CAF_CHECK_EQUAL(read_in_order(c, batch, ec), batch.size());
  CAF_CHECK(!ec);
  // The pongs come after the batch, one per ping the server reads, so
  // later messages may pass some of them; a few small ones bring them in.
  for (std::size_t i = 100; i < 110 && pongs < 3; ++i) {
    CAF_CHECK(p->send(numbered(i, 1)));
    CAF_CHECK_EQUAL(c.read(ec), text(i, 1));
  }
  CAF_CHECK_EQUAL(pongs, 3);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

/// A server whose WebSocket connections are spread over two threads; it
/// keeps every peer, in the order the clients connected.
struct ws_many_fixture {
  std::mutex mtx;
  std::vector<std::shared_ptr<ws_peer>> peers;
  std::unique_ptr<http_server> srv;
  std::uint16_t port = 0;

  ws_many_fixture() {
    auto o = small_options();
    o.ws_threads = 2;
    o.ws_queue_limit = 256;
    server_handlers h;
    h.on_upgrade
      = [this](const server_request&, const std::shared_ptr<ws_peer>& p,
          ws_handlers&) -> std::optional<server_response> {
      std::lock_guard<std::mutex> guard{mtx};
      peers.push_back(p);
      return std::nullopt;
    };
    srv = std::make_unique<http_server>(o, std::move(h));
    CAF_REQUIRE_EQUAL(srv->start(), "");
    port = srv->port();
  }

  ~ws_many_fixture() { srv->stop(); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(ws_fanout_tests, ws_many_fixture)

CAF_TEST(a fan - out reaches every connection in order with single sends) {
  constexpr std::size_t clients = 5;
  constexpr std::size_t rounds = 20;
  std::vector<std::unique_ptr<ws_client_sync>> cs;
  boost::system::error_code ec;
  for (std::size_t k = 0; k < clients; ++k) {
    // The handshake answer follows on_upgrade: the peer is known now.
    cs.push_back(std::make_unique<ws_client_sync>(port, "/ws", ec));
    CAF_REQUIRE(!ec);
    cs.back()->ws.read_message_max(1U << 20);
  }
  std::vector<std::shared_ptr<ws_peer>> ps;
  {
    std::lock_guard<std::mutex> guard{mtx};
    ps = peers;
  }
  CAF_REQUIRE_EQUAL(ps.size(), clients);
  // Per round and client: one message through a fan-out, one single send,
  // one more through a fan-out; the client must read them in that order.
  // Messages differ per client (the number says which client it is for).
  std::vector<std::vector<text_ptr>> expected(clients);
  auto next = [&](std::size_t k, std::size_t size) {
    auto t = numbered(k * 1000 + expected[k].size(), size);
    expected[k].push_back(t);
    return t;
  };
  ws_fanout fan;
  for (std::size_t r = 0; r < rounds; ++r) {
    for (std::size_t k = 0; k < clients; ++k)
      fan.add(ps[k], {next(k, 10 + r)});
    fan.send();
    CAF_CHECK(fan.empty());
    for (std::size_t k = 0; k < clients; ++k)
      CAF_CHECK(ps[k]->send(next(k, 3000 * r)));
    for (std::size_t k = 0; k < clients; ++k)
      fan.add(ps[k], {next(k, 7), next(k, 1)});
    fan.send();
  }
  // A fan-out with a chunk size hands over on its own once that many
  // connections wait; the rest goes with send().
  ws_fanout chunked{2};
  chunked.add(ps[0], {next(0, 5)});
  CAF_CHECK(!chunked.empty());
  chunked.add(ps[1], {next(1, 5)});
  CAF_CHECK(chunked.empty());
  chunked.add(ps[2], {next(2, 5)});
  chunked.send();
  CAF_CHECK(chunked.empty());
  for (std::size_t k = 0; k < clients; ++k) {
    CAF_CHECK_EQUAL(read_in_order(*cs[k], expected[k], ec), expected[k].size());
    CAF_CHECK(!ec);
  }
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(binding a busy port reports an error) {
  http_server a{server_options{}, server_handlers{}};
  CAF_REQUIRE_EQUAL(a.start(), "");
  server_options o;
  o.port = a.port();
  http_server b{o, server_handlers{}};
  auto err = b.start();
  CAF_CHECK(err.find("cannot listen") != std::string::npos);
  server_options bad;
  bad.bind = "not-an-address";
  http_server c{bad, server_handlers{}};
  CAF_CHECK(c.start().find("invalid bind address") != std::string::npos);
}
