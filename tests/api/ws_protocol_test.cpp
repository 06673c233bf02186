#define CAF_SUITE api.ws_protocol
#include "caf/test/unit_test.hpp"

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/ws_protocol.hpp"
#include "config/config.hpp"

using namespace csp;
using namespace csp::api;
using messages::timeframe;
using nlohmann::json;

namespace {

ws_request parse_ok(const std::string& text) {
  auto result = parse_ws_request(text);
  if (auto err = std::get_if<ws_protocol_error>(&result))
    CAF_FAIL("refused " << text << ": " << err->code << " " << err->message);
  return std::get<ws_request>(result);
}

ws_protocol_error parse_err(
  const std::string& text, ws_dialect fallback = ws_dialect::native) {
  auto result = parse_ws_request(text, fallback);
  if (std::holds_alternative<ws_request>(result))
    CAF_FAIL("accepted " << text);
  return std::get<ws_protocol_error>(result);
}

/// Parses a reply, failing the test when it is not JSON.
json reply(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    CAF_FAIL("reply is not JSON: " << text);
  return j;
}

/// The `id` member of a request text as JSON (null when absent).
json request_id(const std::string& text) {
  auto j = json::parse(text);
  return j.contains("id") ? j["id"] : json(nullptr);
}

} // namespace

CAF_TEST(native subscribe and its ack echo the id) {
  for (std::string text :
    {
      R"({"op":"subscribe","symbol":"BTCUSDT","timeframe":"1m","id":7})",
      R"({"id":"req-1_a","timeframe":"4h","symbol":"BRK.B","op":"subscribe"})",
      R"({"op":"subscribe","symbol":"^GSPC","timeframe":"1d"})",
      R"( {"op":"unsubscribe","symbol":"EURUSD=X","timeframe":"15m","id":-9223372036854775808} )",
    }) {
    auto req = parse_ok(text);
    auto in = json::parse(text);
    CAF_CHECK(req.dialect == ws_dialect::native);
    CAF_CHECK(req.op
      == (in["op"] == "subscribe" ? ws_op::subscribe : ws_op::unsubscribe));
    CAF_REQUIRE_EQUAL(req.streams.size(), 1u);
    CAF_CHECK_EQUAL(req.streams[0].symbol, in["symbol"].get<std::string>());
    CAF_CHECK_EQUAL(messages::to_string(req.streams[0].tf),
      in["timeframe"].get<std::string>());
    CAF_CHECK_EQUAL(json::parse(req.id_json), request_id(text));
    auto ack = reply(ack_reply(req, {}));
    CAF_CHECK_EQUAL(
      ack["type"], req.op == ws_op::subscribe ? "subscribed" : "unsubscribed");
    CAF_CHECK_EQUAL(ack["symbol"], in["symbol"]);
    CAF_CHECK_EQUAL(ack["timeframe"], in["timeframe"]);
    CAF_CHECK_EQUAL(ack["id"], request_id(text));
    CAF_CHECK_EQUAL(ack.size(), 4u);
  }
}

CAF_TEST(native ping and list) {
  auto ping = parse_ok(R"({"op":"ping"})");
  CAF_CHECK(ping.op == ws_op::ping);
  CAF_CHECK_EQUAL(ping.id_json, "null");
  CAF_CHECK_EQUAL(reply(ack_reply(ping, {})), json({{"type", "pong"}}));
  auto ping_id = parse_ok(R"({"op":"ping","id":"x1"})");
  CAF_CHECK_EQUAL(
    reply(ack_reply(ping_id, {})), json({{"type", "pong"}, {"id", "x1"}}));
  auto list = parse_ok(R"({"op":"list_subscriptions","id":3})");
  CAF_CHECK(list.op == ws_op::list_subscriptions);
  std::vector<ws_stream> subs{
    {"BTCUSDT", timeframe::m1}, {"AAPL", timeframe::d1}};
  auto j = reply(ack_reply(list, subs));
  CAF_CHECK_EQUAL(j["type"], "subscriptions");
  CAF_CHECK_EQUAL(j["id"], 3);
  CAF_REQUIRE_EQUAL(j["subscriptions"].size(), 2u);
  CAF_CHECK_EQUAL(j["subscriptions"][1]["symbol"], "AAPL");
  CAF_CHECK_EQUAL(j["subscriptions"][1]["timeframe"], "1d");
}

