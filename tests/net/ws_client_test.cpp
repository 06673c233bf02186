#define CAF_SUITE net.ws_client
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/http_server.hpp"
#include "net/io_thread.hpp"
#include "net/url.hpp"
#include "net/ws_client.hpp"

using namespace csp::net;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto limit = 10s;

/// A loopback WebSocket server (net/http_server) whose test code pushes
/// messages to the one client, and a ws_connection to it that records what
/// it gets.
struct fixture {
  std::mutex mtx;
  std::condition_variable cv;
  std::shared_ptr<ws_peer> peer;
  std::vector<std::string> received;
  std::vector<steady::time_point> arrival;
  /// 'm' for each message, 'e' for each end of a read, in order.
  std::string events;
  int expirations = 0;
  bool opened = false;
  std::optional<std::string> closed;
  /// Why the server's end of the connection closed.
  std::optional<std::string> server_closed;
  std::unique_ptr<http_server> srv;
  io_thread io;
  std::shared_ptr<ws_connection> conn;

  fixture() {
    server_handlers h;
    h.on_request
      = [](const server_request&, const responder& r) { r(server_response{}); };
    h.on_upgrade
      = [this](const server_request&, const std::shared_ptr<ws_peer>& p,
          ws_handlers& wh) -> std::optional<server_response> {
      wh.on_close = [this](const std::string& why) {
        std::lock_guard<std::mutex> guard{mtx};
        server_closed = why;
        cv.notify_all();
      };
      std::lock_guard<std::mutex> guard{mtx};
      peer = p;
      cv.notify_all();
      return std::nullopt;
    };
    server_options o;
    o.threads = 1;
    o.ws_queue_limit = 64;
    o.ws_ping_interval = 60s;
    srv = std::make_unique<http_server>(o, std::move(h));
    CAF_REQUIRE_EQUAL(srv->start(), "");
  }

  ~fixture() {
    conn.reset();
    srv->stop();
  }

  /// Connects with `idle_timeout` and waits until both ends are up.
  void connect(std::chrono::milliseconds idle_timeout = 0ms,
    std::size_t max_message_size = std::size_t{16} << 20) {
    auto u
      = parse_url("ws://127.0.0.1:" + std::to_string(srv->port()) + "/stream");
    CAF_REQUIRE(u.value);
    client_options opts;
    opts.idle_timeout = idle_timeout;
    opts.max_message_size = max_message_size;
    ws_callbacks cbs;
    cbs.on_open = [this] {
      std::lock_guard<std::mutex> guard{mtx};
      opened = true;
      cv.notify_all();
    };
    cbs.on_message = [this](std::string_view m) {
      std::lock_guard<std::mutex> guard{mtx};
      received.emplace_back(m);
      arrival.push_back(steady::now());
      events += 'm';
      cv.notify_all();
    };
    cbs.on_read_end = [this] {
      std::lock_guard<std::mutex> guard{mtx};
      events += 'e';
      cv.notify_all();
    };
    cbs.on_close = [this](const std::string& why) {
      std::lock_guard<std::mutex> guard{mtx};
      closed = why;
      cv.notify_all();
    };
    cbs.on_pause_expired = [this] {
      std::lock_guard<std::mutex> guard{mtx};
      ++expirations;
      cv.notify_all();
    };
    conn = ws_connection::open(io, *u.value, opts, std::move(cbs));
    std::unique_lock<std::mutex> lock{mtx};
    CAF_REQUIRE(
      cv.wait_for(lock, limit, [this] { return opened && peer != nullptr; }));
  }

