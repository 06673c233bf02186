#define CAF_SUITE binance_parser
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "actors/binance_parser.hpp"

using namespace csp::actors;

namespace {

// The example trade event of Binance's trade-stream documentation.
constexpr const char* doc_example
  = R"({"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001",)"
    R"("q":"100","T":1672515782136,"m":true,"M":true})";

std::string status_of(const parse_result& res) {
  return std::string(to_string(res.status));
}

std::string field_of(const parse_result& res) {
  return std::string(res.field);
}

std::string symbol_of(const parse_result& res) {
  return std::string(res.symbol());
}

struct fixture {
  binance_parser parser;

  // Parses with both implementations, checks that they agree, and returns
  // the simdjson result.
  parse_result parse(const std::string& line) {
    auto fast = parser.parse(line);
    auto slow = parse_trade_line_nlohmann(line);
    CAF_CHECK_EQUAL(status_of(fast), status_of(slow));
    CAF_CHECK_EQUAL(field_of(fast), field_of(slow));
    if (fast.status == parse_status::trade
      && slow.status == parse_status::trade) {
      CAF_CHECK_EQUAL(symbol_of(fast), symbol_of(slow));
      CAF_CHECK(fast.trade == slow.trade);
    }
    CAF_CHECK_EQUAL(fast.request_id, slow.request_id);
    CAF_CHECK_EQUAL(fast.error_code, slow.error_code);
    if (status_of(fast) != status_of(slow))
      CAF_MESSAGE("disagreement on: " << line);
    return fast;
  }