CAF_TEST(binance subscribe folds duplicates and keeps order) {
  std::string text = R"({"method":"SUBSCRIBE","params":["ethusdt@kline_5m",
    "btcusdt@kline_1m","ethusdt@kline_5m","brk.b@kline_1h"],"id":1})";
  auto req = parse_ok(text);
  CAF_CHECK(req.dialect == ws_dialect::binance);
  CAF_CHECK(req.op == ws_op::subscribe);
  std::vector<ws_stream> want{{"ETHUSDT", timeframe::m5},
    {"BTCUSDT", timeframe::m1}, {"BRK.B", timeframe::h1}};
  CAF_CHECK(req.streams == want);
  CAF_CHECK_EQUAL(
    reply(ack_reply(req, {})), json({{"result", nullptr}, {"id", 1}}));
  auto unsub = parse_ok(
    R"({"method":"UNSUBSCRIBE","params":["btcusdt@kline_1d"],"id":"u"})");
  CAF_CHECK(unsub.op == ws_op::unsubscribe);
  CAF_CHECK_EQUAL(
    reply(ack_reply(unsub, {})), json({{"result", nullptr}, {"id", "u"}}));
}

CAF_TEST(binance list subscriptions names the streams) {
  for (std::string text : {R"({"method":"LIST_SUBSCRIPTIONS","id":3})",
         R"({"method":"LIST_SUBSCRIPTIONS","params":[],"id":3})"}) {
    auto req = parse_ok(text);
    CAF_CHECK(req.op == ws_op::list_subscriptions);
    std::vector<ws_stream> subs{
      {"BTCUSDT", timeframe::m1}, {"ETHUSDT", timeframe::h4}};
    auto j = reply(ack_reply(req, subs));
    CAF_CHECK_EQUAL(j, json::parse(R"({"result":["btcusdt@kline_1m",
      "ethusdt@kline_4h"],"id":3})"));
  }
}

CAF_TEST(stream names round trip) {
  for (auto tf : messages::all_timeframes) {
    for (std::string sym : {"BTCUSDT", "BRK.B", "^GSPC", "EURUSD=X", "A-B1"}) {
      ws_stream s{sym, tf};
      auto name = binance_stream_name(s);
      CAF_CHECK_EQUAL(
        name.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string::npos);
      auto back = parse_binance_stream(name);
      CAF_REQUIRE(std::holds_alternative<ws_stream>(back));
      CAF_CHECK(std::get<ws_stream>(back) == s);
    }
  }
}

