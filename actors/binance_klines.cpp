#include "actors/binance_klines.hpp"

#include <nlohmann/json.hpp>

namespace csp::actors {

namespace {

bool decimal_field(const nlohmann::json& v, messages::decimal& out) {
  return v.is_string() && messages::parse_decimal(v.get<std::string>(), out);
}

bool wide_field(const nlohmann::json& v, messages::wide_decimal& out) {
  messages::decimal d;
  if (!decimal_field(v, d))
    return false;
  out.units = d.units;
  return true;
}

} // namespace

std::optional<std::vector<messages::bar>> parse_klines(std::string_view body,
  const std::string& exchange, const std::string& symbol,
  messages::timeframe tf, std::string& error) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    error = "klines answer is not a JSON array";
    if (doc.is_object() && doc.contains("msg") && doc["msg"].is_string())
      error += ": " + doc["msg"].get<std::string>();
    return std::nullopt;
  }
  auto len = messages::duration_ms(tf);
  std::vector<messages::bar> out;
  out.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto& k = doc[i];
    auto where = "kline " + std::to_string(i) + ": ";
    if (!k.is_array() || k.size() < 11 || !k[0].is_number_integer()
      || !k[6].is_number_integer() || !k[8].is_number_integer()) {
      error = where + "not [openTime, o, h, l, c, v, closeTime, q, n, V, Q]";
      return std::nullopt;
    }
    messages::bar b;
    b.exchange = exchange;
    b.symbol = symbol;
    b.tf = tf;
    b.open_time_ms = k[0].get<std::int64_t>();
    b.close_time_ms = k[6].get<std::int64_t>();
    if (messages::bucket_open(b.open_time_ms, tf) != b.open_time_ms
      || b.close_time_ms != b.open_time_ms + len - 1) {
      error = where + "not a " + std::string{messages::to_string(tf)}
        + " bar (open " + std::to_string(b.open_time_ms) + ", close "
        + std::to_string(b.close_time_ms) + ")";
      return std::nullopt;
    }
    if (!decimal_field(k[1], b.open) || !decimal_field(k[2], b.high)
      || !decimal_field(k[3], b.low) || !decimal_field(k[4], b.close)
      || !wide_field(k[5], b.volume) || !wide_field(k[7], b.quote_volume)
      || !wide_field(k[9], b.taker_buy_volume)
      || !wide_field(k[10], b.taker_buy_quote_volume)) {
      error = where + "a price or volume is not an exact decimal string";
      return std::nullopt;
    }
    if (b.low > b.high || b.open > b.high || b.close > b.high || b.open < b.low
      || b.close < b.low) {
      error = where + "prices are not within [low, high]";
      return std::nullopt;
    }
    b.trade_count = k[8].get<std::int64_t>();
    b.closed = true;
    if (!out.empty() && b.open_time_ms <= out.back().open_time_ms) {
      error = where + "open times are not increasing";
      return std::nullopt;
    }
    out.push_back(std::move(b));
  }
  return out;
}

std::string klines_target(std::string_view symbol, messages::timeframe tf,
  std::int64_t start_ms, std::int64_t end_ms, int limit) {
  std::string out = "/api/v3/klines?symbol=";
  out += symbol;
  out += "&interval=";
  out += messages::to_string(tf);
  out += "&startTime=" + std::to_string(start_ms);
  out += "&endTime=" + std::to_string(end_ms);
  out += "&limit=" + std::to_string(limit);
  return out;
}

} // namespace csp::actors
