#define CAF_SUITE binance_stream
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/binance_stream.hpp"

using namespace csp::actors;
using csp::messages::trade;

namespace {

std::vector<std::string> make_symbols(std::size_t n) {
  std::vector<std::string> result;
  for (std::size_t i = 0; i < n; ++i)
    result.push_back("SYM" + std::to_string(i) + "USDT");
  return result;
}

trade with_id(std::int64_t id) {
  trade t;
  t.id = id;
  return t;
}

} // namespace

CAF_TEST(stream names) {
  CAF_CHECK_EQUAL(trade_stream_name("BTCUSDT"), "btcusdt@trade");
  CAF_CHECK_EQUAL(trade_stream_name("bnbbtc"), "bnbbtc@trade");
  CAF_CHECK_EQUAL(trade_stream_name("1INCHUSDT"), "1inchusdt@trade");
}

CAF_TEST(combined stream target) {
  CAF_CHECK_EQUAL(combined_stream_target("/", {"BTCUSDT", "ETHUSDT"}),
    "/stream?streams=btcusdt@trade/ethusdt@trade");
  CAF_CHECK_EQUAL(
    combined_stream_target("", {"BTCUSDT"}), "/stream?streams=btcusdt@trade");
  CAF_CHECK_EQUAL(combined_stream_target("/prefix/", {"A"}),
    "/prefix/stream?streams=a@trade");
  CAF_CHECK_EQUAL(combined_stream_target("/", {}), "");
  auto full = make_symbols(1024);
  auto target = combined_stream_target("/", full);
  CAF_CHECK(!target.empty());
  CAF_CHECK_EQUAL(std::count(target.begin(), target.end(), '@'), 1024);
  CAF_CHECK_EQUAL(std::count(target.begin(), target.end(), '/'), 1 + 1023);
  CAF_CHECK_EQUAL(combined_stream_target("/", make_symbols(1025)), "");
  CAF_CHECK_EQUAL(combined_stream_target("/", make_symbols(3), 2), "");
}

CAF_TEST(partitioning respects the limit) {
  auto parts = partition_symbols(make_symbols(2500), 1024);
  CAF_REQUIRE_EQUAL(parts.size(), 3u);
  CAF_CHECK_EQUAL(parts[0].size(), 1024u);
  CAF_CHECK_EQUAL(parts[1].size(), 1024u);
  CAF_CHECK_EQUAL(parts[2].size(), 452u);
  CAF_CHECK_EQUAL(parts[0][0], "SYM0USDT");
  CAF_CHECK_EQUAL(parts[2][451], "SYM2499USDT");
  // Above Binance's limit is clamped to it.
  CAF_CHECK_EQUAL(partition_symbols(make_symbols(2000), 5000)[0].size(), 1024u);
  CAF_CHECK_EQUAL(partition_symbols(make_symbols(3), 0).size(), 3u);
  CAF_CHECK(partition_symbols({}, 10).empty());
}

CAF_TEST(subscription requests) {
  auto sub = nlohmann::json::parse(
    subscription_request(true, {"BTCUSDT", "ETHUSDT"}, 7));
  CAF_CHECK_EQUAL(sub["method"], "SUBSCRIBE");
  CAF_CHECK_EQUAL(sub["id"], 7);
  CAF_CHECK(
    sub["params"] == nlohmann::json::array({"btcusdt@trade", "ethusdt@trade"}));
  auto unsub = nlohmann::json::parse(subscription_request(false, {"X"}, 8));
  CAF_CHECK_EQUAL(unsub["method"], "UNSUBSCRIBE");
  CAF_CHECK(unsub["params"] == nlohmann::json::array({"x@trade"}));
  CAF_CHECK_EQUAL(unsub.size(), 3u);
}