  /// Waits up to `timeout` until `n` messages arrived; returns the count.
  std::size_t wait_received(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, timeout, [&] { return received.size() >= n; });
    return received.size();
  }

  /// Waits until the pause callback ran `n` times.
  bool wait_expirations(int n) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, limit, [&] { return expirations >= n; });
  }

  /// Whether the connection closed within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, timeout, [&] { return closed.has_value(); });
  }

  std::shared_ptr<ws_peer> server_side() {
    std::lock_guard<std::mutex> guard{mtx};
    return peer;
  }

  /// Message i: its index, then `size` filler bytes.
  static std::string message(int i, std::size_t size) {
    auto text = std::to_string(i) + ":";
    text.append(size, static_cast<char>('a' + i % 26));
    return text;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(ws_client_tests, fixture)

CAF_TEST(a paused client receives nothing and then everything in order) {
  connect();
  auto p = server_side();
  CAF_REQUIRE(p->send("before"));
  CAF_REQUIRE_EQUAL(wait_received(1, limit), 1u);
  // Unbounded. Posted to the I/O thread ahead of anything the server
  // sends from here on.
  conn->pause_reading(0ms);
  // 24 MB: far more than loopback socket buffers hold for a reader that
  // does not read.
  constexpr int count = 24;
  constexpr std::size_t size = std::size_t{1} << 20;
  for (int i = 0; i < count; ++i)
    CAF_REQUIRE(p->send(message(i, size)));
  // Nothing arrives while paused...
  CAF_CHECK_EQUAL(wait_received(2, 500ms), 1u);
  // ... and the server cannot get rid of its messages: TCP pushes back.
  CAF_CHECK_GREATER(p->queued(), 0u);
  conn->resume_reading();
  CAF_REQUIRE_EQUAL(wait_received(count + 1, limit), count + 1u);
  std::lock_guard<std::mutex> guard{mtx};
  for (int i = 0; i < count; ++i) {
    const auto& m = received[static_cast<std::size_t>(i) + 1];
    CAF_CHECK_EQUAL(m.size(), size + std::to_string(i).size() + 1);
    CAF_CHECK_EQUAL(m.substr(0, m.find(':')), std::to_string(i));
  }
  CAF_CHECK(!closed);
  CAF_CHECK_EQUAL(expirations, 0);
}

CAF_TEST(a bounded pause ends by itself) {
  connect();
  auto p = server_side();
  auto paused_at = steady::now();
  conn->pause_reading(300ms);
  for (int i = 0; i < 3; ++i)
    CAF_REQUIRE(p->send(message(i, 10)));
  CAF_REQUIRE(wait_expirations(1));
  CAF_REQUIRE_EQUAL(wait_received(3, limit), 3u);
  std::lock_guard<std::mutex> guard{mtx};
  CAF_CHECK_EQUAL(expirations, 1);
  for (int i = 0; i < 3; ++i)
    CAF_CHECK_EQUAL(received[static_cast<std::size_t>(i)], message(i, 10));
  // Not one message before the limit.
  CAF_CHECK_GREATER_OR_EQUAL(arrival.front() - paused_at, 300ms);
}

CAF_TEST(resuming early cancels the limit) {
  connect();
  auto p = server_side();
  conn->pause_reading(200ms);
  conn->resume_reading();
  CAF_REQUIRE(p->send("x"));
  CAF_REQUIRE_EQUAL(wait_received(1, limit), 1u);
  // The stale limit does not report an expiry.
  std::unique_lock<std::mutex> lock{mtx};
  CAF_CHECK(!cv.wait_for(lock, 400ms, [this] { return expirations > 0; }));
}

CAF_TEST(the idle timeout does not fire during our own pause) {
  // Idle timeout 200 ms: the client pings at 100 ms and gives up at 200 ms when
  // nothing is read, which a paused client never does.
  connect(200ms);
  auto p = server_side();
  conn->pause_reading(0ms);
  CAF_CHECK(!wait_closed(800ms));
  conn->resume_reading();
  CAF_REQUIRE(p->send("still here"));
  CAF_REQUIRE_EQUAL(wait_received(1, limit), 1u);
  std::lock_guard<std::mutex> guard{mtx};
  CAF_CHECK_EQUAL(received.front(), "still here");
  CAF_CHECK(!closed);
}

CAF_TEST(the messages of one read are followed by one read end) {
  connect();
  auto p = server_side();
  // While the client does not read, the messages pile up in its socket,
  // so reads after the resume carry many of them.
  conn->pause_reading(0ms);
  constexpr int count = 60;
  for (int i = 0; i < count; ++i)
    CAF_REQUIRE(p->send(message(i, 100)));
  CAF_CHECK_EQUAL(wait_received(1, 300ms), 0u);
  conn->resume_reading();
  CAF_REQUIRE_EQUAL(wait_received(count, limit), count);
  CAF_REQUIRE(p->send("after"));
  CAF_REQUIRE_EQUAL(wait_received(count + 1, limit), count + 1u);
  // on_message of "after" has run; its read's end follows right after.
  std::unique_lock<std::mutex> guard{mtx};
  CAF_REQUIRE(
    cv.wait_for(guard, limit, [this] { return events.back() == 'e'; }));
  for (int i = 0; i < count; ++i)
    CAF_CHECK_EQUAL(received[static_cast<std::size_t>(i)], message(i, 100));
  // Never two read ends in a row, never one before the first message, and
  // fewer read ends than messages (reads carry many of them).
  CAF_CHECK_EQUAL(events.find("ee"), std::string::npos);
  CAF_CHECK_EQUAL(events.front(), 'm');
  auto ends = std::count(events.begin(), events.end(), 'e');
  CAF_CHECK_GREATER_OR_EQUAL(ends, 2);
  CAF_CHECK_LESS(ends, count / 2);
}

CAF_TEST(a message over the size limit fails the connection) {
  connect(0ms, 1000);
  auto p = server_side();
  CAF_REQUIRE(p->send(message(1, 500)));
  CAF_REQUIRE(p->send(message(2, 5000)));
  CAF_REQUIRE(wait_closed(limit));
  std::lock_guard<std::mutex> guard{mtx};
  CAF_REQUIRE_EQUAL(received.size(), 1u);
  CAF_CHECK_EQUAL(received.front(), message(1, 500));
  CAF_CHECK_EQUAL(*closed, "read_failed: protocol error: message too big");
}

CAF_TEST(a close from the server is answered and reported) {
  connect();
  auto p = server_side();
  CAF_REQUIRE(p->send("bye"));
  CAF_REQUIRE_EQUAL(wait_received(1, limit), 1u);
  p->close(1001, "going away");
  CAF_REQUIRE(wait_closed(limit));
  std::unique_lock<std::mutex> lock{mtx};
  CAF_CHECK_EQUAL(*closed, "closed_by_peer");
  // The server saw its close answered, not a cut connection.
  CAF_REQUIRE(
    cv.wait_for(lock, limit, [this] { return server_closed.has_value(); }));
  CAF_CHECK_EQUAL(*server_closed, "closed: going away");
}

CAF_TEST(our close is a close handshake) {
  connect();
  conn->close();
  CAF_REQUIRE(wait_closed(limit));
  std::unique_lock<std::mutex> lock{mtx};
  CAF_CHECK_EQUAL(*closed, "closed");
  // The server read our close frame (a cut connection reads differently).
  CAF_REQUIRE(
    cv.wait_for(lock, limit, [this] { return server_closed.has_value(); }));
  CAF_CHECK_EQUAL(*server_closed, "closed_by_peer");
}

CAF_TEST_FIXTURE_SCOPE_END()
