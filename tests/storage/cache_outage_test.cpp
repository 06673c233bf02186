#define CAF_SUITE cache_outage
#define FAIL(msg) CAF_FAIL(msg)
#include "caf/test/dsl.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "actors/cache_writer.hpp"
#include "messages/type_ids.hpp"
#include "storage/cache_layout.hpp"
#include "tests/storage/redis_test_support.hpp"

using namespace csp;
using namespace csp::messages;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t t0 = 1705312800000; // 2024-01-15T10:00:00Z
constexpr std::int64_t minute = 60000;

struct outage_config : caf::actor_system_config {
  outage_config() { register_types(*this); }
};

caf::behavior metrics_recorder(
  caf::event_based_actor*, std::shared_ptr<std::vector<metric_entry>> out) {
  return {
    [=](const metric_update& x) {
      out->insert(out->end(), x.entries.begin(), x.entries.end());
    },
  };
}

bar make_bar(std::int64_t i, bool closed = true) {
  bar b;
  b.exchange = "binance";
  b.symbol = "BTCUSDT";
  b.open_time_ms = t0 + i * minute;
  b.close_time_ms = close_time(b.open_time_ms, timeframe::m1);
  b.open.units = b.high.units = b.low.units = b.close.units = 1000 + i;
  b.volume.units = 100000000;
  b.trade_count = 1;
  b.first_trade_id = b.last_trade_id = i;
  b.closed = closed;
  return b;
}

/// A writer against a private redis-server that the test stops and
/// restarts. Bars per key are bounded at 15 to check the memory bound.
struct fixture : test_coordinator_fixture<outage_config> {
  /// Small memory limit: the eviction test fills it.
  test::redis_child server{test::free_port(),
    {"--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru"}};
  storage::cache_keys keys{"outage:"};
  std::shared_ptr<std::vector<metric_entry>> metrics
    = std::make_shared<std::vector<metric_entry>>();
  std::shared_ptr<std::int64_t> clock = std::make_shared<std::int64_t>(t0);
  caf::actor recorder;
  caf::actor writer;

  fixture() {
    if (!server.start())
      CAF_FAIL("cannot start redis-server on port " << server.port());
    recorder = sys.spawn(metrics_recorder, metrics);
    actors::cache_writer_options opts;
    opts.redis = test::loopback_options(server.port());
    opts.store.prefix = "outage:";
    opts.store.bars_per_key = 15;
    opts.retry_initial_ms = 100;
    opts.retry_max_ms = 400;
    opts.metrics_flush_ms = 1000;
    opts.info_interval_ms = 60000;
    opts.metrics = recorder;
    auto c = clock;
    opts.now_ms = [c] { return *c; };
    opts.detached = false;
    writer = actors::spawn_cache_writer(sys, std::move(opts));
    sched.run();
  }

  ~fixture() {
    anon_send_exit(writer, caf::exit_reason::user_shutdown);
    anon_send_exit(recorder, caf::exit_reason::user_shutdown);
    sched.run();
  }

  template <class T>
  void send(T x) {
    self->send(writer, std::move(x));
    sched.run();
  }

  double operations(const std::string& op) {
    double sum = 0;
    for (auto& e : *metrics)
      if (e.name == "cache_operations_total" && e.labels[0].second == op)
        sum += e.value;
    return sum;
  }

  storage::redis_client connect() {
    storage::redis_client c{test::loopback_options(server.port())};
    if (!c.connect())
      CAF_FAIL("cannot reach the private server: " << c.last_error());
    return c;
  }

  std::vector<std::int64_t> cached_opens(storage::redis_client& c) {
    auto r = c.command(
      {"ZRANGE", keys.bars("binance", "BTCUSDT", timeframe::m1), "0", "-1"});
    std::vector<std::int64_t> out;
    CAF_REQUIRE(r && r->is_array());
    for (const auto& m : r->elements) {
      bar b;
      CAF_REQUIRE(storage::decode_bar(m.str, b));
      out.push_back((b.open_time_ms - t0) / minute);
    }
    return out;
  }
};

