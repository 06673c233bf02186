#define CAF_SUITE collector
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "caf/all.hpp"

#include "actors/binance_collector.hpp"
#include "actors/stock_poller.hpp"
#include "messages/type_ids.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace csp;

namespace {

/// Unblocks a thread waiting in `acc.accept` by connecting to it.
void wake(tcp::acceptor& acc) {
  asio::io_context ioc;
  tcp::socket s{ioc};
  beast::error_code ec;
  s.connect(acc.local_endpoint(), ec);
}

struct config : caf::actor_system_config {
  config() {
    messages::register_types(*this);
    set("scheduler.max-threads", 2);
  }
};

std::string trade_frame(const std::string& sym, std::int64_t id) {
  auto t = std::to_string(1'700'000'000'000 + id);
  std::string lower;
  for (char c : sym)
    lower += static_cast<char>(c - 'A' + 'a');
  return R"({"stream":")" + lower + R"(@trade","data":{"e":"trade","E":)" + t
    + R"(,"s":")" + sym + R"(","t":)" + std::to_string(id)
    + R"(,"p":"100.5","q":"0.1","T":)" + t + R"(,"m":true,"M":true}})";
}

/// A scripted loopback exchange: the first WebSocket connection gets
/// trades 1-3, a malformed frame and a duplicate, then is dropped; the
/// second gets trade 6 (ids 4-5 are missing) and stays open. The REST side
/// serves historicalTrades for the gap.
struct fake_exchange {
  asio::io_context ioc;
  tcp::acceptor ws_acceptor{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
  tcp::acceptor rest_acceptor{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
  std::thread ws_thread;
  std::thread rest_thread;
  std::vector<std::string> ws_targets;
  std::vector<std::string> rest_targets;
  std::atomic<bool> stopping{false};

  fake_exchange() {
    ws_thread = std::thread{[this] { serve_ws(); }};
    rest_thread = std::thread{[this] { serve_rest(); }};
  }

  /// Stops both servers and joins their threads; idempotent.
  void stop() {
    if (stopping.exchange(true))
      return;
    wake(ws_acceptor);
    wake(rest_acceptor);
    ws_thread.join();
    rest_thread.join();
  }

  ~fake_exchange() { stop(); }

  void serve_ws() {
    for (int conn = 0; conn < 2; ++conn) {
      tcp::socket sock{ioc};
      beast::error_code ec;
      ws_acceptor.accept(sock, ec);
      if (ec || stopping)
        return;
      websocket::stream<tcp::socket> ws{std::move(sock)};
      beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::read(ws.next_layer(), buf, req, ec);
      if (ec)
        return;
      ws_targets.emplace_back(req.target());
      ws.accept(req, ec);
      if (ec)
        return;
      ws.text(true);
      auto send
        = [&](const std::string& text) { ws.write(asio::buffer(text), ec); };
      if (conn == 0) {
        for (int id = 1; id <= 3; ++id)
          send(trade_frame("BTCUSDT", id));
        send("{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"tra");
        send(trade_frame("BTCUSDT", 3));
        // Let the client read everything, then drop without a close frame.
        ws.next_layer().shutdown(tcp::socket::shutdown_send, ec);
        ws.next_layer().close(ec);
      } else {
        send(trade_frame("BTCUSDT", 6));
        // Stay open until the client goes away.
        beast::flat_buffer in;
        while (!ec)
          ws.read(in, ec);
      }
    }
  }

  void serve_rest() {
    for (;;) {
      tcp::socket sock{ioc};
      beast::error_code ec;
      rest_acceptor.accept(sock, ec);
      if (ec || stopping)
        return;
      beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::read(sock, buf, req, ec);
      if (ec)
        continue;
      rest_targets.emplace_back(req.target());
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = R"([{"id":4,"price":"101","qty":"1","quoteQty":"101",)"
                   R"("time":1700000000004,"isBuyerMaker":false},)"
                   R"({"id":5,"price":"102","qty":"2","quoteQty":"204",)"
                   R"("time":1700000000005,"isBuyerMaker":true}])";
      res.prepare_payload();
      http::write(sock, res, ec);
    }
  }

  std::string ws_url() const {
    return "ws://127.0.0.1:"
      + std::to_string(ws_acceptor.local_endpoint().port());
  }

  std::string rest_url() const {
    return "http://127.0.0.1:"
      + std::to_string(rest_acceptor.local_endpoint().port());
  }
};

} // namespace

CAF_TEST(collector streams reconnects backfills and counts) {
  fake_exchange ex;
  {
    config cfg;
    caf::actor_system sys{cfg};
    caf::scoped_actor probe{sys};
    actors::binance_collector_options opts;
    opts.name = "binance-test";
    opts.ws_url = ex.ws_url();
    opts.rest_url = ex.rest_url();
    opts.symbols = {"BTCUSDT"};
    opts.batch_max_trades = 2;
    opts.batch_max_age_ms = 10;
    opts.backoff_base_ms = 10;
    opts.backoff_max_ms = 50;
    opts.metrics_flush_ms = 20;
    opts.client.connect_timeout = std::chrono::seconds{5};
    auto col = sys.spawn(actors::binance_collector, opts, caf::actor{probe},
      caf::actor{probe}, caf::actor{probe});
    std::multiset<std::int64_t> ids;
    std::map<std::string, int> outcomes;
    std::map<std::string, double> errors;
    int healthy = 0;
    int unhealthy = 0;
    double reconnections = 0;
    auto done = [&] {
      return ids.size() >= 6 && errors["malformed_json"] >= 1
        && errors["duplicate_trade"] >= 1 && reconnections >= 1
        && outcomes["success"] >= 2 && outcomes["failure"] >= 1;
    };
    bool timed_out = false;
    for (int i = 0; i < 1000 && !done() && !timed_out; ++i) {
      probe->receive(
        [&](const messages::trade_batch& b) {
          CAF_CHECK_EQUAL(b.exchange, "binance");
          CAF_CHECK_EQUAL(b.symbol, "BTCUSDT");
          CAF_CHECK_LESS_OR_EQUAL(b.trades.size(), 2u);
          for (auto& t : b.trades) {
            ids.insert(t.id);
            CAF_CHECK_GREATER(t.receive_time_ns, 0);
          }
        },
        [&](const messages::collector_event& e) {
          CAF_CHECK_EQUAL(e.collector, "binance-test");
          ++outcomes[std::string{to_string(e.outcome)}];
        },
        [&](const messages::feed_status& f) {
          CAF_CHECK(f.symbols == std::vector<std::string>{"BTCUSDT"});
          ++(f.healthy ? healthy : unhealthy);
        },
        [&](const messages::metric_update& up) {
          for (auto& e : up.entries) {
            if (e.name == "collector_errors_total")
              for (auto& l : e.labels)
                if (l.first == "error_type")
                  errors[l.second] += e.value;
            if (e.name == "websocket_reconnections_total")
              reconnections += e.value;
          }
        },
        caf::after(std::chrono::seconds{10}) >> [&] { timed_out = true; });
    }
    CAF_CHECK(!timed_out);
    // Every id exactly once: 1-3 live, 4-5 backfilled, 6 live.
    CAF_CHECK(ids == (std::multiset<std::int64_t>{1, 2, 3, 4, 5, 6}));
    CAF_CHECK_GREATER_OR_EQUAL(errors["malformed_json"], 1.0);
    CAF_CHECK_GREATER_OR_EQUAL(errors["duplicate_trade"], 1.0);
    CAF_CHECK_GREATER_OR_EQUAL(outcomes["success"], 2);
    CAF_CHECK_GREATER_OR_EQUAL(outcomes["failure"], 1);
    CAF_CHECK_GREATER_OR_EQUAL(healthy, 2);
    CAF_CHECK_GREATER_OR_EQUAL(unhealthy, 1);
    caf::anon_send_exit(col, caf::exit_reason::user_shutdown);
  }
  ex.stop();
  CAF_REQUIRE_EQUAL(ex.ws_targets.size(), 2u);
  CAF_CHECK_EQUAL(ex.ws_targets[0], "/stream?streams=btcusdt@trade");
  CAF_REQUIRE_GREATER_OR_EQUAL(ex.rest_targets.size(), 1u);
  CAF_CHECK_EQUAL(ex.rest_targets[0],
    "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=4&limit=2");
}

CAF_TEST(stock poller survives bad json and emits closed candles once) {
  asio::io_context ioc;
  tcp::acceptor acc{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
  // Candles at the start of the current minute minus 3 and 2 minutes
  // (closed) and the current minute (forming).
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
    std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto m0 = now_s - now_s % 60;
  std::string chart = R"({"chart":{"result":[{"timestamp":[)"
    + std::to_string(m0 - 180) + "," + std::to_string(m0 - 120) + ","
    + std::to_string(m0)
    + R"(],"indicators":{"quote":[{"open":[1,2,3],"high":[1,2,3],)"
      R"("low":[1,2,3],"close":[1,2,3],"volume":[10,20,30]}]}}],"error":null}})";
  std::atomic<bool> stopping{false};
  std::thread server{[&] {
    // Replies: bad JSON, 503, then the chart twice.
    for (int i = 0; i < 4; ++i) {
      tcp::socket sock{ioc};
      beast::error_code ec;
      acc.accept(sock, ec);
      if (ec || stopping)
        return;
      beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::read(sock, buf, req, ec);
      http::response<http::string_body> res{
        i == 1 ? http::status::service_unavailable : http::status::ok, 11};
      res.body() = i == 0 ? std::string{"{not json"} : chart;
      res.prepare_payload();
      http::write(sock, res, ec);
    }
  }};
  {
    config cfg;
    caf::actor_system sys{cfg};
    caf::scoped_actor probe{sys};
    actors::stock_poller_options opts;
    opts.base_url
      = "http://127.0.0.1:" + std::to_string(acc.local_endpoint().port());
    opts.symbols = {"AAPL"};
    opts.poll_interval_ms = 20;
    opts.respect_market_hours = false;
    opts.backoff_base_ms = 10;
    opts.backoff_max_ms = 20;
    opts.metrics_flush_ms = 20;
    auto poller = sys.spawn(actors::stock_poller, opts, caf::actor{probe},
      caf::actor{probe}, caf::actor{probe});
    std::vector<std::int64_t> opens;
    std::map<std::string, double> errors;
    int successes = 0;
    int failures = 0;
    bool timed_out = false;
    for (int i = 0; i < 1000 && !timed_out && successes < 2; ++i)
      probe->receive(
        [&](const messages::candle_batch& b) {
          CAF_CHECK_EQUAL(b.symbol, "AAPL");
          for (auto& c : b.candles) {
            CAF_CHECK(c.closed);
            opens.push_back(c.open_time_ms);
          }
        },
        [&](const messages::collector_event& e) {
          ++(e.outcome == messages::collector_outcome::success ? successes
                                                               : failures);
        },
        [&](const messages::metric_update& up) {
          for (auto& e : up.entries)
            if (e.name == "collector_errors_total")
              for (auto& l : e.labels)
                if (l.first == "error_type")
                  errors[l.second] += e.value;
        },
        [&](const messages::feed_status&) {},
        caf::after(std::chrono::seconds{10}) >> [&] { timed_out = true; });
    CAF_CHECK(!timed_out);
    CAF_CHECK_EQUAL(failures, 2); // bad JSON, then 503
    // Two closed candles, sent once although the chart was served twice
    // (unless the minute rolled over in between, which adds the third).
    CAF_REQUIRE_GREATER_OR_EQUAL(opens.size(), 2u);
    CAF_CHECK_EQUAL(opens[0], (m0 - 180) * 1000);
    CAF_CHECK_EQUAL(opens[1], (m0 - 120) * 1000);
    CAF_CHECK(std::set<std::int64_t>(opens.begin(), opens.end()).size()
      == opens.size());
    caf::anon_send_exit(poller, caf::exit_reason::user_shutdown);
  }
  stopping = true;
  wake(acc);
  server.join();
}
