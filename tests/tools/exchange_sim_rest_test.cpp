#define CAF_SUITE exchange_sim_rest
#include "caf/test/unit_test.hpp"

#include <thread>

#include <nlohmann/json.hpp>

#include "sim_client.hpp"
#include "sim_fixture.hpp"
#include "tools/exchange_sim/sim_config.hpp"

using namespace csp;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json get_json(std::uint16_t port, const std::string& target, int status) {
  auto reply = test::http_request(port, "GET", target);
  CAF_CHECK_EQUAL(reply.status, status);
  auto j = json::parse(reply.body, nullptr, false);
  CAF_CHECK(!j.is_discarded());
  return j;
}

/// Polls the flushed log until it holds a trade of `symbol` with trade time
/// at or after `until_ms` (bounded by 5 s).
bool wait_for_log(
  test::sim_fixture& fx, const std::string& symbol, std::int64_t until_ms) {
  auto start = std::chrono::steady_clock::now();
  while (test::ms_since(start) < 5000) {
    fx.sim->flush();
    auto log = fx.logged(symbol);
    if (!log.empty() && log.rbegin()->second.trade_time_ms >= until_ms)
      return true;
    std::this_thread::yield();
  }
  return false;
}

std::int64_t units(const json& v) {
  messages::decimal d;
  CAF_CHECK(messages::parse_decimal(v.get<std::string>(), d));
  return d.units;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(exchange_sim_rest_tests, test::sim_fixture)

CAF_TEST(ping time and exchange info) {
  CAF_REQUIRE(start(config()));
  auto port = sim->port();
  CAF_CHECK_EQUAL(get_json(port, "/api/v3/ping", 200), json::object());
  CAF_CHECK(get_json(port, "/api/v3/time", 200).at("serverTime").is_number());
  auto info = get_json(port, "/api/v3/exchangeInfo", 200);
  auto& syms = info.at("symbols");
  CAF_REQUIRE_EQUAL(syms.size(), 2u);
  auto& btc = syms[0];
  CAF_CHECK_EQUAL(btc.at("symbol"), "BTCUSDT");
  CAF_CHECK_EQUAL(btc.at("status"), "TRADING");
  CAF_CHECK_EQUAL(btc.at("baseAsset"), "BTC");
  CAF_CHECK_EQUAL(btc.at("quoteAsset"), "USDT");
  CAF_CHECK_EQUAL(btc.at("filters")[0].at("filterType"), "PRICE_FILTER");
  CAF_CHECK_EQUAL(btc.at("filters")[0].at("tickSize"), "0.01000000");
  CAF_CHECK_EQUAL(btc.at("filters")[1].at("filterType"), "LOT_SIZE");
  CAF_CHECK_EQUAL(btc.at("filters")[1].at("stepSize"), "0.00001000");
  auto one = get_json(port, "/api/v3/exchangeInfo?symbol=ETHUSDT", 200);
  CAF_CHECK_EQUAL(one.at("symbols").size(), 1u);
}

CAF_TEST(historical trades equal the logged trades) {
  CAF_REQUIRE(start(config()));
  CAF_REQUIRE(wait_for_log(*this, "ETHUSDT", 0));
  auto log = logged("ETHUSDT");
  while (log.size() < 30) {
    CAF_REQUIRE(
      wait_for_log(*this, "ETHUSDT", log.rbegin()->second.trade_time_ms + 1));
    log = logged("ETHUSDT");
  }
  auto j = get_json(sim->port(),
    "/api/v3/historicalTrades?symbol=ETHUSDT&fromId=5&limit=20", 200);
  CAF_REQUIRE_EQUAL(j.size(), 20u);
  for (std::size_t i = 0; i < j.size(); ++i) {
    auto id = static_cast<std::int64_t>(5 + i);
    auto& t = log.at(id);
    CAF_CHECK_EQUAL(j[i].at("id"), id);
    CAF_CHECK_EQUAL(units(j[i].at("price")), t.price.units);
    CAF_CHECK_EQUAL(units(j[i].at("qty")), t.quantity.units);
    CAF_CHECK_EQUAL(j[i].at("time"), t.trade_time_ms);
    CAF_CHECK_EQUAL(j[i].at("isBuyerMaker"), t.buyer_is_maker);
    CAF_CHECK_EQUAL(j[i].at("isBestMatch"), true);
    auto quote = static_cast<double>(units(j[i].at("quoteQty"))) / 1e8;
    auto expected = t.price.to_double() * t.quantity.to_double();
    CAF_CHECK_LESS(std::abs(quote - expected), 1e-6 * (1 + expected));
  }
  // Without a limit: 500 at most, consecutive ids.
  auto all = get_json(
    sim->port(), "/api/v3/historicalTrades?symbol=ETHUSDT&fromId=1", 200);
  CAF_CHECK_LESS_OR_EQUAL(all.size(), 500u);
  CAF_CHECK_EQUAL(all[0].at("id"), 1);
  CAF_CHECK_EQUAL(all.back().at("id"), static_cast<int>(all.size()));
}

CAF_TEST(klines match the logged trades) {
  CAF_REQUIRE(start(config()));
  CAF_REQUIRE(wait_for_log(*this, "BTCUSDT", 0));
  auto first = logged("BTCUSDT").begin()->second.trade_time_ms;
  auto first_open = first - first % 1000;
  // Two complete seconds after the first trade's second.
  CAF_REQUIRE(wait_for_log(*this, "BTCUSDT", first_open + 3000));
  auto log = logged("BTCUSDT");
  auto j = get_json(sim->port(),
    "/api/v3/klines?symbol=BTCUSDT&interval=1s&startTime="
      + std::to_string(first_open)
      + "&endTime=" + std::to_string(first_open + 2000),
    200);
  CAF_REQUIRE_EQUAL(j.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    auto open = first_open + static_cast<std::int64_t>(k) * 1000;
    // Reference aggregation of the log.
    std::int64_t o = 0, h = 0, l = 0, c = 0, vol = 0, n = 0;
    for (auto& [id, t] : log) {
      if (t.trade_time_ms < open || t.trade_time_ms >= open + 1000)
        continue;
      auto p = t.price.units;
      if (n == 0)
        o = h = l = p;
      h = std::max(h, p);
      l = std::min(l, p);
      c = p;
      vol += t.quantity.units;
      ++n;
    }
    auto& row = j[k];
    CAF_CHECK_EQUAL(row[0], open);
    CAF_CHECK_EQUAL(row[6], open + 999);
    CAF_CHECK_EQUAL(row[8], n);
    if (n > 0) {
      CAF_CHECK_EQUAL(units(row[1]), o);
      CAF_CHECK_EQUAL(units(row[2]), h);
      CAF_CHECK_EQUAL(units(row[3]), l);
      CAF_CHECK_EQUAL(units(row[4]), c);
    }
    CAF_CHECK_EQUAL(units(row[5]), vol);
  }
  auto latest = get_json(
    sim->port(), "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1", 200);
  CAF_CHECK_EQUAL(latest.size(), 1u);
}

CAF_TEST(bad parameters get binance error json) {
  CAF_REQUIRE(start(config()));
  auto port = sim->port();
  auto code = [port](const std::string& target) {
    auto j = get_json(port, target, 400);
    CAF_CHECK(j.at("msg").is_string());
    return j.at("code").get<int>();
  };
  CAF_CHECK_EQUAL(code("/api/v3/historicalTrades?symbol=NOPE"), -1121);
  CAF_CHECK_EQUAL(code("/api/v3/historicalTrades"), -1102);
  CAF_CHECK_EQUAL(
    code("/api/v3/historicalTrades?symbol=BTCUSDT&fromId=x"), -1100);
  CAF_CHECK_EQUAL(
    code("/api/v3/historicalTrades?symbol=BTCUSDT&limit=1001"), -1130);
  CAF_CHECK_EQUAL(code("/api/v3/klines?symbol=BTCUSDT&interval=7m"), -1120);
  CAF_CHECK_EQUAL(code("/api/v3/klines?symbol=BTCUSDT"), -1102);
  auto invalid = get_json(port, "/api/v3/klines?symbol=XX&interval=1m", 400);
  CAF_CHECK_EQUAL(
    invalid, json::parse(R"({"code":-1121,"msg":"Invalid symbol."})"));
}

CAF_TEST(chart api returns yahoo shaped candles) {
  CAF_REQUIRE(start(config()));
  auto j
    = get_json(sim->port(), "/v8/finance/chart/AAPL?interval=1m&range=1d", 200);
  CAF_CHECK(j.at("chart").at("error").is_null());
  auto& res = j.at("chart").at("result")[0];
  CAF_CHECK_EQUAL(res.at("meta").at("symbol"), "AAPL");
  CAF_CHECK_EQUAL(res.at("meta").at("dataGranularity"), "1m");
  auto& ts = res.at("timestamp");
  auto& q = res.at("indicators").at("quote")[0];
  CAF_REQUIRE_GREATER(ts.size(), 1000u);
  for (auto key : {"open", "high", "low", "close", "volume"})
    CAF_CHECK_EQUAL(q.at(key).size(), ts.size());
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (i > 0)
      CAF_CHECK_EQUAL(
        ts[i].get<std::int64_t>() - ts[i - 1].get<std::int64_t>(), 60);
    auto o = q["open"][i].get<double>();
    auto c = q["close"][i].get<double>();
    CAF_CHECK_GREATER_OR_EQUAL(q["high"][i].get<double>(), std::max(o, c));
    CAF_CHECK_LESS_OR_EQUAL(q["low"][i].get<double>(), std::min(o, c));
  }
  auto missing
    = get_json(sim->port(), "/v8/finance/chart/NOPE?interval=1m", 404);
  CAF_CHECK(missing.at("chart").at("result").is_null());
  CAF_CHECK_EQUAL(missing.at("chart").at("error").at("code"), "Not Found");
}

