#define CAF_SUITE roundtrip
#include "caf/test/unit_test.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/deep_to_string.hpp"
#include "caf/make_message.hpp"
#include "caf/message.hpp"

#include "messages/type_ids.hpp"

using namespace csp::messages;

namespace {

constexpr auto i64_max = std::numeric_limits<std::int64_t>::max();
constexpr auto i64_min = std::numeric_limits<std::int64_t>::min();

int128 int128_max() {
  return static_cast<int128>(~(static_cast<detail::uint128>(1) << 127));
}

int128 int128_min() {
  return -int128_max() - 1;
}

template <class T>
std::vector<char> serialize(const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = x;
  auto err = sink(copy);
  CAF_REQUIRE(!err);
  return buf;
}

template <class T>
caf::error deserialize(const std::vector<char>& buf, T& out) {
  caf::binary_deserializer source{nullptr, buf};
  return source(out);
}

template <class T>
T roundtrip(const T& x) {
  auto buf = serialize(x);
  T y;
  caf::binary_deserializer source{nullptr, buf};
  auto err = source(y);
  CAF_REQUIRE(!err);
  CAF_CHECK_EQUAL(source.remaining(), 0u);
  return y;
}

/// Every strict prefix of a valid encoding must fail to decode.
template <class T>
void check_truncations_fail(const T& x) {
  auto buf = serialize(x);
  CAF_REQUIRE(buf.size() > 1);
  size_t failures = 0;
  for (size_t n = 0; n < buf.size(); ++n) {
    std::vector<char> prefix(buf.begin(), buf.begin() + n);
    T y;
    if (deserialize(prefix, y))
      ++failures;
  }
  CAF_CHECK_EQUAL(failures, buf.size());
}

trade make_trade(std::int64_t id) {
  trade t;
  t.id = id;
  t.price = decimal::from_units(5'000'012'000'000);
  t.quantity = decimal::from_units(150'000'000);
  t.trade_time_ms = 1'705'314'645'123;
  t.event_time_ms = 1'705'314'645'125;
  t.buyer_is_maker = true;
  t.receive_time_ns = 1'705'314'645'126'000'001;
  return t;
}

bar make_bar(timeframe tf) {
  bar b;
  b.exchange = "binance";
  b.symbol = "BTCUSDT";
  b.tf = tf;
  b.open_time_ms = 1'705'314'600'000;
  b.close_time_ms = 1'705'314'659'999;
  b.open = decimal::from_units(1);
  b.high = decimal::from_units(i64_max);
  b.low = decimal::from_units(i64_min);
  b.close = decimal::from_units(-42);
  b.volume.units = int128_max();
  b.quote_volume.units = int128_min();
  b.taker_buy_volume.units = -(static_cast<int128>(1) << 100) - 12345;
  b.taker_buy_quote_volume.units = (static_cast<int128>(1) << 64) + 7;
  b.trade_count = 123456;
  b.first_trade_id = 1000;
  b.last_trade_id = 124455;
  b.revision = 3;
  b.closed = true;
  return b;
}

indicator_snapshot make_snapshot() {
  indicator_snapshot s;
  s.exchange = "binance";
  s.symbol = "ETHUSDT";
  s.tf = timeframe::h4;
  s.open_time_ms = 1'705'305'600'000;
  s.closed = true;
  for (size_t i = 0; i < indicator_count; ++i)
    s.values[i] = 100.0 + static_cast<double>(i) / 3.0;
  s.values[0] = std::numeric_limits<double>::quiet_NaN();
  s.values[3] = std::numeric_limits<double>::quiet_NaN();
  s.values[5] = -0.0;
  s.values[6] = std::numeric_limits<double>::infinity();
  s.values[7] = -std::numeric_limits<double>::infinity();
  s.values[8] = std::numeric_limits<double>::denorm_min();
  s.values[9] = -1e308;
  return s;
}

quality_report make_report() {
  quality_report r;
  r.exchange = "binance";
  r.symbol = "BNBBTC";
  r.time_ms = 1'705'314'660'000;
  r.window_ms = 300'000;
  r.score = 87.5;
  r.observations = 5000;
  r.failed_checks = {{"duplicate", 3}, {"id_gap", 1}};
  r.recent_issues = {{"duplicate", "trade id 17 seen twice", 17, 1},
    {"id_gap", "ids 101..104 missing", -1, 2}};
  return r;
}

metric_update make_metrics() {
  metric_update u;
  u.entries.push_back({metric_kind::counter_add, "trades_processed_total",
    {{"exchange", "binance"}, {"symbol", "BTCUSDT"}}, 17.0});
  u.entries.push_back({metric_kind::gauge_set, "circuit_breaker_state",
    {{"collector", "binance-0"}}, 2.0});
  u.entries.push_back(
    {metric_kind::gauge_add, "websocket_connections", {}, -1.0});
  u.entries.push_back({metric_kind::histogram_observe,
    "processing_latency_seconds", {{"stage", "bar_builder"}}, 0.00125});
  return u;
}

} // namespace