CAF_TEST(the URL holds the streams that fit and requests carry the rest) {
  // Every prefix the function admits fits, one more would not.
  for (auto base : {"/", "/prefix/", "/ws?x=1"}) {
    for (std::size_t limit : {40, 200, 2048, 100000}) {
      auto syms = make_symbols(1500);
      auto n = symbols_in_target(base, syms, limit);
      CAF_REQUIRE(n >= 1);
      CAF_REQUIRE(n <= binance_max_streams);
      std::vector<std::string> head(syms.begin(), syms.begin() + n);
      auto target = combined_stream_target(base, head);
      if (n > 1)
        CAF_CHECK_LESS_OR_EQUAL(target.size(), limit);
      if (n < binance_max_streams) {
        head.push_back(syms[n]);
        CAF_CHECK_GREATER(combined_stream_target(base, head).size(), limit);
      }
    }
  }
  // A single stream always goes in the URL, however long.
  CAF_CHECK_EQUAL(symbols_in_target("/", {"AVERYLONGSYMBOLNAME"}, 10), 1u);
  CAF_CHECK_EQUAL(symbols_in_target("/", {}, 2048), 0u);
  // 1000 symbols: the default limit keeps the URL under Beast's 8 KB.
  auto thousand = make_symbols(1000);
  auto n = symbols_in_target("/", thousand);
  CAF_CHECK_LESS(n, 1000u);
  CAF_CHECK_LESS_OR_EQUAL(
    combined_stream_target("/", {thousand.begin(), thousand.begin() + n})
      .size(),
    max_url_target_bytes);
  // The rest: chunks of at most max_streams_per_request, ids counting up,
  // every stream exactly once and in order.
  std::vector<std::string> rest(thousand.begin() + n, thousand.end());
  std::int64_t id = 41;
  auto reqs = subscription_requests(true, rest, id);
  CAF_CHECK_EQUAL(reqs.size(),
    (rest.size() + max_streams_per_request - 1) / max_streams_per_request);
  CAF_CHECK_LESS_OR_EQUAL(
    reqs.size(), 5u); // Binance: 5 incoming messages per second
  std::vector<std::string> streams;
  std::int64_t want_id = 42;
  for (auto& r : reqs) {
    auto j = nlohmann::json::parse(r);
    CAF_CHECK_EQUAL(j["method"], "SUBSCRIBE");
    CAF_CHECK_EQUAL(j["id"], want_id++);
    CAF_CHECK_LESS_OR_EQUAL(j["params"].size(), max_streams_per_request);
    for (auto& p : j["params"])
      streams.push_back(p.get<std::string>());
  }
  CAF_CHECK_EQUAL(id, want_id - 1);
  CAF_REQUIRE_EQUAL(streams.size(), rest.size());
  for (std::size_t i = 0; i < rest.size(); ++i)
    CAF_CHECK_EQUAL(streams[i], trade_stream_name(rest[i]));
  CAF_CHECK(subscription_requests(false, {}, id).empty());
}

CAF_TEST(historical trades) {
  CAF_CHECK_EQUAL(historical_trades_target("BTCUSDT", 100, 1000),
    "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=100&limit=1000");
  std::vector<trade> out;
  CAF_REQUIRE(parse_historical_trades(
    R"([{"id":5,"price":"1.50000000","qty":"0.25","quoteQty":"0.375",
         "time":1700000000123,"isBuyerMaker":true,"isBestMatch":true},
        {"id":6,"price":"2","qty":"1","time":1700000000200,
         "isBuyerMaker":false}])",
    out));
  CAF_REQUIRE_EQUAL(out.size(), 2u);
  CAF_CHECK_EQUAL(out[0].id, 5);
  CAF_CHECK_EQUAL(out[0].price.units, 150'000'000);
  CAF_CHECK_EQUAL(out[0].quantity.units, 25'000'000);
  CAF_CHECK_EQUAL(out[0].trade_time_ms, 1700000000123);
  CAF_CHECK_EQUAL(out[0].event_time_ms, 1700000000123);
  CAF_CHECK(out[0].buyer_is_maker);
  CAF_CHECK(!out[1].buyer_is_maker);
  CAF_CHECK(parse_historical_trades("[]", out));
  CAF_CHECK(out.empty());
  CAF_CHECK(!parse_historical_trades("{\"code\":-1121}", out));
  CAF_CHECK(!parse_historical_trades("[{\"id\":1}]", out));
  CAF_CHECK(!parse_historical_trades("[", out));
  CAF_CHECK(!parse_historical_trades(
    R"([{"id":1,"price":"x","qty":"1","time":1,"isBuyerMaker":true}])", out));
}