CAF_TEST(http faults carry retry after and 5xx) {
  CAF_REQUIRE(start(config()));
  auto port = sim->port();
  auto set = test::http_request(port, "POST", "/control/faults",
    R"({"http_429_next":2,"retry_after_s":7})");
  CAF_REQUIRE_EQUAL(set.status, 200);
  auto r1 = test::http_request(port, "GET", "/api/v3/ping");
  CAF_CHECK_EQUAL(r1.status, 429);
  CAF_CHECK_EQUAL(r1.retry_after, "7");
  auto r2 = test::http_request(port, "GET", "/v8/finance/chart/AAPL");
  CAF_CHECK_EQUAL(r2.status, 429);
  CAF_CHECK_EQUAL(r2.retry_after, "7");
  CAF_CHECK_EQUAL(test::http_request(port, "GET", "/api/v3/ping").status, 200);
  CAF_REQUIRE_EQUAL(sim->control(R"({"http_5xx_next":1})"), "");
  CAF_CHECK_EQUAL(test::http_request(port, "GET", "/api/v3/ping").status, 503);
  CAF_CHECK_EQUAL(test::http_request(port, "GET", "/api/v3/ping").status, 200);
  auto bad
    = test::http_request(port, "POST", "/control/faults", R"({"skip_prob":2})");
  CAF_CHECK_EQUAL(bad.status, 400);
  CAF_REQUIRE(wait_for_log(*this, "BTCUSDT", 0));
  auto stats
    = json::parse(test::http_request(port, "GET", "/control/stats").body);
  CAF_CHECK_EQUAL(stats.at("faults").at("http_429"), 2);
  CAF_CHECK_EQUAL(stats.at("faults").at("http_5xx"), 1);
  CAF_CHECK_GREATER(stats.at("trades_generated").get<std::int64_t>(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(command line parsing) {
  using tools::parse_cli;
  auto ok = parse_cli({"--listen", "127.0.0.1:0", "--symbols", "BTCUSDT",
    "--rate=500", "--skip-prob", "0.1", "--seed", "9"});
  CAF_CHECK_EQUAL(ok.error, "");
  CAF_CHECK_EQUAL(ok.config.symbols.size(), 1u);
  CAF_CHECK_EQUAL(ok.config.rate, 500.0);
  CAF_CHECK_EQUAL(ok.config.faults.skip_prob, 0.1);
  CAF_CHECK_EQUAL(ok.config.seed, 9u);
  CAF_CHECK_NOT_EQUAL(parse_cli({"--listen", "0.0.0.0:80"}).error, "");
  CAF_CHECK_EQUAL(
    parse_cli({"--listen", "0.0.0.0:80", "--allow-non-loopback"}).error, "");
  CAF_CHECK_NOT_EQUAL(parse_cli({"--skip-prob", "1.5"}).error, "");
  CAF_CHECK_NOT_EQUAL(parse_cli({"--tls-cert", "a.pem"}).error, "");
  CAF_CHECK_NOT_EQUAL(parse_cli({"--bogus", "1"}).error, "");
  CAF_CHECK(parse_cli({"--help"}).help);
  CAF_CHECK(tools::cli_help().find("--drop-every-s") != std::string::npos);
}