  void check_status(
    const std::string& line, const char* status, const char* field = "") {
    auto res = parse(line);
    CAF_CHECK_EQUAL(status_of(res), status);
    CAF_CHECK_EQUAL(field_of(res), field);
    if (status_of(res) != status)
      CAF_MESSAGE("input: " << line);
  }
};

// One key with its raw JSON value, as written to the wire.
using member = std::pair<std::string, std::string>;

std::string to_json(const std::vector<member>& members) {
  std::string out = "{";
  for (const auto& [key, value] : members) {
    if (out.size() > 1)
      out += ',';
    out += '"';
    out += key;
    out += "\":";
    out += value;
  }
  out += '}';
  return out;
}

std::vector<member> doc_members() {
  return {{"e", "\"trade\""}, {"E", "1672515782136"}, {"s", "\"BNBBTC\""},
    {"t", "12345"}, {"p", "\"0.001\""}, {"q", "\"100\""},
    {"T", "1672515782136"}, {"m", "true"}, {"M", "true"}};
}

std::vector<member> with(std::vector<member> members, const std::string& key,
  const std::string& value) {
  for (auto& kv : members)
    if (kv.first == key)
      kv.second = value;
  return members;
}

std::vector<member> without(
  std::vector<member> members, const std::string& key) {
  members.erase(std::remove_if(members.begin(), members.end(),
                  [&](const member& kv) { return kv.first == key; }),
    members.end());
  return members;
}

std::string wrap(const std::string& stream, const std::string& data) {
  return R"({"stream":")" + stream + R"(","data":)" + data + "}";
}

void check_doc_trade(const parse_result& res) {
  CAF_REQUIRE_EQUAL(status_of(res), "trade");
  CAF_CHECK_EQUAL(symbol_of(res), "BNBBTC");
  CAF_CHECK_EQUAL(res.trade.id, 12345);
  CAF_CHECK_EQUAL(res.trade.price.units, 100'000);             // 0.001
  CAF_CHECK_EQUAL(res.trade.quantity.units, 10'000'000'000LL); // 100
  CAF_CHECK_EQUAL(res.trade.trade_time_ms, 1672515782136LL);
  CAF_CHECK_EQUAL(res.trade.event_time_ms, 1672515782136LL);
  CAF_CHECK_EQUAL(res.trade.buyer_is_maker, true);
  CAF_CHECK_EQUAL(res.trade.receive_time_ns, 0);
  CAF_CHECK_EQUAL(res.field.empty(), true);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(binance_parser_tests, fixture)

CAF_TEST(status names are the stable error_type labels) {
  CAF_CHECK_EQUAL(std::string(to_string(parse_status::trade)), "trade");
  CAF_CHECK_EQUAL(std::string(to_string(parse_status::subscription_result)),
    "subscription_result");
  CAF_CHECK_EQUAL(
    std::string(to_string(parse_status::error_response)), "error_response");
  CAF_CHECK_EQUAL(
    std::string(to_string(parse_status::other_event)), "other_event");
  CAF_CHECK_EQUAL(
    std::string(to_string(parse_status::malformed_json)), "malformed_json");
  CAF_CHECK_EQUAL(
    std::string(to_string(parse_status::missing_field)), "missing_field");
  CAF_CHECK_EQUAL(
    std::string(to_string(parse_status::invalid_field)), "invalid_field");
  CAF_CHECK_EQUAL(std::string(to_string(parse_status::unexpected_message)),
    "unexpected_message");
  CAF_CHECK(!is_error(parse_status::trade));
  CAF_CHECK(!is_error(parse_status::subscription_result));
  CAF_CHECK(!is_error(parse_status::error_response));
  CAF_CHECK(!is_error(parse_status::other_event));
  CAF_CHECK(is_error(parse_status::malformed_json));
  CAF_CHECK(is_error(parse_status::missing_field));
  CAF_CHECK(is_error(parse_status::invalid_field));
  CAF_CHECK(is_error(parse_status::unexpected_message));
}

CAF_TEST(the documented raw trade event) {
  check_doc_trade(parse(doc_example));
  CAF_CHECK_EQUAL(to_json(doc_members()), doc_example);
}

CAF_TEST(the combined stream wrapper) {
  check_doc_trade(parse(wrap("bnbbtc@trade", doc_example)));
  // "data" first, "stream" last.
  check_doc_trade(parse(
    std::string(R"({"data":)") + doc_example + R"(,"stream":"bnbbtc@trade"})"));
  check_status(wrap("bnbbtc@trade", "[1,2]"), "unexpected_message");
  check_status(wrap("bnbbtc@trade", "null"), "unexpected_message");
  check_status(R"({"stream":"bnbbtc@trade"})", "unexpected_message");
}

CAF_TEST(field order does not matter) {
  auto members = doc_members();
  std::reverse(members.begin(), members.end());
  check_doc_trade(parse(to_json(members)));
  std::mt19937 gen{42};
  for (int i = 0; i < 200; ++i) {
    std::shuffle(members.begin(), members.end(), gen);
    check_doc_trade(parse(to_json(members)));
    check_doc_trade(parse(wrap("bnbbtc@trade", to_json(members))));
  }
}

CAF_TEST(unknown fields are ignored) {
  auto members = doc_members();
  members.emplace_back("b", "88");
  members.emplace_back("a", "50");
  members.emplace_back("X", "\"MARKET\"");
  members.emplace_back("extra", R"({"x":[1,2.5e3,{"y":null}],"z":false})");
  members.insert(members.begin(), member{"big", "123456789012345678901234"});
  members.insert(members.begin() + 3, member{"list", "[]"});
  check_doc_trade(parse(to_json(members)));
  check_doc_trade(parse(wrap("bnbbtc@trade", to_json(members))));
  // Extra members of the wrapper are ignored too.
  check_doc_trade(parse(R"({"stream":"bnbbtc@trade","seq":[1,{}],"data":)"
    + to_json(members) + "}"));
}

CAF_TEST(the M field is optional) {
  check_doc_trade(parse(to_json(without(doc_members(), "M"))));
  // Whatever its type.
  check_doc_trade(parse(to_json(with(doc_members(), "M", "\"x\""))));
}

CAF_TEST(whitespace around and inside the message) {
  auto res = parse(" \t\r\n{ \"e\" : \"trade\" ,\n\t\"E\":1672515782136 ,"
                   "\"s\" :\"BNBBTC\",\r\n \"t\":\n12345,\"p\":\"0.001\","
                   "\"q\":\"100\",\"T\":1672515782136,\"m\":true,"
                   "\"M\":true\n}\n\t ");
  check_doc_trade(res);
  check_doc_trade(parse("\n" + wrap("bnbbtc@trade", doc_example) + "\r\n"));
}

CAF_TEST(escaped strings are unescaped before validation) {
  // "\u0073" is "s" and "\u0042" is "B".
  auto line = to_json(without(doc_members(), "s"));
  line.insert(1, R"("\u0073":"BNB\u0042TC",)");
  check_doc_trade(parse(line));
  check_status(
    to_json(with(doc_members(), "s", R"("BNB\nBTC")")), "invalid_field", "s");
}

CAF_TEST(very large ids and times) {
  auto max = std::to_string(std::numeric_limits<std::int64_t>::max());
  auto members = with(doc_members(), "t", max);
  members = with(members, "E", max);
  members = with(members, "T", max);
  auto res = parse(to_json(members));
  CAF_REQUIRE_EQUAL(status_of(res), "trade");
  CAF_CHECK_EQUAL(res.trade.id, std::numeric_limits<std::int64_t>::max());
  CAF_CHECK_EQUAL(
    res.trade.event_time_ms, std::numeric_limits<std::int64_t>::max());
  CAF_CHECK_EQUAL(
    res.trade.trade_time_ms, std::numeric_limits<std::int64_t>::max());
  // One more than int64 max does not fit.
  check_status(to_json(with(doc_members(), "t", "9223372036854775808")),
    "invalid_field", "t");
  check_status(to_json(with(doc_members(), "t", "18446744073709551616")),
    "invalid_field", "t");
  // Trade id 0 is possible.
  res = parse(to_json(with(doc_members(), "t", "0")));
  CAF_CHECK_EQUAL(status_of(res), "trade");
  CAF_CHECK_EQUAL(res.trade.id, 0);
}

CAF_TEST(prices and quantities keep all eight decimals) {
  auto members = with(doc_members(), "p", R"("98765.43210987")");
  members = with(members, "q", R"("0.00000001")");
  auto res = parse(to_json(members));
  CAF_REQUIRE_EQUAL(status_of(res), "trade");
  CAF_CHECK_EQUAL(res.trade.price.units, 9'876'543'210'987LL);
  CAF_CHECK_EQUAL(res.trade.quantity.units, 1);
  res = parse(to_json(with(doc_members(), "m", "false")));
  CAF_REQUIRE_EQUAL(status_of(res), "trade");
  CAF_CHECK_EQUAL(res.trade.buyer_is_maker, false);
}

CAF_TEST(truncated messages are malformed) {
  std::string full = doc_example;
  for (std::size_t cut = 0; cut < full.size(); ++cut)
    check_status(full.substr(0, cut), "malformed_json");
  auto wrapped = wrap("bnbbtc@trade", doc_example);
  for (std::size_t cut : {std::size_t{1}, std::size_t{10}, std::size_t{30},
         wrapped.size() - 2, wrapped.size() - 1})
    check_status(wrapped.substr(0, cut), "malformed_json");
}

CAF_TEST(text that is not JSON is malformed) {
  for (const char* line : {"", " ", "hello", "trade", "{e:trade}",
         "{'e':'trade'}", "{\"e\":\"trade\"}}", "{} {}", "{\"e\" \"trade\"}",
         "[1,2", "{\"e\":\"trade\",}", "{\"a\":tru}", "{\"a\":nul}",
         "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":\"\\x\"}",
         "{\"a\":[1,]}", "\x01\x02", "{\"a\":\"\xff\"}", "nulls", "42 43",
         "{\"a\":\"x\x01y\"}", "{\"a\x01\":1}", "{\"\\u00\":1}",
         "{\"a\":\"\\ud800\"}", "{\"a\":\"\\u12G4\"}"})
    check_status(line, "malformed_json");
  // Malformed values are found in unknown fields and after errors, too.
  check_status(to_json(with(doc_members(), "M", "tru")), "malformed_json");
  check_status(to_json(with(doc_members(), "M", "[1,,2]")), "malformed_json");
  check_status(
    to_json(with(doc_members(), "t", "\"12\\q\"")), "malformed_json");
  check_status(to_json(with(doc_members(), "p", "1.2.3")), "malformed_json");
  check_status(std::string(doc_example) + "x", "malformed_json");
}

CAF_TEST(every required field is checked) {
  for (const char* key : {"E", "s", "t", "p", "q", "T", "m"}) {
    CAF_MESSAGE("without " << key);
    check_status(to_json(without(doc_members(), key)), "missing_field", key);
    check_status(wrap("bnbbtc@trade", to_json(without(doc_members(), key))),
      "missing_field", key);
  }
  // Without "e" nothing says this is a trade.
  check_status(to_json(without(doc_members(), "e")), "unexpected_message");
}

CAF_TEST(fields with the wrong type or an impossible value) {
  struct bad_case {
    const char* key;
    const char* value;
  };
  for (auto [key, value] : {
         bad_case{"p", "0.001"},           // number instead of string
         bad_case{"p", "\"abc\""},         // not a decimal
         bad_case{"p", "\"\""},            // empty
         bad_case{"p", "\"1e-3\""},        // exponent
         bad_case{"p", "\"0\""},           // zero price
         bad_case{"p", "\"-0.5\""},        // negative price
         bad_case{"p", "\"0.000000001\""}, // finer than 1e-8
         bad_case{"p", "null"},            //
         bad_case{"q", "\"-1\""},          // negative quantity
         bad_case{"q", "\"0.00000000\""},  // zero quantity
         bad_case{"q", "100"},             //
         bad_case{"t", "\"12345\""},       // id as string
         bad_case{"t", "-1"},              // negative id
         bad_case{"t", "1.5"},             //
         bad_case{"t", "1e3"},             //
         bad_case{"E", "0"},               //
         bad_case{"E", "\"1672515782136\""}, bad_case{"T", "-1672515782136"}, //
         bad_case{"T", "true"},                                               //
         bad_case{"m", "\"true\""},                                           //
         bad_case{"m", "1"},                                                  //
         bad_case{"s", "\"bnbbtc\""},                          // lower case
         bad_case{"s", "\"BNB-BTC\""},                         //
         bad_case{"s", "\"\""},                                //
         bad_case{"s", "\"ABCDEFGHIJKLMNOPQRSTUVWXYZ01234\""}, // 31 chars
         bad_case{"s", "[\"BNBBTC\"]"},                        //
         bad_case{"e", "5"},                                   //
         bad_case{"e", "{}"},                                  //
       }) {
    CAF_MESSAGE(key << " = " << value);
    check_status(
      to_json(with(doc_members(), key, value)), "invalid_field", key);
  }
  // The longest accepted symbol.
  auto res = parse(
    to_json(with(doc_members(), "s", "\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123\"")));
  CAF_CHECK_EQUAL(status_of(res), "trade");
  CAF_CHECK_EQUAL(symbol_of(res), "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123");
  // Fields are checked in a fixed order: E, s, t, p, q, T, m.
  auto members = with(doc_members(), "m", "0");
  members = with(members, "p", "1");
  members = without(members, "t");
  check_status(to_json(members), "missing_field", "t");
}

CAF_TEST(other event types are classified not rejected) {
  check_status(R"({"e":"aggTrade","E":123456789,"s":"BNBBTC","a":12345,)"
               R"("p":"0.001","q":"100","f":100,"l":105,"T":123456785,)"
               R"("m":true,"M":true})",
    "other_event");
  check_status(
    wrap("bnbbtc@kline_1m",
      R"({"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1,"T":2,)"
      R"("s":"BNBBTC","i":"1m","o":"0.0010","c":"0.0020","x":false}})"),
    "other_event");
  check_status(to_json(with(doc_members(), "e", "\"Trade\"")), "other_event");
  // Another event type does not need trade fields.
  check_status(R"({"e":"24hrTicker"})", "other_event");
}

CAF_TEST(subscription and error responses) {
  auto res = parse(R"({"result":null,"id":1})");
  CAF_CHECK_EQUAL(status_of(res), "subscription_result");
  CAF_CHECK_EQUAL(res.request_id, 1);
  res = parse(R"({"id":7,"result":["btcusdt@trade","ethusdt@trade"]})");
  CAF_CHECK_EQUAL(status_of(res), "subscription_result");
  CAF_CHECK_EQUAL(res.request_id, 7);
  res = parse(R"({"result":null,"id":"abc"})");
  CAF_CHECK_EQUAL(status_of(res), "subscription_result");
  CAF_CHECK_EQUAL(res.request_id, -1);
  res = parse(R"({"error":{"code":2,"msg":"Invalid request: unknown variant )"
              R"(`SUBSCRIBEX`"},"id":3})");
  CAF_CHECK_EQUAL(status_of(res), "error_response");
  CAF_CHECK_EQUAL(res.error_code, 2);
  CAF_CHECK_EQUAL(res.request_id, 3);
  res
    = parse(R"({"id":null,"error":{"msg":"Too many requests","code":-1003}})");
  CAF_CHECK_EQUAL(status_of(res), "error_response");
  CAF_CHECK_EQUAL(res.error_code, -1003);
  CAF_CHECK_EQUAL(res.request_id, -1);
  CAF_CHECK_EQUAL(symbol_of(res), "");
  // "result" without "id" is not a reply to anything.
  check_status(R"({"result":null})", "unexpected_message");
}