CAF_TEST(trades and batches) {
  auto t = make_trade(i64_max);
  CAF_CHECK_EQUAL(roundtrip(t), t);
  auto negative = make_trade(-1);
  negative.price = decimal::from_units(i64_min);
  negative.buyer_is_maker = false;
  CAF_CHECK_EQUAL(roundtrip(negative), negative);
  CAF_CHECK_NOT_EQUAL(t, negative);
  trade_batch batch{"binance", std::string(5000, 'X'),
    {make_trade(1), make_trade(2), negative}};
  auto copy = roundtrip(batch);
  CAF_CHECK_EQUAL(copy, batch);
  CAF_CHECK_EQUAL(copy.symbol.size(), 5000u);
  copy.trades[1].receive_time_ns += 1;
  CAF_CHECK_NOT_EQUAL(copy, batch);
  trade_batch empty;
  CAF_CHECK_EQUAL(roundtrip(empty), empty);
  CAF_CHECK_NOT_EQUAL(empty, batch);
  check_truncations_fail(batch);
}

CAF_TEST(wide decimals travel as high then low 64 - bit halves) {
  // Reference: the two halves serialized on their own.
  auto halves = [](std::uint64_t hi, std::uint64_t lo) {
    std::vector<char> buf;
    caf::binary_serializer sink{nullptr, buf};
    CAF_REQUIRE(!sink(hi, lo));
    return buf;
  };
  wide_decimal minus_one;
  minus_one.units = -1;
  CAF_CHECK_EQUAL(serialize(minus_one), halves(~0ull, ~0ull));
  wide_decimal big;
  big.units = (static_cast<int128>(1) << 64) + 2;
  CAF_CHECK_EQUAL(serialize(big), halves(1, 2));
  for (auto u : {int128{0}, int128{-1}, int128_max(), int128_min(),
         -(static_cast<int128>(1) << 100) - 12345}) {
    wide_decimal w;
    w.units = u;
    CAF_CHECK(roundtrip(w).units == u);
  }
}

CAF_TEST(bars of every timeframe) {
  for (auto tf : all_timeframes) {
    auto b = make_bar(tf);
    auto copy = roundtrip(b);
    CAF_CHECK_EQUAL(copy, b);
    CAF_CHECK(copy.tf == tf);
    CAF_CHECK(copy.volume.units == int128_max());
    CAF_CHECK(copy.quote_volume.units == int128_min());
  }
  auto x = make_bar(timeframe::m1);
  auto y = x;
  y.taker_buy_volume.units += static_cast<int128>(1) << 80;
  CAF_CHECK_NOT_EQUAL(x, y);
  CAF_CHECK_NOT_EQUAL(roundtrip(y), x);
  std::vector<bar> bars{make_bar(timeframe::m5), make_bar(timeframe::d1)};
  CAF_CHECK(roundtrip(bars) == bars);
  check_truncations_fail(x);
}