std::vector<std::int64_t> iota(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (auto i = from; i < to; ++i)
    out.push_back(i);
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(cache_outage_tests, fixture)

CAF_TEST(the writer survives an outage and refills the cache) {
  // Before the outage: bars 0..9, indicators and health are written.
  for (std::int64_t i = 0; i < 10; ++i)
    send(std::vector<bar>{make_bar(i)});
  indicator_snapshot x;
  x.exchange = "binance";
  x.symbol = "BTCUSDT";
  x.open_time_ms = t0 + 9 * minute;
  x.closed = true;
  x.values.fill(std::nan(""));
  send(std::vector<indicator_snapshot>{x});
  send(health_status{"collector.binance-0", "healthy", "", t0});
  {
    auto c = connect();
    CAF_CHECK_EQUAL(cached_opens(c), iota(0, 10));
  }
  // Outage: the server dies (and loses everything: no persistence).
  server.stop();
  auto t_start = std::chrono::steady_clock::now();
  for (std::int64_t i = 10; i < 25; ++i)
    send(std::vector<bar>{make_bar(i)});
  send(std::vector<bar>{make_bar(25, false)});
  x.open_time_ms = t0 + 24 * minute;
  x.values[0] = 1.5;
  send(std::vector<indicator_snapshot>{x});
  send(health_status{"collector.binance-0", "degraded", "reconnecting", t0});
  send(trade_batch{"binance", "BTCUSDT", {trade{}}});
  // Every message was handled at once, none waited for Redis.
  CAF_CHECK(std::chrono::steady_clock::now() - t_start < 2s);
  CAF_CHECK(!sched.has_job());
  // Reconnect attempts fail while the server is down and are counted.
  sched.advance_time(100ms); // first retry
  sched.run();
  sched.advance_time(200ms); // second retry (backoff doubled)
  sched.run();
  sched.advance_time(1s);
  sched.run();
  auto errors = operations("error");
  CAF_CHECK_GREATER_OR_EQUAL(errors, 3.0);
  CAF_CHECK_GREATER_OR_EQUAL(operations("deferred"), 17.0);
  CAF_CHECK_EQUAL(operations("dropped"), 1.0);
  CAF_CHECK_EQUAL(operations("refill"), 1.0); // the initial connect
  // The server returns, empty; the next retry refills it from memory.
  CAF_REQUIRE(server.start());
  sched.advance_time(400ms);
  sched.run();
  sched.advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(operations("refill"), 2.0);
  auto c = connect();
  // The newest 15 closed bars (the per-key bound), complete again.
  CAF_CHECK_EQUAL(cached_opens(c), iota(10, 25));
  auto forming
    = c.command({"GET", keys.forming("binance", "BTCUSDT", timeframe::m1)});
  CAF_REQUIRE(forming && forming->is_string());
  bar fb;
  CAF_REQUIRE(storage::decode_bar(forming->str, fb));
  CAF_CHECK_EQUAL(fb, make_bar(25, false));
  auto ind
    = c.command({"GET", keys.indicators("binance", "BTCUSDT", timeframe::m1)});
  CAF_REQUIRE(ind && ind->is_string());
  indicator_snapshot back;
  CAF_REQUIRE(storage::decode_indicators(ind->str, back));
  CAF_CHECK(back == x);
  auto h = c.command({"HGET", keys.health(), "collector.binance-0"});
  CAF_REQUIRE(h && h->is_string());
  health_status hb;
  CAF_REQUIRE(storage::decode_health(h->str, hb));
  CAF_CHECK_EQUAL(hb.status, "degraded");
  // Writing goes on normally after the refill.
  auto before = operations("error");
  send(std::vector<bar>{make_bar(25)});
  sched.advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(cached_opens(c), iota(11, 26));
  CAF_CHECK_EQUAL(operations("error"), before);
}

CAF_TEST(indicators past their lifetime are not refilled) {
  indicator_snapshot x;
  x.exchange = "binance";
  x.symbol = "ETHUSDT";
  x.closed = true;
  x.values.fill(1.0);
  send(std::vector<indicator_snapshot>{x});
  server.stop();
  send(std::vector<bar>{make_bar(0)});
  // Six minutes pass on the wall clock before Redis is back.
  *clock += 6 * minute;
  CAF_REQUIRE(server.start());
  sched.advance_time(1s);
  sched.run();
  auto c = connect();
  auto ind
    = c.command({"GET", keys.indicators("binance", "ETHUSDT", timeframe::m1)});
  CAF_REQUIRE(ind);
  CAF_CHECK(ind->is_nil());
  CAF_CHECK_EQUAL(cached_opens(c), iota(0, 1));
}

CAF_TEST(an outage while idle is found by the INFO poll) {
  for (std::int64_t i = 0; i < 5; ++i)
    send(std::vector<bar>{make_bar(i)});
  // The server restarts empty while no message arrives.
  server.stop();
  CAF_REQUIRE(server.start());
  {
    auto c = connect();
    CAF_CHECK(cached_opens(c).empty());
  }
  // The INFO poll fails on the dead connection; the retry refills.
  sched.advance_time(60s);
  sched.run();
  sched.advance_time(1s);
  sched.run();
  auto c = connect();
  CAF_CHECK_EQUAL(cached_opens(c), iota(0, 5));
  CAF_CHECK_EQUAL(operations("refill"), 2.0);
}

CAF_TEST(evictions and memory come from Redis INFO) {
  // 40 symbols x 15 bars with 20 kB symbol names (12 MB): far above the
  // server's 4 MB limit.
  std::string pad(20000, 'x');
  for (int s = 0; s < 40; ++s) {
    std::vector<bar> bars;
    for (std::int64_t i = 0; i < 15; ++i) {
      auto b = make_bar(i);
      b.symbol = pad + std::to_string(s);
      bars.push_back(b);
    }
    send(bars);
  }
  sched.advance_time(60s);
  sched.run();
  sched.advance_time(1s);
  sched.run();
  double evictions = 0;
  double memory = 0;
  for (auto& e : *metrics) {
    if (e.name == "cache_evictions_total")
      evictions += e.value;
    if (e.name == "cache_memory_bytes")
      memory = e.value;
  }
  CAF_CHECK_GREATER(evictions, 0.0);
  CAF_CHECK_GREATER(memory, 1000000.0);
  CAF_CHECK_LESS(memory, 8000000.0);
  // Evictions are not writer errors.
  CAF_CHECK_EQUAL(operations("error"), 0.0);
}

CAF_TEST_FIXTURE_SCOPE_END()
