#define CAF_SUITE cache_writer
#define FAIL(msg) CAF_FAIL(msg)
#include "caf/test/dsl.hpp"

#include "caf/scoped_actor.hpp"

#include <chrono>
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

struct writer_config : caf::actor_system_config {
  writer_config() { register_types(*this); }
};

caf::behavior metrics_recorder(
  caf::event_based_actor*, std::shared_ptr<std::vector<metric_entry>> out) {
  return {
    [=](const metric_update& x) {
      out->insert(out->end(), x.entries.begin(), x.entries.end());
    },
  };
}

bar make_bar(std::int64_t open_ms, std::int64_t close_units, bool closed,
  std::string symbol = "BTCUSDT") {
  bar b;
  b.exchange = "binance";
  b.symbol = std::move(symbol);
  b.open_time_ms = open_ms;
  b.close_time_ms = close_time(open_ms, timeframe::m1);
  b.open.units = b.high.units = b.low.units = b.close.units = close_units;
  b.volume.units = 100000000;
  b.trade_count = 1;
  b.first_trade_id = b.last_trade_id = open_ms / minute;
  b.closed = closed;
  return b;
}

struct fixture : test_coordinator_fixture<writer_config> {
  std::string prefix = test::unique_prefix("writer");
  storage::cache_keys keys{prefix};
  storage::redis_client client{test::redis_test_options()};
  std::shared_ptr<std::vector<metric_entry>> metrics
    = std::make_shared<std::vector<metric_entry>>();
  std::shared_ptr<std::int64_t> clock = std::make_shared<std::int64_t>(t0);
  caf::actor recorder;
  caf::actor writer;

  fixture() {
    if (!client.connect())
      CAF_FAIL("test Redis unreachable: " << client.last_error());
    recorder = sys.spawn(metrics_recorder, metrics);
    actors::cache_writer_options opts;
    opts.redis = test::redis_test_options();
    opts.store.prefix = prefix;
    opts.metrics = recorder;
    opts.metrics_flush_ms = 1000;
    opts.info_interval_ms = 10000;
    auto c = clock;
    opts.now_ms = [c] { return *c; };
    opts.detached = false;
    writer = actors::spawn_cache_writer(sys, std::move(opts));
    // sched.run(), not run(): the writer's timers re-arm forever.
    sched.run();
  }

  ~fixture() {
    anon_send_exit(writer, caf::exit_reason::user_shutdown);
    anon_send_exit(recorder, caf::exit_reason::user_shutdown);
    sched.run();
    test::delete_prefix(client, prefix);
  }

  template <class T>
  void send(T x) {
    self->send(writer, std::move(x));
    sched.run();
  }

  /// Fires the metrics flush (and anything due before it).
  void flush() {
    sched.advance_time(1s);
    sched.run();
  }

  double metric(const std::string& name, const std::string& op = "") {
    double sum = 0;
    for (auto& e : *metrics)
      if (e.name == name
        && (op.empty() || (!e.labels.empty() && e.labels[0].second == op)))
        sum += e.value;
    return sum;
  }

