#include "api/ws_events.hpp"

#include <algorithm>

#include "api/bar_json.hpp"
#include "api/json_text.hpp"

namespace csp::api {

namespace {

void append_instrument(std::string& out, std::string_view exchange,
  std::string_view symbol, messages::timeframe tf) {
  out += "\"exchange\":";
  append_json_string(out, exchange);
  out += ",\"symbol\":";
  append_json_string(out, symbol);
  out += ",\"timeframe\":";
  append_json_string(out, messages::to_string(tf));
}

} // namespace

std::string native_snapshot(std::string_view exchange, std::string_view symbol,
  messages::timeframe tf, const std::vector<messages::bar>& closed,
  const messages::bar* forming,
  const std::vector<messages::indicator_snapshot>& indicators) {
  std::vector<const messages::bar*> order;
  order.reserve(closed.size() + 1);
  for (const auto& b : closed)
    order.push_back(&b);
  std::stable_sort(order.begin(), order.end(),
    [](const messages::bar* x, const messages::bar* y) {
      return x->open_time_ms < y->open_time_ms;
    });
  if (forming != nullptr)
    order.push_back(forming);
  indicator_lookup lookup{indicators};
  std::string out;
  out.reserve(128 + order.size() * 900);
  out += R"({"type":"snapshot",)";
  append_instrument(out, exchange, symbol, tf);
  out += ",\"bars\":[";
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i > 0)
      out += ',';
    append_bar_with_indicators(out, *order[i], lookup.find(*order[i]));
  }
  out += "]}";
  return out;
}

std::string native_bar_update(
  const messages::bar& b, const messages::indicator_snapshot* x) {
  std::string out;
  out.reserve(1000);
  out += R"({"type":"bar",)";
  append_instrument(out, b.exchange, b.symbol, b.tf);
  out += ",\"bar\":";
  append_bar_with_indicators(out, b, x);
  out += '}';
  return out;
}

std::string binance_kline_event(const messages::bar& b, std::int64_t event_ms) {
  std::string out;
  out.reserve(420);
  auto str = [&](std::string_view key, messages::int128 units) {
    out += ",\"";
    out += key;
    out += "\":\"";
    append_fixed8(out, units);
    out += '"';
  };
  auto num = [&](std::string_view key, std::int64_t v) {
    out += ",\"";
    out += key;
    out += "\":";
    append_json_int(out, v);
  };
  out += R"({"e":"kline")";
  num("E", event_ms);
  out += ",\"s\":";
  append_json_string(out, b.symbol);
  out += ",\"k\":{\"t\":";
  append_json_int(out, b.open_time_ms);
  num("T", b.close_time_ms);
  out += ",\"s\":";
  append_json_string(out, b.symbol);
  out += ",\"i\":";
  append_json_string(out, messages::to_string(b.tf));
  num("f", b.first_trade_id);
  num("L", b.last_trade_id);
  str("o", b.open.units);
  str("c", b.close.units);
  str("h", b.high.units);
  str("l", b.low.units);
  str("v", b.volume.units);
  num("n", b.trade_count);
  out += b.closed ? ",\"x\":true" : ",\"x\":false";
  str("q", b.quote_volume.units);
  str("V", b.taker_buy_volume.units);
  str("Q", b.taker_buy_quote_volume.units);
  out += R"(,"B":"0"}})";
  return out;
}

std::string binance_combined(
  std::string_view stream, std::string_view data_json) {
  std::string out;
  out.reserve(stream.size() + data_json.size() + 24);
  out += "{\"stream\":";
  append_json_string(out, stream);
  out += ",\"data\":";
  out += data_json;
  out += '}';
  return out;
}

} // namespace csp::api