CAF_TEST(refused messages have stable codes and echo the id) {
  struct row {
    std::string text;
    std::string code;
    ws_dialect dialect;
    std::string id_json;
  };
  auto native = ws_dialect::native;
  auto binance = ws_dialect::binance;
  std::vector<row> rows{
    {"{", "invalid_json", native, "null"},
    {"", "invalid_json", native, "null"},
    {"{\"op\":\"ping\"} x", "invalid_json", native, "null"},
    {"{\"op\":\"p\xff\"}", "invalid_json", native, "null"},
    {R"({"op":"ping","id":1e999})", "invalid_json", native, "null"},
    {"7E777", "invalid_json", native, "null"},
    {"[1,2]", "not_an_object", native, "null"},
    {"\"ping\"", "not_an_object", native, "null"},
    {R"({"id":1})", "missing_field", native, "null"},
    {R"({"op":"ping","method":"SUBSCRIBE"})", "ambiguous_dialect", native,
      "null"},
    {R"({"op":"ping","op":"ping","id":4})", "duplicate_key", native, "4"},
    {R"({"op":"ping","id":1.5})", "invalid_id", native, "null"},
    {R"({"op":"ping","id":{}})", "invalid_id", native, "null"},
    {R"({"op":"ping","id":"a b"})", "invalid_id", native, "null"},
    {R"({"op":"ping","id":"")", "invalid_json", native, "null"},
    {R"({"op":"ping","id":""})", "invalid_id", native, "null"},
    {R"({"op":"ping","id":"0123456789012345678901234567890123456"})",
      "invalid_id", native, "null"},
    {R"({"op":"ping","id":9223372036854775808})", "invalid_id", native, "null"},
    {R"({"op":"jump","id":2})", "unknown_op", native, "2"},
    {R"({"op":5})", "invalid_field", native, "null"},
    {R"({"op":"ping","symbol":"BTCUSDT"})", "unknown_key", native, "null"},
    {R"({"op":"subscribe","symbol":"BTCUSDT","timeframe":"1m","x":1})",
      "unknown_key", native, "null"},
    {R"({"op":"subscribe","timeframe":"1m","id":"a"})", "missing_field", native,
      R"("a")"},
    {R"({"op":"subscribe","symbol":"BTCUSDT"})", "missing_field", native,
      "null"},
    {R"({"op":"subscribe","symbol":1,"timeframe":"1m"})", "invalid_field",
      native, "null"},
    {R"({"op":"subscribe","symbol":"btcusdt","timeframe":"1m"})",
      "invalid_symbol", native, "null"},
    {R"({"op":"subscribe","symbol":"","timeframe":"1m"})", "invalid_symbol",
      native, "null"},
    {R"({"op":"subscribe","symbol":"BTC USDT","timeframe":"1m"})",
      "invalid_symbol", native, "null"},
    {R"({"op":"subscribe","symbol":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456","timeframe":"1m"})",
      "invalid_symbol", native, "null"},
    {R"({"op":"subscribe","symbol":"BTCUSDT","timeframe":"3m","id":9})",
      "invalid_timeframe", native, "9"},
    {R"({"op":"subscribe","symbol":"BTCUSDT","timeframe":"1M"})",
      "invalid_timeframe", native, "null"},
    {R"({"method":"SET_PROPERTY","params":["combined",true],"id":5})",
      "unknown_op", binance, "5"},
    {R"({"method":"subscribe","params":["btcusdt@kline_1m"],"id":5})",
      "unknown_op", binance, "5"},
    {R"({"method":"SUBSCRIBE","params":["btcusdt@kline_1m"],"id":5,"x":0})",
      "unknown_key", binance, "5"},
    {R"({"method":"SUBSCRIBE","id":5})", "missing_field", binance, "5"},
    {R"({"method":"SUBSCRIBE","params":[],"id":5})", "invalid_params", binance,
      "5"},
    {R"({"method":"SUBSCRIBE","params":"btcusdt@kline_1m","id":5})",
      "invalid_params", binance, "5"},
    {R"({"method":"SUBSCRIBE","params":[7],"id":5})", "invalid_params", binance,
      "5"},
    {R"({"method":"LIST_SUBSCRIPTIONS","params":["x"],"id":5})",
      "invalid_params", binance, "5"},
    {R"({"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":5})",
      "invalid_stream", binance, "5"},
    {R"({"method":"SUBSCRIBE","params":["btcusdt"],"id":5})", "invalid_stream",
      binance, "5"},
    {R"({"method":"SUBSCRIBE","params":["BTCUSDT@kline_1m"],"id":5})",
      "invalid_symbol", binance, "5"},
    {R"({"method":"SUBSCRIBE","params":["@kline_1m"],"id":5})",
      "invalid_symbol", binance, "5"},
    {R"({"method":"SUBSCRIBE","params":["btcusdt@kline_1M"],"id":5})",
      "invalid_timeframe", binance, "5"},
    {R"({"method":"SUBSCRIBE","params":["btcusdt@kline_1s"],"id":"q"})",
      "invalid_timeframe", binance, R"("q")"},
    {R"({"method":"SUBSCRIBE","params":["btcusdt@kline_1m_+08:00"],"id":5})",
      "invalid_timeframe", binance, "5"},
    {R"({"method":["SUBSCRIBE"],"id":5})", "invalid_field", binance, "5"},
  };
  for (const auto& r : rows) {
    CAF_MESSAGE("input: " << r.text);
    auto err = parse_err(r.text);
    CAF_CHECK_EQUAL(err.code, r.code);
    CAF_CHECK(err.dialect == r.dialect);
    CAF_CHECK_EQUAL(err.id_json, r.id_json);
    CAF_CHECK(!err.message.empty());
    auto j = reply(error_reply(err));
    auto id = json::parse(r.id_json);
    if (r.dialect == native) {
      CAF_CHECK_EQUAL(j["type"], "error");
      CAF_CHECK_EQUAL(j["code"], r.code);
      CAF_CHECK_EQUAL(j["message"], err.message);
      CAF_CHECK_EQUAL(j["id"], id);
      CAF_CHECK_EQUAL(j.size(), 4u);
    } else {
      // Binance's shape: {"error":{"code":2,"msg":"Invalid request: .."},"id"}.
      CAF_CHECK_EQUAL(j.size(), 2u);
      CAF_CHECK_EQUAL(j["id"], id);
      CAF_CHECK_EQUAL(j["error"].size(), 2u);
      CAF_CHECK_EQUAL(j["error"]["code"], 2);
      auto msg = j["error"]["msg"].get<std::string>();
      CAF_CHECK_EQUAL(msg.rfind("Invalid request: ", 0), 0u);
    }
  }
}

