#define CAF_SUITE cache_layout
#define FAIL(msg) CAF_FAIL(msg)
#include "caf/test/dsl.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "storage/cache_layout.hpp"
#include "storage/redis_client.hpp"
#include "tests/storage/redis_test_support.hpp"

using namespace csp;
using namespace csp::messages;
using namespace csp::storage;

namespace {

constexpr std::int64_t t0 = 1705312800000; // 2024-01-15T10:00:00Z

bar make_bar(std::int64_t open_ms, std::int64_t close_units,
  std::int32_t revision = 0, bool closed = true) {
  bar b;
  b.exchange = "binance";
  b.symbol = "BTCUSDT";
  b.tf = timeframe::m1;
  b.open_time_ms = open_ms;
  b.close_time_ms = close_time(open_ms, timeframe::m1);
  b.open.units = 4200000000000;
  b.high.units = 4210050000000;
  b.low.units = 4199900000001;
  b.close.units = close_units;
  b.volume.units = 12345678901;
  b.quote_volume.units = (static_cast<int128>(1) << 80) + 7;
  b.taker_buy_volume.units = 1;
  b.taker_buy_quote_volume.units = 0;
  b.trade_count = 42;
  b.first_trade_id = 1000;
  b.last_trade_id = 1041;
  b.revision = revision;
  b.closed = closed;
  return b;
}

indicator_snapshot make_snapshot() {
  indicator_snapshot x;
  x.exchange = "binance";
  x.symbol = "ETHUSDT";
  x.tf = timeframe::h1;
  x.open_time_ms = t0;
  x.closed = true;
  for (std::size_t i = 0; i < indicator_count; ++i)
    x.values[i] = 1000.0 / 3.0 * static_cast<double>(i + 1);
  x.values[static_cast<std::size_t>(indicator::sma_200)] = std::nan("");
  x.values[static_cast<std::size_t>(indicator::adx_14)] = std::nan("");
  x.values[static_cast<std::size_t>(indicator::macd_hist)] = -0.1;
  return x;
}

struct redis_fixture {
  std::string prefix = test::unique_prefix("layout");
  cache_keys keys{prefix};
  redis_client client{test::redis_test_options()};

  redis_fixture() {
    if (!client.connect())
      CAF_FAIL("test Redis unreachable: " << client.last_error());
  }

  ~redis_fixture() { test::delete_prefix(client, prefix); }

  std::vector<bar> cached_bars(const std::string& key) {
    auto r = client.command({"ZRANGE", key, "0", "-1"});
    std::vector<bar> out;
    if (!r || !r->is_array())
      return out;
    for (const auto& m : r->elements) {
      bar b;
      if (!decode_bar(m.str, b))
        CAF_FAIL("undecodable member " << m.str);
      out.push_back(b);
    }
    return out;
  }

  void run(redis_pipeline& p) {
    auto replies = client.execute(p);
    CAF_REQUIRE(replies);
    for (const auto& r : *replies)
      CAF_REQUIRE(!r.contains_error());
    p.clear();
  }
};

} // namespace

CAF_TEST(keys carry the prefix and the instrument) {
  cache_keys k{"t1:"};
  CAF_CHECK_EQUAL(
    k.bars("binance", "BTCUSDT", timeframe::m5), "t1:bars:binance:BTCUSDT:5m");
  CAF_CHECK_EQUAL(k.forming("binance", "BTCUSDT", timeframe::h4),
    "t1:bar:forming:binance:BTCUSDT:4h");
  CAF_CHECK_EQUAL(k.indicators("yahoo", "AAPL", timeframe::d1),
    "t1:indicators:yahoo:AAPL:1d");
  CAF_CHECK_EQUAL(k.health(), "t1:system:health");
  CAF_CHECK_EQUAL(k.chart_updates(), "t1:chart_updates");
  CAF_CHECK_EQUAL(k.trades("binance"), "t1:trades:binance");
  CAF_CHECK_EQUAL(cache_keys{}.health(), "system:health");
}

CAF_TEST(bars round trip with decimal strings) {
  auto b = make_bar(t0, 4200012345678, 2);
  auto json = encode_bar(b);
  CAF_CHECK(json.find("\"close\":\"42000.12345678\"") != std::string::npos);
  CAF_CHECK(json.find("\"low\":\"41999.00000001\"") != std::string::npos);
  CAF_CHECK(json.find("\"volume\":\"123.45678901\"") != std::string::npos);
  CAF_CHECK(json.find("\"taker_buy_quote_volume\":\"0\"") != std::string::npos);
  CAF_CHECK(json.find("\"timeframe\":\"1m\"") != std::string::npos);
  CAF_CHECK(json.find("\"open_time\":1705312800000") != std::string::npos);
  bar back;
  CAF_REQUIRE(decode_bar(json, back));
  CAF_CHECK_EQUAL(back, b);
  // A negative wide value and a forming bar survive too.
  b.taker_buy_volume.units = -5;
  b.closed = false;
  CAF_REQUIRE(decode_bar(encode_bar(b), back));
  CAF_CHECK_EQUAL(back, b);
  // Escaped strings.
  b.symbol = "odd\"sym\\\n";
  CAF_REQUIRE(decode_bar(encode_bar(b), back));
  CAF_CHECK_EQUAL(back.symbol, b.symbol);
}

