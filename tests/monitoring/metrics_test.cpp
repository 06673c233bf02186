#define CAF_SUITE metrics
#include "caf/test/unit_test.hpp"

#define FAIL(msg) CAF_FAIL(msg)
#include "caf/test/dsl.hpp"

#include <cstring>
#include <memory>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <prometheus/registry.h>

#include "messages/type_ids.hpp"
#include "monitoring/metrics.hpp"
#include "monitoring/metrics_batch.hpp"
#include "monitoring/metrics_store.hpp"
#include "net/http_server.hpp"
#include "tests/monitoring/exposition_parser.hpp"

using csp::messages::metric_kind;
using csp::messages::metric_update;
using csp::messages::snapshot_atom_v;
using csp::monitoring::metrics_actor;
using csp::monitoring::metrics_options;

namespace {

struct test_config : caf::actor_system_config {
  test_config() { csp::messages::register_types(*this); }
};

struct http_response {
  std::string status_line;
  std::string headers;
  std::string body;
};

// A minimal HTTP/1.0 client on 127.0.0.1 with 5 s socket timeouts.
http_response http_get(std::uint16_t port, const std::string& path) {
  http_response out;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return out;
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return out;
  }
  auto req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return out;
  }
  std::string raw;
  char buf[4096];
  // Bounded: at most 4 MB.
  while (raw.size() < (4u << 20)) {
    auto n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos)
    return out;
  auto first = raw.find("\r\n");
  out.status_line = raw.substr(0, first);
  out.headers = raw.substr(first + 2, head_end - first - 2);
  out.body = raw.substr(head_end + 4);
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct fixture : test_coordinator_fixture<test_config> {
  std::shared_ptr<prometheus::Registry> registry
    = csp::monitoring::make_metrics_registry();

  metrics_options options(bool serve_http) {
    metrics_options opts;
    opts.registry = registry;
    opts.serve_http = serve_http;
    opts.bind_address = "127.0.0.1";
    opts.port = 0;
    return opts;
  }

  csp::test::exposition snapshot(const caf::actor& m) {
    auto text = request<std::string>(m, snapshot_atom_v);
    auto parsed = csp::test::parse_exposition(text);
    CAF_REQUIRE_EQUAL(parsed.error, "");
    return parsed;
  }
};