CAF_TEST(sequence in order and duplicates) {
  trade_sequence seq;
  CAF_CHECK(seq.observe(100) == sequence_verdict::accept);
  CAF_CHECK(seq.observe(101) == sequence_verdict::accept);
  CAF_CHECK(seq.observe(101) == sequence_verdict::duplicate);
  CAF_CHECK(seq.observe(100) == sequence_verdict::duplicate);
  CAF_CHECK(seq.observe(50) == sequence_verdict::duplicate);
  CAF_CHECK_EQUAL(seq.last_id(), 101);
  CAF_CHECK(seq.missing().empty());
}

CAF_TEST(sequence gaps and late fills) {
  trade_sequence seq;
  seq.observe(10);
  id_range gap;
  CAF_CHECK(seq.observe(15, &gap) == sequence_verdict::gap);
  CAF_CHECK(gap == (id_range{11, 14}));
  CAF_REQUIRE_EQUAL(seq.missing().size(), 1u);
  // Out of order: 12 arrives late, splitting the range.
  CAF_CHECK(seq.observe(12) == sequence_verdict::accept);
  CAF_REQUIRE_EQUAL(seq.missing().size(), 2u);
  CAF_CHECK(seq.missing()[0] == (id_range{11, 11}));
  CAF_CHECK(seq.missing()[1] == (id_range{13, 14}));
  CAF_CHECK(seq.observe(12) == sequence_verdict::duplicate);
  CAF_CHECK(seq.observe(11) == sequence_verdict::accept);
  CAF_CHECK(seq.observe(14) == sequence_verdict::accept);
  CAF_CHECK(seq.observe(13) == sequence_verdict::accept);
  CAF_CHECK(seq.missing().empty());
  CAF_CHECK(seq.observe(13) == sequence_verdict::duplicate);
  CAF_CHECK(seq.observe(17, &gap) == sequence_verdict::gap);
  CAF_CHECK(gap == (id_range{16, 16}));
  seq.abandon_through(16);
  CAF_CHECK(seq.missing().empty());
  CAF_CHECK(seq.observe(16) == sequence_verdict::duplicate);
}

CAF_TEST(sequence abandon partially) {
  trade_sequence seq;
  seq.observe(0);
  seq.observe(10);
  seq.abandon_through(4);
  CAF_REQUIRE_EQUAL(seq.missing().size(), 1u);
  CAF_CHECK(seq.missing()[0] == (id_range{5, 9}));
}

CAF_TEST(sequence against a reference set under shuffling) {
  // Reference: a trade is accepted iff its id was never accepted and it is
  // either the first id or not below an id range already given up. Here
  // nothing is given up, so: accepted iff new.
  std::mt19937 rng{42};
  for (int round = 0; round < 50; ++round) {
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 1000; i < 1200; ++i) {
      ids.push_back(i);
      if (rng() % 5 == 0)
        ids.push_back(i); // duplicate
    }
    // Local disorder: swap neighbours, never moving the first id.
    for (std::size_t i = 2; i + 1 < ids.size(); ++i)
      if (rng() % 3 == 0)
        std::swap(ids[i], ids[i + 1]);
    trade_sequence seq;
    std::set<std::int64_t> seen;
    for (auto id : ids) {
      auto v = seq.observe(id);
      bool fresh = seen.insert(id).second;
      CAF_CHECK_EQUAL(v != sequence_verdict::duplicate, fresh);
    }
    CAF_CHECK(seq.missing().empty());
    CAF_CHECK_EQUAL(seq.last_id(), 1199);
  }
}