CAF_TEST(broken bar documents are rejected) {
  auto json = encode_bar(make_bar(t0, 1));
  bar out;
  CAF_CHECK(!decode_bar("", out));
  CAF_CHECK(!decode_bar("{}", out));
  CAF_CHECK(!decode_bar(json.substr(0, json.size() - 1), out));
  CAF_CHECK(!decode_bar(json + "x", out));
  auto missing = json;
  missing.replace(missing.find("\"revision\""), 10, "\"revisionX\"");
  CAF_CHECK(!decode_bar(missing, out));
  auto bad_price = json;
  bad_price.replace(bad_price.find("\"42000\""), 7, "\"4e4\"");
  CAF_CHECK(!decode_bar(bad_price, out));
  auto bad_tf = json;
  bad_tf.replace(bad_tf.find("\"1m\""), 4, "\"2m\"");
  CAF_CHECK(!decode_bar(bad_tf, out));
  // Unknown members are skipped.
  auto extra = "{\"x\":[1,{\"y\":null}]," + json.substr(1);
  CAF_CHECK(decode_bar(extra, out));
}

CAF_TEST(indicators round trip with nulls) {
  auto x = make_snapshot();
  auto json = encode_indicators(x);
  CAF_CHECK(json.find("\"sma_200\":null") != std::string::npos);
  CAF_CHECK(json.find("\"adx_14\":null") != std::string::npos);
  CAF_CHECK(json.find("\"macd_hist\":-0.1") != std::string::npos);
  indicator_snapshot back;
  CAF_REQUIRE(decode_indicators(json, back));
  CAF_CHECK(back == x);
  CAF_CHECK(std::isnan(back.get(indicator::sma_200)));
  auto broken = json;
  broken.replace(broken.find("\"vwap\""), 6, "\"vwaq\"");
  CAF_CHECK(!decode_indicators(broken, back));
}

CAF_TEST(health and trade batches round trip) {
  health_status h{"collector.binance-0", "degraded", "circuit \"open\"", t0};
  health_status hb;
  CAF_REQUIRE(decode_health(encode_health(h), hb));
  CAF_CHECK_EQUAL(hb, h);
  trade_batch tb;
  tb.exchange = "binance";
  tb.symbol = "BTCUSDT";
  for (std::int64_t i = 0; i < 3; ++i) {
    trade t;
    t.id = 100 + i;
    t.price.units = 4200000000000 + i;
    t.quantity.units = 1000 * (i + 1);
    t.trade_time_ms = t0 + i;
    t.event_time_ms = t0 + i + 1;
    t.buyer_is_maker = i % 2 == 0;
    t.receive_time_ns = (t0 + i) * 1000000 + 5;
    tb.trades.push_back(t);
  }
  trade_batch back;
  CAF_REQUIRE(decode_trades(encode_trades(tb), back));
  CAF_CHECK_EQUAL(back, tb);
  tb.trades.clear();
  CAF_REQUIRE(decode_trades(encode_trades(tb), back));
  CAF_CHECK(back.trades.empty());
}

CAF_TEST_FIXTURE_SCOPE(cache_layout_redis, redis_fixture)

CAF_TEST(a revision replaces the member of its open time) {
  redis_pipeline p;
  auto key = keys.bars("binance", "BTCUSDT", timeframe::m1);
  std::vector<bar> first{make_bar(t0, 100), make_bar(t0 + 60000, 200)};
  CAF_CHECK_EQUAL(add_closed_bars(p, keys, first), 2u);
  run(p);
  std::vector<bar> revision{make_bar(t0, 150, 1)};
  // A forming bar is not part of the set.
  revision.push_back(make_bar(t0 + 120000, 300, 0, false));
  CAF_CHECK_EQUAL(add_closed_bars(p, keys, revision), 1u);
  run(p);
  auto got = cached_bars(key);
  CAF_REQUIRE_EQUAL(got.size(), 2u);
  CAF_CHECK_EQUAL(got[0], make_bar(t0, 150, 1));
  CAF_CHECK_EQUAL(got[1], make_bar(t0 + 60000, 200));
  auto score = client.command({"ZSCORE", key, encode_bar(got[0])});
  CAF_REQUIRE(score);
  CAF_CHECK_EQUAL(score->str, std::to_string(t0));
}