  std::vector<bar> cached(const std::string& symbol) {
    auto r = client.command(
      {"ZRANGE", keys.bars("binance", symbol, timeframe::m1), "0", "-1"});
    std::vector<bar> out;
    CAF_REQUIRE(r && r->is_array());
    for (const auto& m : r->elements) {
      bar b;
      CAF_REQUIRE(storage::decode_bar(m.str, b));
      out.push_back(b);
    }
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cache_writer_tests, fixture)

CAF_TEST(closed and forming bars land in their keys and on chart_updates) {
  auto sub_opts = test::redis_test_options();
  sub_opts.command_timeout = 5s;
  storage::redis_client sub{sub_opts};
  CAF_REQUIRE(sub.connect());
  CAF_REQUIRE(sub.command({"SUBSCRIBE", keys.chart_updates()}));
  send(std::vector<bar>{make_bar(t0, 100, true),
    make_bar(t0 + minute, 200, true), make_bar(t0 + 2 * minute, 300, false)});
  auto got = cached("BTCUSDT");
  CAF_REQUIRE_EQUAL(got.size(), 2u);
  CAF_CHECK_EQUAL(got[0], make_bar(t0, 100, true));
  CAF_CHECK_EQUAL(got[1], make_bar(t0 + minute, 200, true));
  auto forming = client.command(
    {"GET", keys.forming("binance", "BTCUSDT", timeframe::m1)});
  CAF_REQUIRE(forming && forming->is_string());
  bar fb;
  CAF_REQUIRE(storage::decode_bar(forming->str, fb));
  CAF_CHECK_EQUAL(fb, make_bar(t0 + 2 * minute, 300, false));
  for (std::int64_t close : {100, 200, 300}) {
    auto m = sub.read_reply();
    CAF_REQUIRE(m && m->elements.size() == 3);
    bar b;
    CAF_REQUIRE(storage::decode_bar(m->elements[2].str, b));
    CAF_CHECK_EQUAL(b.close.units, close);
  }
  // The forming bar closes: its key is deleted with the write.
  auto fkey = keys.forming("binance", "BTCUSDT", timeframe::m1);
  send(std::vector<bar>{make_bar(t0 + 2 * minute, 310, true)});
  auto gone = client.command({"EXISTS", fkey});
  CAF_REQUIRE(gone);
  CAF_CHECK_EQUAL(gone->integer, 0);
  // A forming bar older than the newest closed bar is not stored.
  send(std::vector<bar>{make_bar(t0 + minute, 999, false)});
  gone = client.command({"EXISTS", fkey});
  CAF_REQUIRE(gone);
  CAF_CHECK_EQUAL(gone->integer, 0);
  for (int i = 0; i < 2; ++i) {
    auto m = sub.read_reply();
    CAF_REQUIRE(m && m->elements.size() == 3);
  }
  // A revision replaces its bar.
  auto revised = make_bar(t0 + minute, 250, true);
  revised.revision = 1;
  send(std::vector<bar>{revised});
  got = cached("BTCUSDT");
  CAF_REQUIRE_EQUAL(got.size(), 3u);
  CAF_CHECK_EQUAL(got[1], revised);
  flush();
  CAF_CHECK_EQUAL(metric("cache_operations_total", "write_bar"), 4.0);
  CAF_CHECK_EQUAL(metric("cache_operations_total", "write_forming_bar"), 1.0);
  CAF_CHECK_EQUAL(
    metric("cache_operations_total", "publish_chart_update"), 6.0);
  CAF_CHECK_EQUAL(metric("cache_operations_total", "error"), 0.0);
  // The label set is the catalogue's: only `operation`.
  for (auto& e : *metrics) {
    if (e.name == "cache_operations_total") {
      CAF_REQUIRE_EQUAL(e.labels.size(), 1u);
      CAF_CHECK_EQUAL(e.labels[0].first, "operation");
    }
  }
}

CAF_TEST(indicators health and trades are written) {
  auto sub_opts = test::redis_test_options();
  sub_opts.command_timeout = 5s;
  storage::redis_client sub{sub_opts};
  CAF_REQUIRE(sub.connect());
  CAF_REQUIRE(sub.command({"SUBSCRIBE", keys.trades("binance")}));
  indicator_snapshot x;
  x.exchange = "binance";
  x.symbol = "BTCUSDT";
  x.open_time_ms = t0;
  x.closed = true;
  x.values.fill(std::nan(""));
  x.values[0] = 42.5;
  send(std::vector<indicator_snapshot>{x});
  auto ikey = keys.indicators("binance", "BTCUSDT", timeframe::m1);
  auto stored = client.command({"GET", ikey});
  CAF_REQUIRE(stored && stored->is_string());
  indicator_snapshot back;
  CAF_REQUIRE(storage::decode_indicators(stored->str, back));
  CAF_CHECK(back == x);
  auto ttl = client.command({"PTTL", ikey});
  CAF_REQUIRE(ttl);
  CAF_CHECK_GREATER(ttl->integer, 0);
  CAF_CHECK_LESS_OR_EQUAL(ttl->integer, 300000);
  send(health_status{"pg_writer.1", "unhealthy", "connection refused", t0});
  auto h = client.command({"HGET", keys.health(), "pg_writer.1"});
  CAF_REQUIRE(h && h->is_string());
  health_status hb;
  CAF_REQUIRE(storage::decode_health(h->str, hb));
  CAF_CHECK_EQUAL(hb.status, "unhealthy");
  trade_batch tb{"binance", "BTCUSDT", {}};
  for (int i = 0; i < 100; ++i) {
    trade t;
    t.id = i;
    t.price.units = 100 + i;
    t.quantity.units = 1;
    tb.trades.push_back(t);
  }
  send(tb);
  auto m = sub.read_reply();
  CAF_REQUIRE(m && m->elements.size() == 3);
  trade_batch got;
  CAF_REQUIRE(storage::decode_trades(m->elements[2].str, got));
  CAF_CHECK_EQUAL(got, tb);
  // A quality report is accepted and ignored (no unexpected-message error).
  send(quality_report{});
  flush();
  CAF_CHECK_EQUAL(metric("cache_operations_total", "write_indicators"), 1.0);
  CAF_CHECK_EQUAL(metric("cache_operations_total", "write_health"), 1.0);
  CAF_CHECK_EQUAL(metric("cache_operations_total", "publish_trades"), 1.0);
  CAF_CHECK_EQUAL(metric("cache_operations_total", "error"), 0.0);
}

CAF_TEST(Redis INFO feeds the memory gauge) {
  sched.advance_time(10s);
  sched.run();
  flush();
  CAF_CHECK_GREATER(metric("cache_memory_bytes"), 100000.0);
  CAF_CHECK_EQUAL(metric("cache_evictions_total"), 0.0);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(the detached writer serves requests on its own thread) {
  // A real scheduler: the writer is spawned as in production.
  writer_config cfg;
  caf::actor_system system{cfg};
  auto prefix = test::unique_prefix("detached");
  storage::cache_keys keys{prefix};
  actors::cache_writer_options opts;
  opts.redis = test::redis_test_options();
  opts.store.prefix = prefix;
  auto writer = actors::spawn_cache_writer(system, std::move(opts));
  caf::scoped_actor self{system};
  // A request completes when the handler has run (void handlers answer
  // with an empty message), so no waiting on the clock is needed.
  bool done = false;
  self
    ->request(writer, 5s,
      std::vector<bar>{make_bar(t0, 1, true), make_bar(t0 + minute, 2, true)})
    .receive([&] { done = true; },
      [&](const caf::error& err) {
        CAF_FAIL("request failed: " << system.render(err));
      });
  CAF_CHECK(done);
  storage::redis_client client{test::redis_test_options()};
  CAF_REQUIRE(client.connect());
  auto card
    = client.command({"ZCARD", keys.bars("binance", "BTCUSDT", timeframe::m1)});
  CAF_REQUIRE(card);
  CAF_CHECK_EQUAL(card->integer, 2);
  self->send_exit(writer, caf::exit_reason::user_shutdown);
  test::delete_prefix(client, prefix);
}

CAF_TEST(INFO fields are parsed) {
  auto info = storage::parse_redis_info(
    "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n"
    "# Stats\r\nevicted_keys:17\r\n");
  CAF_REQUIRE(info);
  CAF_CHECK_EQUAL(info->used_memory, 1048576u);
  CAF_CHECK_EQUAL(info->evicted_keys, 17u);
  CAF_CHECK(!storage::parse_redis_info("used_memory:1\r\n"));
}