CAF_TEST(sequence caps remembered ranges) {
  trade_sequence seq;
  seq.observe(0);
  for (std::int64_t i = 1; i <= 300; ++i)
    seq.observe(i * 2);
  CAF_CHECK_EQUAL(seq.missing().size(), trade_sequence::max_ranges);
  CAF_CHECK_EQUAL(seq.abandoned(), 300 - trade_sequence::max_ranges);
}

CAF_TEST(batcher by size and age) {
  trade_batcher b{3, 50};
  CAF_CHECK(!b.due(0));
  CAF_CHECK(!b.add(with_id(1), 1000));
  CAF_CHECK(!b.due(1049));
  CAF_CHECK(b.due(1050));
  CAF_CHECK(!b.add(with_id(2), 1010));
  CAF_CHECK(b.add(with_id(3), 1020));
  CAF_CHECK(b.due(1020));
  auto out = b.take();
  CAF_REQUIRE_EQUAL(out.size(), 3u);
  CAF_CHECK_EQUAL(out[0].id, 1);
  CAF_CHECK_EQUAL(out[2].id, 3);
  CAF_CHECK_EQUAL(b.size(), 0u);
  CAF_CHECK(!b.due(999999));
  // Age counts from the first trade of the new batch.
  b.add(with_id(4), 2000);
  CAF_CHECK(!b.due(2049));
  CAF_CHECK(b.due(2050));
}

CAF_TEST(backoff bounds with seeded jitter) {
  backoff a{100, 5000, 7};
  backoff b{100, 5000, 7};
  std::int64_t expected_ceiling = 100;
  for (int i = 0; i < 20; ++i) {
    CAF_CHECK_EQUAL(a.ceiling(), expected_ceiling);
    auto d = a.next();
    CAF_CHECK_EQUAL(d, b.next()); // same seed, same sequence
    CAF_CHECK_GREATER_OR_EQUAL(d, expected_ceiling / 2);
    CAF_CHECK_LESS_OR_EQUAL(d, expected_ceiling);
    expected_ceiling = std::min<std::int64_t>(expected_ceiling * 2, 5000);
  }
  CAF_CHECK_EQUAL(a.attempts(), 20);
  a.reset();
  CAF_CHECK_EQUAL(a.ceiling(), 100);
  // Jitter really varies: many draws at the cap are not all equal.
  std::set<std::int64_t> draws;
  backoff c{1000, 1000, 1};
  for (int i = 0; i < 50; ++i)
    draws.insert(c.next());
  CAF_CHECK_GREATER(draws.size(), 10u);
  CAF_CHECK_GREATER_OR_EQUAL(*draws.begin(), 500);
  CAF_CHECK_LESS_OR_EQUAL(*draws.rbegin(), 1000);
}

CAF_TEST(inbox wakeup by interval or count) {
  constexpr std::int64_t ms = 1'000'000;
  inbox_wakeup w{4, 2 * ms};
  // Never drained: the first frame notifies, later ones wait for the drain.
  CAF_CHECK(w.on_push(1, 100 * ms));
  CAF_CHECK(!w.on_push(2, 100 * ms));
  CAF_CHECK(!w.on_push(9, 101 * ms));
  w.on_drain(101 * ms);
  // Within the interval after a drain: only the count notifies.
  CAF_CHECK(!w.on_push(1, 101 * ms + 1));
  CAF_CHECK(!w.on_push(3, 102 * ms));
  CAF_CHECK(w.on_push(4, 102 * ms));
  CAF_CHECK(!w.on_push(5, 102 * ms));
  w.on_drain(102 * ms);
  // At the interval: a single frame notifies again.
  CAF_CHECK(!w.on_push(1, 104 * ms - 1));
  CAF_CHECK(w.on_push(2, 104 * ms));
}

CAF_TEST(inbox wakeup on every edge with count 1) {
  inbox_wakeup w{1, 5'000'000};
  for (std::int64_t t = 1; t <= 3; ++t) {
    CAF_CHECK(w.on_push(1, t));
    CAF_CHECK(!w.on_push(2, t));
    w.on_drain(t);
  }
  inbox_wakeup zero{0, 0};
  CAF_CHECK(zero.on_push(1, 0));
}