CAF_TEST(the bar set is trimmed to the newest 1000) {
  redis_pipeline p;
  auto key = keys.bars("binance", "BTCUSDT", timeframe::m1);
  std::vector<bar> bars;
  for (std::int64_t i = 0; i < 1200; ++i)
    bars.push_back(make_bar(t0 + i * 60000, 100 + i));
  // Out of order and in two messages.
  std::vector<bar> late(bars.begin(), bars.begin() + 600);
  std::vector<bar> early(bars.begin() + 600, bars.end());
  add_closed_bars(p, keys, early);
  run(p);
  add_closed_bars(p, keys, late);
  run(p);
  auto card = client.command({"ZCARD", key});
  CAF_REQUIRE(card);
  CAF_CHECK_EQUAL(card->integer, 1000);
  auto got = cached_bars(key);
  CAF_REQUIRE_EQUAL(got.size(), 1000u);
  CAF_CHECK_EQUAL(got.front(), bars[200]);
  CAF_CHECK_EQUAL(got.back(), bars[1199]);
}

CAF_TEST(indicators and forming bars expire) {
  redis_pipeline p;
  auto x = make_snapshot();
  add_indicators(p, keys, x);
  auto forming = make_bar(t0, 1, 0, false);
  add_forming_bar(p, keys, forming);
  add_health(p, keys, health_status{"api", "healthy", "", t0});
  run(p);
  auto ikey = keys.indicators("binance", "ETHUSDT", timeframe::h1);
  auto ttl = client.command({"PTTL", ikey});
  CAF_REQUIRE(ttl);
  CAF_CHECK_GREATER(ttl->integer, 290000);
  CAF_CHECK_LESS_OR_EQUAL(ttl->integer, 300000);
  auto stored = client.command({"GET", ikey});
  indicator_snapshot back;
  CAF_REQUIRE(decode_indicators(stored->str, back));
  CAF_CHECK(back == x);
  auto fkey = keys.forming("binance", "BTCUSDT", timeframe::m1);
  auto fttl = client.command({"PTTL", fkey});
  CAF_CHECK_GREATER(fttl->integer, 110000);
  CAF_CHECK_LESS_OR_EQUAL(fttl->integer, 120000);
  auto h = client.command({"HGET", keys.health(), "api"});
  health_status hb;
  CAF_REQUIRE(decode_health(h->str, hb));
  CAF_CHECK_EQUAL(hb.status, "healthy");
  auto httl = client.command({"PTTL", keys.health()});
  CAF_CHECK_EQUAL(httl->integer, -1);
}

CAF_TEST(bar updates and trade batches reach a subscriber) {
  auto opts = test::redis_test_options();
  opts.command_timeout = std::chrono::milliseconds{5000};
  redis_client sub{opts};
  CAF_REQUIRE(sub.connect());
  auto ack
    = sub.command({"SUBSCRIBE", keys.chart_updates(), keys.trades("binance")});
  CAF_REQUIRE(ack);
  CAF_REQUIRE_EQUAL(ack->elements.size(), 3u);
  CAF_CHECK_EQUAL(ack->elements[0].str, "subscribe");
  auto second = sub.read_reply();
  CAF_REQUIRE(second);
  CAF_CHECK_EQUAL(second->elements[1].str, keys.trades("binance"));
  redis_pipeline p;
  auto b = make_bar(t0, 777, 0, false);
  add_chart_update(p, keys, b);
  trade_batch tb{"binance", "BTCUSDT", {}};
  for (int i = 0; i < 50; ++i) {
    trade t;
    t.id = i;
    t.price.units = 100000000;
    t.quantity.units = 1;
    tb.trades.push_back(t);
  }
  add_trades(p, keys, tb);
  auto replies = client.execute(p);
  CAF_REQUIRE(replies);
  CAF_CHECK_EQUAL((*replies)[0].integer, 1); // one subscriber each
  CAF_CHECK_EQUAL((*replies)[1].integer, 1);
  auto m1 = sub.read_reply();
  CAF_REQUIRE(m1);
  CAF_REQUIRE_EQUAL(m1->elements.size(), 3u);
  CAF_CHECK_EQUAL(m1->elements[0].str, "message");
  CAF_CHECK_EQUAL(m1->elements[1].str, keys.chart_updates());
  bar got;
  CAF_REQUIRE(decode_bar(m1->elements[2].str, got));
  CAF_CHECK_EQUAL(got, b);
  auto m2 = sub.read_reply();
  CAF_REQUIRE(m2);
  CAF_CHECK_EQUAL(m2->elements[1].str, keys.trades("binance"));
  trade_batch tb_back;
  CAF_REQUIRE(decode_trades(m2->elements[2].str, tb_back));
  CAF_CHECK_EQUAL(tb_back, tb);
}

CAF_TEST_FIXTURE_SCOPE_END()
