#define CAF_SUITE api.rest_format
#include "caf/test/unit_test.hpp"

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/binance_klines.hpp"
#include "api/rest_format.hpp"
#include "messages/calendar.hpp"
#include "tests/api/api_test_support.hpp"

using namespace csp;
using namespace csp::api;
using namespace csp::api_test;
using messages::timeframe;
using nlohmann::json;

namespace {

constexpr std::int64_t t0 = 1'705'276'800'000; // 2024-01-15 00:00 UTC

std::vector<messages::bar> three_bars(timeframe tf) {
  auto d = messages::duration_ms(tf);
  std::vector<messages::bar> bars{make_bar(t0, 4'200'000'000'000, tf),
    make_bar(t0 + d, 4'210'000'000'001, tf),
    make_bar(t0 + 2 * d, 150'000'000, tf)};
  bars[1].trade_count = 0;
  bars[1].volume.units = 0;
  return bars;
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  for (;;) {
    auto next = s.find(sep, pos);
    out.push_back(s.substr(pos, next - pos));
    if (next == std::string::npos)
      return out;
    pos = next + sep.size();
  }
}

/// Reads "YYYY-MM-DDTHH:MM:SS.mmmZ" back into ms since the epoch; -1 when
/// the text has another form.
std::int64_t read_iso8601(const std::string& s) {
  if (s.size() != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T'
    || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z')
    return -1;
  auto num = [&](std::size_t pos, std::size_t len) {
    return std::stoll(s.substr(pos, len));
  };
  auto days = messages::days_from_civil(static_cast<int>(num(0, 4)),
    static_cast<int>(num(5, 2)), static_cast<int>(num(8, 2)));
  return days * messages::ms_per_day + num(11, 2) * 3'600'000
    + num(14, 2) * 60'000 + num(17, 2) * 1000 + num(20, 3);
}

} // namespace

CAF_TEST(klines read back with the klines parser) {
  for (auto tf : messages::all_timeframes) {
    auto bars = three_bars(tf);
    auto body = klines_json(bars);
    std::string err;
    auto back = actors::parse_klines(body, "binance", "BTCUSDT", tf, err);
    if (!back)
      CAF_FAIL("klines_json not readable: " << err << " in " << body);
    CAF_REQUIRE_EQUAL(back->size(), bars.size());
    for (std::size_t i = 0; i < bars.size(); ++i) {
      const auto& a = bars[i];
      const auto& b = (*back)[i];
      CAF_CHECK_EQUAL(b.open_time_ms, a.open_time_ms);
      CAF_CHECK_EQUAL(b.close_time_ms, a.close_time_ms);
      CAF_CHECK_EQUAL(b.open.units, a.open.units);
      CAF_CHECK_EQUAL(b.high.units, a.high.units);
      CAF_CHECK_EQUAL(b.low.units, a.low.units);
      CAF_CHECK_EQUAL(b.close.units, a.close.units);
      CAF_CHECK(b.volume == a.volume);
      CAF_CHECK(b.quote_volume == a.quote_volume);
      CAF_CHECK(b.taker_buy_volume == a.taker_buy_volume);
      CAF_CHECK(b.taker_buy_quote_volume == a.taker_buy_quote_volume);
      CAF_CHECK_EQUAL(b.trade_count, a.trade_count);
    }
    // Binance's layout: 12 elements, decimal strings with 8 decimals, the
    // ignored last one "0".
    for (const auto& k : parse(body)) {
      CAF_REQUIRE_EQUAL(k.size(), 12u);
      for (auto i : {1, 2, 3, 4, 5, 7, 9, 10})
        CAF_CHECK(has_8_decimals(k[i].get<std::string>()));
      CAF_CHECK(k[0].is_number_integer() && k[6].is_number_integer()
        && k[8].is_number_integer());
      CAF_CHECK_EQUAL(k[11], "0");
    }
  }
  CAF_CHECK_EQUAL(parse(klines_json({})), json::array());
}

CAF_TEST(chart carries bars with their indicators) {
  auto bars = three_bars(timeframe::h1);
  std::vector<messages::indicator_snapshot> ind{
    make_snapshot(bars[2], 3.0), make_snapshot(bars[0], 1.0)};
  auto j = parse(chart_json("binance", "BTCUSDT", timeframe::h1, bars, ind));
  CAF_CHECK_EQUAL(j.size(), 4u);
  CAF_CHECK_EQUAL(j["exchange"], "binance");
  CAF_CHECK_EQUAL(j["symbol"], "BTCUSDT");
  CAF_CHECK_EQUAL(j["timeframe"], "1h");
  CAF_REQUIRE_EQUAL(j["bars"].size(), 3u);
  std::string why;
  if (!bar_json_matches(j["bars"][0], bars[0], &ind[1], why))
    CAF_FAIL(why);
  if (!bar_json_matches(j["bars"][1], bars[1], nullptr, why))
    CAF_FAIL(why);
  if (!bar_json_matches(j["bars"][2], bars[2], &ind[0], why))
    CAF_FAIL(why);
}

CAF_TEST(iso 8601 times) {
  std::string s;
  append_iso8601_ms(s, t0 + 36'059'999);
  CAF_CHECK_EQUAL(s, "2024-01-15T10:00:59.999Z");
  s.clear();
  append_iso8601_ms(s, -1);
  CAF_CHECK_EQUAL(s, "1969-12-31T23:59:59.999Z");
  s.clear();
  append_iso8601_ms(s, 951'782'400'000); // leap day 2000
  CAF_CHECK_EQUAL(s, "2000-02-29T00:00:00.000Z");
}

CAF_TEST(csv export reads back) {
  auto bars = three_bars(timeframe::m15);
  std::vector<messages::indicator_snapshot> ind{make_snapshot(bars[1], 2.0)};
  auto csv = csv_export(bars, ind);
  // CRLF line ends only, and a final one.
  CAF_CHECK_EQUAL(csv.substr(csv.size() - 2), "\r\n");
  for (std::size_t i = 0; i < csv.size(); ++i)
    if (csv[i] == '\n')
      CAF_CHECK(i > 0 && csv[i - 1] == '\r');
  auto lines = split(csv.substr(0, csv.size() - 2), "\r\n");
  CAF_REQUIRE_EQUAL(lines.size(), bars.size() + 1);
  std::string header = "open_time,close_time,open,high,low,close,volume,"
                       "quote_volume,trade_count";
  for (auto name : messages::indicator_names)
    header += "," + std::string{name};
  CAF_CHECK_EQUAL(lines[0], header);
  for (std::size_t r = 0; r < bars.size(); ++r) {
    const auto& b = bars[r];
    auto f = split(lines[r + 1], ",");
    CAF_REQUIRE_EQUAL(f.size(), 9 + messages::indicator_count);
    CAF_CHECK_EQUAL(read_iso8601(f[0]), b.open_time_ms);
    CAF_CHECK_EQUAL(read_iso8601(f[1]), b.close_time_ms);
    CAF_CHECK_EQUAL(units_of(f[2]), b.open.units);
    CAF_CHECK_EQUAL(units_of(f[3]), b.high.units);
    CAF_CHECK_EQUAL(units_of(f[4]), b.low.units);
    CAF_CHECK_EQUAL(units_of(f[5]), b.close.units);
    CAF_CHECK(units_of(f[6]) == b.volume.units);
    CAF_CHECK(units_of(f[7]) == b.quote_volume.units);
    CAF_CHECK_EQUAL(std::stoll(f[8]), b.trade_count);
    for (std::size_t i = 0; i < messages::indicator_count; ++i) {
      const auto& cell = f[9 + i];
      if (r != 1) {
        CAF_CHECK(cell.empty());
        continue;
      }
      auto want = ind[0].values[i];
      if (std::isnan(want)) {
        CAF_CHECK(cell.empty());
      } else {
        char* end = nullptr;
        auto got = std::strtod(cell.c_str(), &end);
        CAF_CHECK(end == cell.c_str() + cell.size());
        CAF_CHECK(same_bits(got, want));
      }
    }
  }
  // The chunked form gives the same document.
  std::string chunked;
  append_csv_header(chunked);
  append_csv_row(chunked, bars[0], nullptr);
  append_csv_row(chunked, bars[1], &ind[0]);
  append_csv_row(chunked, bars[2], nullptr);
  CAF_CHECK_EQUAL(chunked, csv);
}

CAF_TEST(error bodies escape and repair text) {
  struct row {
    std::string in;
    std::string want;
  };
  std::vector<row> rows{
    {"plain", "plain"},
    {"q\"b\\s/\n\r\t\b\f\x01\x1f", "q\"b\\s/\n\r\t\b\f\x01\x1f"},
    {"\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9",
      "\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9"},
    {"a\xFF"
     "b",
      "a\xEF\xBF\xBD"
      "b"},
    {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},                 // overlong '/'
    {"\xE2\x82", "\xEF\xBF\xBD"},                             // truncated
    {"\xE2\x82x", "\xEF\xBF\xBDx"},                           // cut short
    {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, // surrogate
    {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
    {std::string("nul\0x", 5), std::string("nul\0x", 5)},
  };
  for (const auto& r : rows) {
    auto body = error_json("bad_request", r.in);
    auto j = parse(body); // nlohmann refuses invalid UTF-8
    CAF_CHECK_EQUAL(j.size(), 1u);
    CAF_CHECK_EQUAL(j["error"].size(), 2u);
    CAF_CHECK_EQUAL(j["error"]["code"], "bad_request");
    CAF_CHECK_EQUAL(j["error"]["message"].get<std::string>(), r.want);
    for (char c : body)
      CAF_CHECK(static_cast<unsigned char>(c) >= 0x20);
  }
}

CAF_TEST(symbols grouped by exchange) {
  std::vector<storage::symbol_row> rows{{"yahoo", "AAPL", "stock"},
    {"binance", "BTCUSDT", "crypto"}, {"yahoo", "^GSPC", "stock"},
    {"binance", "ETHUSDT", "crypto"}};
  auto j = parse(symbols_json(rows));
  CAF_CHECK_EQUAL(j.size(), 1u);
  const auto& ex = j["exchanges"];
  CAF_CHECK_EQUAL(ex.size(), 2u);
  std::map<std::string, std::size_t> seen;
  for (const auto& r : rows) {
    auto i = seen[r.exchange]++;
    const auto& item = ex[r.exchange][i];
    CAF_CHECK_EQUAL(item.size(), 2u);
    CAF_CHECK_EQUAL(item["symbol"], r.symbol);
    CAF_CHECK_EQUAL(item["asset_class"], r.asset_class);
  }
  CAF_CHECK_EQUAL(ex["binance"].size(), seen["binance"]);
  CAF_CHECK_EQUAL(ex["yahoo"].size(), seen["yahoo"]);
  CAF_CHECK_EQUAL(parse(symbols_json({})), json::parse(R"({"exchanges":{}})"));
}

CAF_TEST(quality report gives every field) {
  messages::quality_report q;
  q.exchange = "binance";
  q.symbol = "ETHUSDT";
  q.time_ms = t0;
  q.window_ms = 300'000;
  q.score = 87.5;
  q.observations = 1234;
  q.failed_checks = {{"id_gap", 2}, {"price_anomaly", 1}};
  q.recent_issues = {{"id_gap", "ids 101..104 missing", 100, t0 - 5},
    {"stale_feed", "no trade for 30 s \"x\"", -1, t0 - 1}};
  auto j = parse(quality_json(q));
  CAF_CHECK_EQUAL(j.size(), 8u);
  CAF_CHECK_EQUAL(j["exchange"], q.exchange);
  CAF_CHECK_EQUAL(j["symbol"], q.symbol);
  CAF_CHECK_EQUAL(j["time"], q.time_ms);
  CAF_CHECK_EQUAL(j["window_ms"], q.window_ms);
  CAF_CHECK_EQUAL(j["score"].get<double>(), q.score);
  CAF_CHECK_EQUAL(j["observations"], q.observations);
  CAF_REQUIRE_EQUAL(j["failed_checks"].size(), q.failed_checks.size());
  for (std::size_t i = 0; i < q.failed_checks.size(); ++i) {
    const auto& c = j["failed_checks"][i];
    CAF_CHECK_EQUAL(c.size(), 2u);
    CAF_CHECK_EQUAL(c["check_type"], q.failed_checks[i].check_type);
    CAF_CHECK_EQUAL(c["failed"], q.failed_checks[i].failed);
  }
  CAF_REQUIRE_EQUAL(j["recent_issues"].size(), q.recent_issues.size());
  for (std::size_t i = 0; i < q.recent_issues.size(); ++i) {
    const auto& r = j["recent_issues"][i];
    const auto& want = q.recent_issues[i];
    CAF_CHECK_EQUAL(r.size(), 4u);
    CAF_CHECK_EQUAL(r["check_type"], want.check_type);
    CAF_CHECK_EQUAL(r["detail"], want.detail);
    if (want.trade_id < 0)
      CAF_CHECK(r["trade_id"].is_null());
    else
      CAF_CHECK_EQUAL(r["trade_id"], want.trade_id);
    CAF_CHECK_EQUAL(r["time"], want.time_ms);
  }
}