CAF_TEST(valid JSON of another shape is unexpected) {
  for (const char* line : {"{}", "[]", "[1,2]", "42", "\"trade\"", "null",
         "true", R"({"id":1})", R"({"foo":{"e":"trade"}})"})
    check_status(line, "unexpected_message");
}

CAF_TEST(frames need no padding and results outlive the next parse) {
  std::string text = wrap("bnbbtc@trade", doc_example);
  // Exactly sized heap block: reading past its end would be caught by ASan.
  auto block = std::make_unique<char[]>(text.size());
  std::memcpy(block.get(), text.data(), text.size());
  auto first = parser.parse(std::string_view{block.get(), text.size()});
  block.reset();
  auto second = parser.parse(to_json(with(doc_members(), "s", "\"ETHBTC\"")));
  check_doc_trade(first);
  CAF_CHECK_EQUAL(symbol_of(second), "ETHBTC");
  // A large frame, then a small one: the buffer is reused.
  std::string big = to_json(
    with(doc_members(), "M", "\"" + std::string(100'000, 'x') + "\""));
  check_doc_trade(parser.parse(big));
  check_doc_trade(parser.parse(doc_example));
  // A view into the middle of a larger string.
  std::string padded = std::string("garbage") + doc_example + "garbage";
  check_doc_trade(
    parser.parse(std::string_view{padded}.substr(7, std::strlen(doc_example))));
}

CAF_TEST(frames above the size limit are rejected) {
  binance_parser small{64};
  CAF_CHECK_EQUAL(status_of(small.parse(doc_example)), "unexpected_message");
  CAF_CHECK_EQUAL(
    status_of(small.parse(R"({"result":null,"id":1})")), "subscription_result");
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

// A generated message and what the parser must make of it, known from the
// generator.
struct sample {
  std::string line;
  std::string status;
  std::string field;
  std::string symbol;
  csp::messages::trade trade;
};

std::string units_to_string(std::int64_t units, bool trim) {
  char buf[64];
  auto whole = static_cast<long long>(units / 100'000'000);
  auto frac = static_cast<long long>(units % 100'000'000);
  std::snprintf(buf, sizeof(buf), "%lld.%08lld", whole, frac);
  std::string out = buf;
  if (trim) {
    while (out.back() == '0')
      out.pop_back();
    if (out.back() == '.')
      out.pop_back();
  }
  return out;
}

class generator {
public:
  explicit generator(std::uint64_t seed) : rng_(seed) {}

  sample next() {
    sample out;
    auto symbol = random_symbol();
    auto& tr = out.trade;
    tr.id = pick(0, std::numeric_limits<std::int64_t>::max());
    tr.price.units = pick(1, 1'000'000'000'000'000LL);
    tr.quantity.units = pick(1, 10'000'000'000'000LL);
    tr.trade_time_ms = pick(1, 4'102'444'800'000LL);
    tr.event_time_ms = tr.trade_time_ms + pick(0, 50);
    tr.buyer_is_maker = pick(0, 1) == 1;
    std::vector<member> members{
      {"e", "\"trade\""},
      {"E", std::to_string(tr.event_time_ms)},
      {"s", "\"" + symbol + "\""},
      {"t", std::to_string(tr.id)},
      {"p", "\"" + units_to_string(tr.price.units, pick(0, 1) == 1) + "\""},
      {"q", "\"" + units_to_string(tr.quantity.units, pick(0, 1) == 1) + "\""},
      {"T", std::to_string(tr.trade_time_ms)},
      {"m", tr.buyer_is_maker ? "true" : "false"},
    };
    if (pick(0, 1) == 1)
      members.emplace_back("M", "true");
    if (pick(0, 3) == 0) {
      members.emplace_back("b", std::to_string(pick(1, 1'000'000'000)));
      members.emplace_back("a", std::to_string(pick(1, 1'000'000'000)));
    }
    if (pick(0, 3) == 0)
      std::shuffle(members.begin(), members.end(), rng_);
    out.status = "trade";
    out.symbol = symbol;
    static const char* required[] = {"E", "s", "t", "p", "q", "T", "m"};
    bool truncate = false;
    bool trailing = false;
    switch (pick(0, 12)) {
      case 0: { // a required field goes missing
        std::string key = required[pick(0, 6)];
        members = without(members, key);
        fail(out, "missing_field", key);
        break;
      }
      case 1:
        members = with(members, "p", units_to_string(tr.price.units, true));
        fail(out, "invalid_field", "p");
        break;
      case 2:
        members = with(members, "p", "\"abc\"");
        fail(out, "invalid_field", "p");
        break;
      case 3:
        members = with(members, "q",
          "\"-" + units_to_string(tr.quantity.units, false) + "\"");
        fail(out, "invalid_field", "q");
        break;
      case 4:
        members = with(members, "t", "\"" + std::to_string(tr.id) + "\"");
        fail(out, "invalid_field", "t");
        break;
      case 5: {
        std::string lower = symbol;
        for (auto& c : lower)
          if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        bool has_letter = lower != symbol;
        members = with(members, "s", "\"" + lower + "\"");
        if (has_letter)
          fail(out, "invalid_field", "s");
        break;
      }
      case 6:
        members = with(members, "e", "\"aggTrade\"");
        fail(out, "other_event", "");
        break;
      case 7:
        truncate = true;
        fail(out, "malformed_json", "");
        break;
      case 8:
        trailing = true;
        fail(out, "malformed_json", "");
        break;
      default:
        break; // a good trade
    }
    auto body = to_json(members);
    if (pick(0, 2) != 0) {
      std::string stream = symbol;
      std::transform(stream.begin(), stream.end(), stream.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
      });
      body = wrap(stream + "@trade", body);
    }
    if (truncate)
      body.resize(static_cast<std::size_t>(
        pick(0, static_cast<std::int64_t>(body.size()) - 1)));
    if (trailing)
      body += pick(0, 1) == 1 ? "}" : ",";
    out.line = std::move(body);
    return out;
  }

private:
  static void fail(sample& out, const char* status, std::string field) {
    out.status = status;
    out.field = std::move(field);
  }

  std::int64_t pick(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>{lo, hi}(rng_);
  }

  std::string random_symbol() {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    auto size = pick(3, 12);
    std::string out;
    for (std::int64_t i = 0; i < size; ++i)
      out += alphabet[pick(0, 35)];
    return out;
  }

  std::mt19937_64 rng_;
};

} // namespace

CAF_TEST(both implementations agree with the generator) {
  generator gen{20240601};
  binance_parser parser;
  int counts[2] = {0, 0};
  for (int i = 0; i < 4000; ++i) {
    auto expected = gen.next();
    auto fast = parser.parse(expected.line);
    auto slow = parse_trade_line_nlohmann(expected.line);
    for (const auto* res : {&fast, &slow}) {
      bool ok = status_of(*res) == expected.status
        && field_of(*res) == expected.field;
      if (ok && expected.status == "trade")
        ok = symbol_of(*res) == expected.symbol && res->trade == expected.trade;
      if (!ok)
        CAF_MESSAGE("mismatch on " << expected.line << ": got "
                                   << status_of(*res) << " " << field_of(*res));
      CAF_CHECK(ok);
    }
    ++counts[expected.status == "trade" ? 0 : 1];
  }
  // The generator covers both good and bad messages.
  CAF_CHECK_GREATER(counts[0], 1000);
  CAF_CHECK_GREATER(counts[1], 1000);
}