metric_update trades(const std::string& symbol, double n) {
  metric_update u;
  u.entries.push_back({metric_kind::counter_add, "trades_received_total",
    {{"exchange", "binance"}, {"symbol", symbol}}, n});
  return u;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(metrics_tests, fixture)

CAF_TEST(updates from a batch reach the registry) {
  auto m = sys.spawn(metrics_actor, options(false));
  run();
  csp::monitoring::metric_batch batch;
  auto btc = batch.counter(
    "trades_received_total", {{"exchange", "binance"}, {"symbol", "BTCUSDT"}});
  auto lag = batch.gauge("data_collection_lag_seconds",
    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}});
  for (int i = 0; i < 250; ++i)
    batch.add(btc);
  batch.set(lag, 0.25);
  self->send(m, batch.take());
  expect((metric_update), from(self).to(m));
  auto x = snapshot(m);
  CAF_CHECK_EQUAL(x.value("trades_received_total",
                    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}),
    250.0);
  CAF_CHECK_EQUAL(x.value("data_collection_lag_seconds",
                    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}),
    0.25);
  // Not serving HTTP: port 0.
  CAF_CHECK_EQUAL(request<std::uint16_t>(m, caf::get_atom_v), 0u);
  anon_send_exit(m, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(circuit transitions drive the circuit breaker series) {
  auto m = sys.spawn(metrics_actor, options(false));
  run();
  using csp::messages::circuit_state;
  csp::messages::circuit_transition t;
  t.collector = "binance-0";
  t.from = circuit_state::closed;
  t.to = circuit_state::open;
  t.reason = "failure_threshold";
  self->send(m, t);
  run();
  t.from = circuit_state::open;
  t.to = circuit_state::half_open;
  self->send(m, t);
  run();
  auto x = snapshot(m);
  CAF_CHECK_EQUAL(
    x.value("circuit_breaker_state", {{"collector", "binance-0"}}), 2.0);
  CAF_CHECK_EQUAL(x.value("circuit_breaker_transitions_total",
                    {{"collector", "binance-0"}, {"from_state", "closed"},
                      {"to_state", "open"}}),
    1.0);
  CAF_CHECK_EQUAL(x.value("circuit_breaker_transitions_total",
                    {{"collector", "binance-0"}, {"from_state", "open"},
                      {"to_state", "half_open"}}),
    1.0);
  anon_send_exit(m, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(bad entries are counted and the actor keeps running) {
  auto m = sys.spawn(metrics_actor, options(false));
  run();
  metric_update u;
  u.entries.push_back(
    {metric_kind::counter_add, "trades_received_total", {{"x", "y"}}, 1.0});
  u.entries.push_back({metric_kind::counter_add, "trades_received_total",
    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}, -5.0});
  self->send(m, u);
  run();
  self->send(m, trades("BTCUSDT", 2.0));
  run();
  auto x = snapshot(m);
  CAF_CHECK_EQUAL(
    x.value("metrics_update_errors_total", {{"reason", "wrong_labels"}}), 1.0);
  CAF_CHECK_EQUAL(
    x.value("metrics_update_errors_total", {{"reason", "negative_counter"}}),
    1.0);
  CAF_CHECK_EQUAL(x.value("trades_received_total",
                    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}),
    2.0);
  anon_send_exit(m, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a restarted metrics actor keeps every value) {
  auto first = sys.spawn(metrics_actor, options(false));
  run();
  self->send(first, trades("BTCUSDT", 7.0));
  run();
  anon_send_exit(first, caf::exit_reason::kill);
  run();
  // What a supervisor does: respawn with the same options.
  auto second = sys.spawn(metrics_actor, options(false));
  run();
  CAF_CHECK_NOT_EQUAL(first, second);
  self->send(second, trades("BTCUSDT", 3.0));
  run();
  auto x = snapshot(second);
  CAF_CHECK_EQUAL(x.value("trades_received_total",
                    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}),
    10.0);
  anon_send_exit(second, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(the exposer answers an HTTP GET on loopback) {
  auto m = sys.spawn(metrics_actor, options(true));
  run();
  auto port = request<std::uint16_t>(m, caf::get_atom_v);
  CAF_REQUIRE_NOT_EQUAL(port, 0u);
  self->send(m, trades("ETHUSDT", 42.0));
  run();
  auto res = http_get(port, "/metrics");
  // The server answers in the request's HTTP version.
  CAF_CHECK_EQUAL(res.status_line.substr(res.status_line.find(' ')), " 200 OK");
  auto headers = lower(res.headers);
  // The text format, version 0.0.4.
  CAF_CHECK_NOT_EQUAL(
    headers.find("content-type: text/plain; version=0.0.4"), std::string::npos);
  auto x = csp::test::parse_exposition(res.body);
  CAF_REQUIRE_EQUAL(x.error, "");
  CAF_CHECK_EQUAL(x.value("trades_received_total",
                    {{"exchange", "binance"}, {"symbol", "ETHUSDT"}}),
    42.0);
  CAF_CHECK_EQUAL(x.types["trades_received_total"], "counter");
  auto rss = x.value("process_resident_memory_bytes");
  CAF_REQUIRE(rss);
  CAF_CHECK_GREATER(*rss, 0.0);
  CAF_CHECK(x.value("process_cpu_seconds_total"));
  CAF_CHECK_EQUAL(x.types["process_cpu_seconds_total"], "counter");
  // Only the configured path is served.
  auto other = http_get(port, "/other");
  CAF_CHECK_NOT_EQUAL(other.status_line.find(" 404 "), std::string::npos);
  anon_send_exit(m, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a busy port makes the actor quit with a clear error) {
  csp::net::server_options so;
  so.threads = 1;
  csp::net::http_server blocker{so, csp::net::server_handlers{}};
  CAF_REQUIRE_EQUAL(blocker.start(), "");
  auto opts = options(true);
  opts.port = blocker.port();
  auto m = sys.spawn(metrics_actor, opts);
  self->monitor(m);
  run();
  bool got_down = false;
  self->receive(
    [&](caf::down_msg& dm) {
      got_down = true;
      CAF_CHECK_EQUAL(dm.source, m.address());
      CAF_CHECK_EQUAL(dm.reason, caf::sec::cannot_open_port);
      auto text = sys.render(dm.reason);
      CAF_MESSAGE("exit reason: " << text);
      CAF_CHECK_NOT_EQUAL(
        text.find("127.0.0.1:" + std::to_string(opts.port)), std::string::npos);
    },
    caf::after(std::chrono::seconds(0)) >> [] {});
  CAF_CHECK(got_down);
}

CAF_TEST_FIXTURE_SCOPE_END()
