#include "actors/yahoo_chart.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

namespace csp::actors {

namespace {

chart_result failure(std::string why) {
  chart_result result;
  result.error = std::move(why);
  return result;
}

bool number_at(const nlohmann::json& arr, std::size_t i, double& out) {
  if (!arr.is_array() || i >= arr.size() || !arr[i].is_number())
    return false;
  out = arr[i].get<double>();
  return std::isfinite(out);
}

} // namespace

chart_result parse_yahoo_chart(std::string_view body, std::string_view exchange,
  std::string_view symbol, std::int64_t now_ms) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded())
    return failure("malformed_json");
  if (!doc.is_object() || !doc.contains("chart") || !doc["chart"].is_object())
    return failure("unexpected_shape");
  const auto& chart = doc["chart"];
  if (auto err = chart.find("error"); err != chart.end() && !err->is_null()) {
    std::string code = "unknown";
    if (err->is_object() && err->contains("code") && (*err)["code"].is_string())
      code = (*err)["code"].get<std::string>();
    return failure("chart_error: " + code);
  }
  auto res = chart.find("result");
  if (res == chart.end() || !res->is_array() || res->empty()
    || !(*res)[0].is_object())
    return failure("unexpected_shape");
  const auto& r0 = (*res)[0];
  chart_result result;
  result.ok = true;
  auto ts = r0.find("timestamp");
  if (ts == r0.end() || ts->is_null())
    return result; // no candles yet (e.g. before the open)
  if (!ts->is_array())
    return failure("unexpected_shape");
  const nlohmann::json* quote = nullptr;
  if (auto ind = r0.find("indicators"); ind != r0.end() && ind->is_object()
      && ind->contains("quote") && (*ind)["quote"].is_array()
      && !(*ind)["quote"].empty() && (*ind)["quote"][0].is_object())
    quote = &(*ind)["quote"][0];
  if (quote == nullptr)
    return failure("unexpected_shape");
  static const nlohmann::json null_array = nlohmann::json::array();
  auto field = [&](const char* key) -> const nlohmann::json& {
    auto it = quote->find(key);
    return it == quote->end() ? null_array : *it;
  };
  const auto& opens = field("open");
  const auto& highs = field("high");
  const auto& lows = field("low");
  const auto& closes = field("close");
  const auto& volumes = field("volume");
  for (std::size_t i = 0; i < ts->size(); ++i) {
    if (!(*ts)[i].is_number_integer())
      continue;
    double o, h, l, c;
    if (!number_at(opens, i, o) || !number_at(highs, i, h)
      || !number_at(lows, i, l) || !number_at(closes, i, c))
      continue;
    double v = 0;
    if (!number_at(volumes, i, v) || v < 0)
      v = 0;
    auto sec = (*ts)[i].get<std::int64_t>();
    auto open_ms = sec * 1000;
    open_ms -= ((open_ms % 60'000) + 60'000) % 60'000;
    messages::bar b;
    b.exchange = std::string{exchange};
    b.symbol = std::string{symbol};
    b.tf = messages::timeframe::m1;
    b.open_time_ms = open_ms;
    b.close_time_ms = open_ms + 60'000 - 1;
    b.open = messages::decimal::from_double(o);
    b.high = messages::decimal::from_double(h);
    b.low = messages::decimal::from_double(l);
    b.close = messages::decimal::from_double(c);
    b.volume.units = static_cast<messages::int128>(std::llround(v))
      * messages::decimal_scale;
    b.closed = open_ms + 60'000 <= now_ms;
    if (!result.candles.empty()
      && result.candles.back().open_time_ms == open_ms)
      result.candles.back() = std::move(b);
    else if (result.candles.empty()
      || result.candles.back().open_time_ms < open_ms)
      result.candles.push_back(std::move(b));
  }
  return result;
}

} // namespace csp::actors