CAF_TEST(indicator snapshots keep nulls and special values bit - exact) {
  auto s = make_snapshot();
  auto copy = roundtrip(s);
  CAF_CHECK_EQUAL(copy, s);
  CAF_CHECK(std::isnan(copy.values[0]));
  CAF_CHECK(std::isnan(copy.values[3]));
  CAF_CHECK(copy.values[5] == 0.0 && std::signbit(copy.values[5]));
  CAF_CHECK(std::isinf(copy.values[6]) && copy.values[6] > 0);
  CAF_CHECK(std::isinf(copy.values[7]) && copy.values[7] < 0);
  CAF_CHECK(copy.values[8] == std::numeric_limits<double>::denorm_min());
  CAF_CHECK(copy.values[1] == 100.0 + 1.0 / 3.0);
  CAF_CHECK(copy.tf == timeframe::h4);
  auto other = s;
  other.values[0] = 1.0; // a value where the original is null
  CAF_CHECK_NOT_EQUAL(other, s);
  check_truncations_fail(s);
}

CAF_TEST(feature vectors keep nulls and special values bit - exact) {
  feature_vector fv;
  fv.exchange = "binance";
  fv.symbol = "BTCUSDT";
  fv.tf = timeframe::m15;
  fv.open_time_ms = 1'705'314'600'000;
  fv.closed = true;
  for (size_t i = 0; i < feature_count; ++i)
    fv.values[i] = static_cast<double>(i) / 9.0 - 0.75;
  fv.values[0] = std::numeric_limits<double>::quiet_NaN();
  fv.values[4] = -0.0;
  fv.values[9] = -std::numeric_limits<double>::infinity();
  fv.values[14] = std::numeric_limits<double>::denorm_min();
  auto copy = roundtrip(fv);
  CAF_CHECK_EQUAL(copy, fv);
  CAF_CHECK(std::isnan(copy.values[0]));
  CAF_CHECK(copy.values[4] == 0.0 && std::signbit(copy.values[4]));
  CAF_CHECK(std::isinf(copy.values[9]) && copy.values[9] < 0);
  CAF_CHECK(copy.values[14] == std::numeric_limits<double>::denorm_min());
  CAF_CHECK(copy.values[1] == 1.0 / 9.0 - 0.75);
  CAF_CHECK(copy.tf == timeframe::m15);
  auto other = fv;
  other.values[0] = 0.0; // a value where the original is null
  CAF_CHECK_NOT_EQUAL(other, fv);
  other = fv;
  other.closed = false;
  CAF_CHECK_NOT_EQUAL(roundtrip(other), fv);
  std::vector<feature_vector> xs{fv, other};
  CAF_CHECK(roundtrip(xs) == xs);
  check_truncations_fail(fv);
  auto str = caf::deep_to_string(fv);
  CAF_CHECK_NOT_EQUAL(str.find("feature_vector"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(str.find("15m"), std::string::npos);
}

CAF_TEST(quality reports) {
  auto r = make_report();
  CAF_CHECK_EQUAL(roundtrip(r), r);
  auto other = r;
  other.recent_issues.pop_back();
  CAF_CHECK_NOT_EQUAL(other, r);
  CAF_CHECK_EQUAL(roundtrip(other), other);
  quality_report empty;
  CAF_CHECK_EQUAL(roundtrip(empty), empty);
  quality_issue issue{"timestamp_skew", "", -1, i64_min};
  CAF_CHECK_EQUAL(roundtrip(issue), issue);
  quality_check_count count{"stale_feed", i64_max};
  CAF_CHECK_EQUAL(roundtrip(count), count);
  check_truncations_fail(r);
}

CAF_TEST(circuit transitions between every pair of states) {
  const circuit_state states[]
    = {circuit_state::closed, circuit_state::open, circuit_state::half_open};
  for (auto from : states)
    for (auto to : states) {
      circuit_transition t{
        "binance-0", from, to, "failure_threshold", 1'705'314'645'123, 60'000};
      auto copy = roundtrip(t);
      CAF_CHECK_EQUAL(copy, t);
      CAF_CHECK(copy.from == from && copy.to == to);
    }
  circuit_transition a{
    "c", circuit_state::closed, circuit_state::open, "r", 1, 2};
  auto b = a;
  b.open_timeout_ms = 3;
  CAF_CHECK_NOT_EQUAL(a, b);
}

CAF_TEST(collector events of both outcomes) {
  for (auto outcome :
    {collector_outcome::success, collector_outcome::failure}) {
    collector_event ev{
      "binance-0", outcome, "handshake_failed", 1'705'314'645'123};
    auto copy = roundtrip(ev);
    CAF_CHECK_EQUAL(copy, ev);
    CAF_CHECK(copy.outcome == outcome);
    check_truncations_fail(ev);
  }
  collector_event a{"c", collector_outcome::success, "r", 1};
  auto b = a;
  b.outcome = collector_outcome::failure;
  CAF_CHECK_NOT_EQUAL(a, b);
}

CAF_TEST(feed status symbol commands late trades health) {
  feed_status up{"binance", {"BTCUSDT", "ETHUSDT", ""}, true, 7, "connected"};
  CAF_CHECK_EQUAL(roundtrip(up), up);
  auto down = up;
  down.healthy = false;
  CAF_CHECK_NOT_EQUAL(down, up);
  CAF_CHECK_EQUAL(roundtrip(down), down);
  for (auto action : {symbol_action::add, symbol_action::remove}) {
    symbol_command cmd{action, "yahoo", "AAPL"};
    auto copy = roundtrip(cmd);
    CAF_CHECK_EQUAL(copy, cmd);
    CAF_CHECK(copy.action == action);
  }
  late_trade late{"binance", "BTCUSDT", make_trade(99),
    "beyond_allowed_lateness", 1'705'315'000'000};
  CAF_CHECK_EQUAL(roundtrip(late), late);
  auto later = late;
  later.tr.id = 100;
  CAF_CHECK_NOT_EQUAL(later, late);
  std::vector<late_trade> lates{late, later};
  CAF_CHECK(roundtrip(lates) == lates);
  health_status h{"collector.binance-0", "degraded", "circuit \"open\"\n", 5};
  CAF_CHECK_EQUAL(roundtrip(h), h);
  auto h2 = h;
  h2.status = "healthy";
  CAF_CHECK_NOT_EQUAL(h2, h);
  writer_stats ws{"pg_writer-1", 10, 20, 3, 4, 5, 6, 7, true, 8};
  CAF_CHECK_EQUAL(roundtrip(ws), ws);
  auto ws2 = ws;
  ws2.connected = false;
  CAF_CHECK_NOT_EQUAL(ws2, ws);
  CAF_CHECK_EQUAL(roundtrip(ws2), ws2);
  auto ws3 = ws;
  ws3.rows_settled = i64_max;
  CAF_CHECK_NOT_EQUAL(ws3, ws);
  CAF_CHECK_EQUAL(roundtrip(ws3), ws3);
  check_truncations_fail(ws);
}

CAF_TEST(flow control) {
  flow_control pause{true, "storage_inflight_high", 200'001, 1'705'315'000'000};
  auto copy = roundtrip(pause);
  CAF_CHECK_EQUAL(copy, pause);
  CAF_CHECK(copy.paused);
  auto go = pause;
  go.paused = false;
  go.reason = "storage_inflight_low";
  go.inflight_rows = 99'999;
  CAF_CHECK_NOT_EQUAL(go, pause);
  auto go_copy = roundtrip(go);
  CAF_CHECK_EQUAL(go_copy, go);
  CAF_CHECK(!go_copy.paused);
  flow_control extreme{true, std::string(300, 'r'), i64_min, i64_max};
  CAF_CHECK_EQUAL(roundtrip(extreme), extreme);
  check_truncations_fail(pause);
  auto text = caf::deep_to_string(pause);
  CAF_CHECK(text.find("flow_control") != std::string::npos);
  CAF_CHECK(text.find("storage_inflight_high") != std::string::npos);
}

CAF_TEST(metric updates of every kind) {
  auto u = make_metrics();
  auto copy = roundtrip(u);
  CAF_CHECK_EQUAL(copy, u);
  CAF_REQUIRE_EQUAL(copy.entries.size(), 4u);
  CAF_CHECK(copy.entries[3].kind == metric_kind::histogram_observe);
  CAF_CHECK(copy.entries[3].value == 0.00125);
  CAF_CHECK(copy.entries[2].value == -1.0);
  CAF_CHECK_EQUAL(copy.entries[0].labels[1].second, "BTCUSDT");
  copy.entries[0].labels[1].second = "ETHUSDT";
  CAF_CHECK_NOT_EQUAL(copy, u);
  CAF_CHECK_EQUAL(roundtrip(metric_update{}), metric_update{});
  check_truncations_fail(u);
}

CAF_TEST(out of range enum bytes are rejected) {
  // symbol_command: the action byte comes first.
  auto cmd_buf = serialize(symbol_command{symbol_action::remove, "a", "B"});
  CAF_REQUIRE_EQUAL(cmd_buf[0], 1);
  symbol_command cmd;
  cmd_buf[0] = 2;
  CAF_CHECK(deserialize(cmd_buf, cmd));
  cmd_buf[0] = 0;
  CAF_CHECK(!deserialize(cmd_buf, cmd));
  CAF_CHECK(cmd.action == symbol_action::add);
  // bar: "binance" and "BTCUSDT" take 1 + 7 bytes each, then the timeframe.
  auto bar_buf = serialize(make_bar(timeframe::m15));
  CAF_REQUIRE_EQUAL(bar_buf[16], 2);
  bar b;
  bar_buf[16] = 6;
  CAF_CHECK(deserialize(bar_buf, b));
  bar_buf[16] = static_cast<char>(0xff);
  CAF_CHECK(deserialize(bar_buf, b));
  bar_buf[16] = 5;
  CAF_CHECK(!deserialize(bar_buf, b));
  CAF_CHECK(b.tf == timeframe::d1);
  // circuit_transition: "c" takes 2 bytes, then from and to.
  auto ct_buf = serialize(circuit_transition{
    "c", circuit_state::open, circuit_state::half_open, "r", 1, 2});
  CAF_REQUIRE_EQUAL(ct_buf[2], 1);
  CAF_REQUIRE_EQUAL(ct_buf[3], 2);
  circuit_transition ct;
  ct_buf[3] = 3;
  CAF_CHECK(deserialize(ct_buf, ct));
  // metric_update: one size byte, then the first entry's kind.
  auto mu_buf = serialize(make_metrics());
  CAF_REQUIRE_EQUAL(mu_buf[0], 4);
  CAF_REQUIRE_EQUAL(mu_buf[1], 0);
  metric_update mu;
  mu_buf[1] = 4;
  CAF_CHECK(deserialize(mu_buf, mu));
}

CAF_TEST(deep_to_string names the types) {
  auto contains = [](const std::string& str, const std::string& what) {
    auto found = str.find(what) != std::string::npos;
    if (!found)
      CAF_MESSAGE(str << " lacks " << what);
    return found;
  };
  trade_batch batch{"binance", "BTCUSDT", {make_trade(7)}};
  auto str = caf::deep_to_string(batch);
  CAF_CHECK(contains(str, "trade_batch"));
  CAF_CHECK(contains(str, "trade("));
  CAF_CHECK(contains(str, "50000.12"));
  auto bar_str = caf::deep_to_string(make_bar(timeframe::h4));
  CAF_CHECK(contains(bar_str, "bar("));
  CAF_CHECK(contains(bar_str, "4h"));
  CAF_CHECK(
    contains(caf::deep_to_string(make_snapshot()), "indicator_snapshot"));
  CAF_CHECK(contains(caf::deep_to_string(make_report()), "quality_report"));
  CAF_CHECK(contains(caf::deep_to_string(make_report()), "quality_issue"));
  CAF_CHECK(
    contains(caf::deep_to_string(make_report()), "quality_check_count"));
  auto ct_str = caf::deep_to_string(circuit_transition{
    "c", circuit_state::open, circuit_state::half_open, "r", 1, 2});
  CAF_CHECK(contains(ct_str, "circuit_transition"));
  CAF_CHECK(contains(ct_str, "half_open"));
  CAF_CHECK(contains(caf::deep_to_string(feed_status{}), "feed_status"));
  CAF_CHECK(contains(caf::deep_to_string(symbol_command{}), "symbol_command"));
  CAF_CHECK(contains(caf::deep_to_string(late_trade{}), "late_trade"));
  CAF_CHECK(contains(caf::deep_to_string(make_metrics()), "metric_update"));
  CAF_CHECK(contains(caf::deep_to_string(make_metrics()), "histogram_observe"));
  CAF_CHECK(contains(caf::deep_to_string(health_status{}), "health_status"));
  CAF_CHECK(contains(caf::deep_to_string(timeframe::m15), "15m"));
}

namespace {

struct registered_config : caf::actor_system_config {
  registered_config() { register_types(*this); }
};

} // namespace

CAF_TEST(registered types survive a message round trip) {
  registered_config cfg;
  caf::actor_system sys{cfg};
  for (auto name : {"csp::messages::trade_batch", "csp::messages::bar",
         "std::vector<csp::messages::bar>", "csp::messages::indicator_snapshot",
         "csp::messages::quality_report", "csp::messages::circuit_transition",
         "csp::messages::feed_status", "csp::messages::symbol_command",
         "csp::messages::late_trade", "csp::messages::metric_update",
         "csp::messages::health_status", "csp::messages::writer_stats",
         "csp::messages::flow_control", "csp::messages::feature_vector",
         "std::vector<csp::messages::feature_vector>"}) {
    CAF_MESSAGE("looking up " << name);
    CAF_CHECK(sys.types().make_value(name) != nullptr);
  }
  trade_batch batch{"binance", "BTCUSDT", {make_trade(1), make_trade(2)}};
  auto snapshot = make_snapshot();
  auto msg = caf::make_message(batch, snapshot, make_metrics());
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  CAF_REQUIRE(!sink(msg));
  caf::message out;
  caf::binary_deserializer source{sys, buf};
  CAF_REQUIRE(!source(out));
  CAF_REQUIRE(
    (out.match_elements<trade_batch, indicator_snapshot, metric_update>()));
  CAF_CHECK_EQUAL(out.get_as<trade_batch>(0), batch);
  CAF_CHECK_EQUAL(out.get_as<indicator_snapshot>(1), snapshot);
  CAF_CHECK_EQUAL(out.get_as<metric_update>(2), make_metrics());
}

CAF_TEST(without register_types the messages cannot cross the wire) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto msg = caf::make_message(trade_batch{"binance", "BTCUSDT", {}});
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  // CAF 0.17.6 logs "cannot serialize message because a type was not added
  // to the types list" and writes an empty message instead of failing.
  CAF_MESSAGE("expect one [ERROR] line about an unregistered type");
  static_cast<void>(sink(msg));
  caf::message out;
  caf::binary_deserializer source{sys, buf};
  static_cast<void>(source(out));
  CAF_CHECK(!out.match_elements<trade_batch>());
}