CAF_TEST(the fallback dialect answers messages that do not tell) {
  auto err = parse_err("not json", ws_dialect::binance);
  CAF_CHECK(err.dialect == ws_dialect::binance);
  auto j = reply(error_reply(err));
  CAF_CHECK_EQUAL(j["error"]["code"], 3);
  CAF_CHECK_EQUAL(
    j["error"]["msg"].get<std::string>().rfind("Invalid JSON: ", 0), 0u);
  CAF_CHECK_EQUAL(j["id"], nullptr);
  // A message that tells overrides the fallback.
  auto native = parse_err(R"({"op":"fly"})", ws_dialect::binance);
  CAF_CHECK(native.dialect == ws_dialect::native);
}

CAF_TEST(size limit) {
  std::string base = R"({"op":"ping"})";
  std::string at_limit
    = base + std::string(max_ws_message_bytes - base.size(), ' ');
  CAF_CHECK_EQUAL(at_limit.size(), max_ws_message_bytes);
  CAF_CHECK(parse_ok(at_limit).op == ws_op::ping);
  auto err = parse_err(at_limit + " ");
  CAF_CHECK_EQUAL(err.code, "message_too_large");
}

CAF_TEST(stream count limit) {
  auto request = [](std::size_t n, bool distinct) {
    json params = json::array();
    for (std::size_t i = 0; i < n; ++i)
      params.push_back("s" + std::to_string(distinct ? i : 0) + "@kline_1m");
    return json{{"method", "SUBSCRIBE"}, {"params", params}, {"id", 1}}.dump();
  };
  auto ok = parse_ok(request(max_streams_per_request, true));
  CAF_CHECK_EQUAL(ok.streams.size(), max_streams_per_request);
  CAF_CHECK_EQUAL(ok.streams.back().symbol, "S99");
  CAF_CHECK_EQUAL(parse_err(request(max_streams_per_request + 1, true)).code,
    "too_many_streams");
  CAF_CHECK_EQUAL(parse_err(request(max_streams_per_request + 1, false)).code,
    "too_many_streams");
  CAF_CHECK_EQUAL(parse_ok(request(5, false)).streams.size(), 1u);
}

CAF_TEST(symbol rule agrees with the configuration rule) {
  std::mt19937 gen{42};
  std::string alphabet = "ABCXYZ09.-^=abz_ @\"\\";
  std::uniform_int_distribution<std::size_t> len{0, 34};
  std::uniform_int_distribution<std::size_t> pick{0, alphabet.size() - 1};
  int valid = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    auto n = len(gen);
    // Mostly characters of the rule, so that valid symbols are common.
    for (std::size_t k = 0; k < n; ++k)
      s += alphabet[i % 2 == 0 ? pick(gen) % 12 : pick(gen)];
    bool want = s.size() <= 32 && !config::check_symbol(s, ".-^=");
    CAF_CHECK_EQUAL(is_valid_symbol(s), want);
    valid += want ? 1 : 0;
  }
  CAF_CHECK_GREATER(valid, 500);
}

CAF_TEST(hostile text in errors stays valid JSON) {
  for (const std::string& text :
    {std::string(R"({"op":"\u0000\"\\\n\t</script>"})"),
      std::string(R"({"op":"€😀"})"),
      std::string(
        R"({"op":"subscribe","symbol":"\ud83d\ude00","timeframe":"1m"})"),
      std::string(R"({"method":"SUBSCRIBE","params":["\u0001@kline_1m"]})")}) {
    auto err = parse_err(text);
    auto j = reply(error_reply(err));
    CAF_CHECK(j.is_object());
  }
}
