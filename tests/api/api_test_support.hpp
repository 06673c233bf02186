#pragma once

// Bars, indicator snapshots and independent readers shared by the API
// suites.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "caf/test/unit_test.hpp"

#include "messages/bar.hpp"
#include "messages/decimal.hpp"
#include "messages/indicator_snapshot.hpp"

namespace csp::api_test {

/// Parses `text` as JSON; fails the test when it is not.
inline nlohmann::json parse(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    CAF_FAIL("not JSON: " << text);
  return j;
}

/// `z` (a gzip stream) inflated; fails the test when it is not gzip.
inline std::string gunzip(const std::string& z) {
  z_stream s{};
  if (inflateInit2(&s, 15 + 16) != Z_OK)
    CAF_FAIL("inflateInit2 failed");
  std::string out;
  std::string chunk(65'536, '\0');
  // zlib's interface is not const-correct; it does not write the input.
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data())); // NOLINT
  s.avail_in = static_cast<uInt>(z.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    s.next_out = reinterpret_cast<Bytef*>(chunk.data()); // NOLINT
    s.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&s, Z_NO_FLUSH);
    out.append(chunk.data(), chunk.size() - s.avail_out);
  }
  inflateEnd(&s);
  if (rc != Z_STREAM_END)
    CAF_FAIL("not a complete gzip stream");
  return out;
}

/// A closed 1m BTCUSDT bar opening at `open_ms` with prices around `base`
/// (in 1e-8 units) and distinct values in every field.
inline messages::bar make_bar(std::int64_t open_ms, std::int64_t base,
  messages::timeframe tf = messages::timeframe::m1) {
  messages::bar b;
  b.exchange = "binance";
  b.symbol = "BTCUSDT";
  b.tf = tf;
  b.open_time_ms = open_ms;
  b.close_time_ms = messages::close_time(open_ms, tf);
  b.open = messages::decimal::from_units(base + 11);
  b.high = messages::decimal::from_units(base + 250'000'003);
  b.low = messages::decimal::from_units(base - 99'999'999);
  b.close = messages::decimal::from_units(base + 7);
  b.volume.units = 1'234'567'891;
  b.quote_volume.units = 5'209'876'543'210'123;
  b.taker_buy_volume.units = 600'000'001;
  b.taker_buy_quote_volume.units = 2'500'000'000'000'017;
  b.trade_count = 42;
  b.first_trade_id = 1000;
  b.last_trade_id = 1041;
  b.revision = 2;
  b.closed = true;
  return b;
}

/// Indicator values for `b`: some null, the others awkward doubles.
inline messages::indicator_snapshot make_snapshot(
  const messages::bar& b, double seed) {
  messages::indicator_snapshot x;
  x.exchange = b.exchange;
  x.symbol = b.symbol;
  x.tf = b.tf;
  x.open_time_ms = b.open_time_ms;
  x.closed = b.closed;
  for (std::size_t i = 0; i < messages::indicator_count; ++i)
    x.values[i] = i % 5 == 3 ? std::numeric_limits<double>::quiet_NaN()
                             : seed / 3.0 + static_cast<double>(i) * 0.1;
  x.values[0] = 5e-324;
  x.values[1] = 1.7976931348623157e308;
  return x;
}

/// Units of a decimal string read with messages::parse_decimal; fails the
/// check with a sentinel when the text is not an exact decimal.
inline std::int64_t units_of(const nlohmann::json& v) {
  messages::decimal d;
  if (!v.is_string() || !messages::parse_decimal(v.get<std::string>(), d))
    return std::numeric_limits<std::int64_t>::min();
  return d.units;
}

/// True when `s` has exactly 8 digits after its one '.'.
inline bool has_8_decimals(const std::string& s) {
  auto dot = s.find('.');
  return dot != std::string::npos && s.size() - dot - 1 == 8
    && s.find('.', dot + 1) == std::string::npos;
}

/// Bitwise equality of doubles.
inline bool same_bits(double x, double y) {
  return std::memcmp(&x, &y, sizeof(double)) == 0;
}

/// True when `v` (a JSON number or null) is the indicator value `want`.
inline bool indicator_matches(const nlohmann::json& v, double want) {
  if (std::isnan(want))
    return v.is_null();
  return v.is_number() && same_bits(v.get<double>(), want);
}

/// Checks a bar with indicators against the bar and snapshot it was made
/// from: the exact member set, every field read back independently.
inline bool bar_json_matches(const nlohmann::json& j, const messages::bar& b,
  const messages::indicator_snapshot* x, std::string& why) {
  static const std::vector<std::string> members{"exchange", "symbol",
    "timeframe", "open_time", "close_time", "open", "high", "low", "close",
    "volume", "quote_volume", "taker_buy_volume", "taker_buy_quote_volume",
    "trade_count", "first_trade_id", "last_trade_id", "revision", "closed",
    "indicators"};
  auto fail = [&](std::string what) {
    why = std::move(what) + " in " + j.dump();
    return false;
  };
  if (!j.is_object() || j.size() != members.size())
    return fail("not an object of " + std::to_string(members.size()));
  for (const auto& m : members)
    if (!j.contains(m))
      return fail("no " + m);
  if (j["exchange"] != b.exchange || j["symbol"] != b.symbol
    || j["timeframe"] != std::string{messages::to_string(b.tf)})
    return fail("instrument");
  if (j["open_time"] != b.open_time_ms || j["close_time"] != b.close_time_ms)
    return fail("times");
  if (units_of(j["open"]) != b.open.units || units_of(j["high"]) != b.high.units
    || units_of(j["low"]) != b.low.units
    || units_of(j["close"]) != b.close.units)
    return fail("prices");
  if (units_of(j["volume"]) != b.volume.units
    || units_of(j["quote_volume"]) != b.quote_volume.units
    || units_of(j["taker_buy_volume"]) != b.taker_buy_volume.units
    || units_of(j["taker_buy_quote_volume"]) != b.taker_buy_quote_volume.units)
    return fail("volumes");
  if (j["trade_count"] != b.trade_count
    || j["first_trade_id"] != b.first_trade_id
    || j["last_trade_id"] != b.last_trade_id || j["revision"] != b.revision
    || j["closed"] != b.closed)
    return fail("counts");
  const auto& ind = j["indicators"];
  if (x == nullptr)
    return ind.is_null() || fail("indicators not null");
  if (!ind.is_object() || ind.size() != messages::indicator_count)
    return fail("indicators not an object of 19");
  for (std::size_t i = 0; i < messages::indicator_count; ++i) {
    std::string name{messages::indicator_names[i]};
    if (!ind.contains(name) || !indicator_matches(ind[name], x->values[i]))
      return fail("indicator " + name);
  }
  return true;
}

} // namespace csp::api_test
