#include "tools/exchange_sim/wire_format.hpp"

#include <charconv>

namespace csp::tools {

namespace {

void append_int(std::string& out, std::int64_t x) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

void append_cents(std::string& out, std::int64_t cents) {
  append_int(out, cents / 100);
  out += '.';
  auto frac = cents % 100;
  out += static_cast<char>('0' + frac / 10);
  out += static_cast<char>('0' + frac % 10);
}

void append_quoted(std::string& out, std::string_view str) {
  out += '"';
  for (char c : str) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20)
      out += c;
  }
  out += '"';
}

void append_fixed8_quoted(std::string& out, messages::int128 units) {
  out += '"';
  append_fixed8(out, units);
  out += '"';
}

} // namespace

void append_fixed8(std::string& out, messages::int128 units) {
  if (units < 0) {
    out += '-';
    units = -units;
  }
  auto integral = units / messages::decimal_scale;
  auto frac = static_cast<std::int64_t>(units % messages::decimal_scale);
  char buf[48];
  std::size_t n = 0;
  do {
    buf[n++] = static_cast<char>('0' + static_cast<int>(integral % 10));
    integral /= 10;
  } while (integral != 0);
  while (n > 0)
    out += buf[--n];
  char digits[9];
  digits[0] = '.';
  for (int k = 8; k >= 1; --k) {
    digits[k] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  out.append(digits, sizeof(digits));
}

void append_trade_event(
  std::string& out, std::string_view symbol, const sim_trade& t) {
  out += R"({"e":"trade","E":)";
  append_int(out, t.event_ms);
  out += R"(,"s":")";
  out += symbol;
  out += R"(","t":)";
  append_int(out, t.id);
  out += R"(,"p":)";
  append_fixed8_quoted(out, t.price);
  out += R"(,"q":)";
  append_fixed8_quoted(out, t.qty);
  out += R"(,"T":)";
  append_int(out, t.time_ms);
  out += t.buyer_maker ? R"(,"m":true,"M":true})" : R"(,"m":false,"M":true})";
}

void append_combined_trade(std::string& out, std::string_view stream,
  std::string_view symbol, const sim_trade& t) {
  out += R"({"stream":")";
  out += stream;
  out += R"(","data":)";
  append_trade_event(out, symbol, t);
  out += '}';
}

std::string binance_error(int code, std::string_view msg) {
  std::string out = R"({"code":)";
  append_int(out, code);
  out += R"(,"msg":)";
  append_quoted(out, msg);
  out += '}';
  return out;
}

std::string historical_trades_json(const std::vector<sim_trade>& trades) {
  std::string out = "[";
  for (auto& t : trades) {
    if (out.size() > 1)
      out += ',';
    out += R"({"id":)";
    append_int(out, t.id);
    out += R"(,"price":)";
    append_fixed8_quoted(out, t.price);
    out += R"(,"qty":)";
    append_fixed8_quoted(out, t.qty);
    out += R"(,"quoteQty":)";
    append_fixed8_quoted(out,
      messages::multiply(messages::decimal{t.price}, messages::decimal{t.qty})
        .units);
    out += R"(,"time":)";
    append_int(out, t.time_ms);
    out
      += t.buyer_maker ? R"(,"isBuyerMaker":true)" : R"(,"isBuyerMaker":false)";
    out += R"(,"isBestMatch":true})";
  }
  out += ']';
  return out;
}

std::string klines_json(const std::vector<kline>& klines) {
  std::string out = "[";
  for (auto& k : klines) {
    if (out.size() > 1)
      out += ',';
    out += '[';
    append_int(out, k.open_time);
    for (auto v : {k.open, k.high, k.low, k.close}) {
      out += ',';
      append_fixed8_quoted(out, v);
    }
    out += ',';
    append_fixed8_quoted(out, k.volume);
    out += ',';
    append_int(out, k.close_time);
    out += ',';
    append_fixed8_quoted(out, k.quote_volume);
    out += ',';
    append_int(out, k.trades);
    out += ',';
    append_fixed8_quoted(out, k.taker_buy_volume);
    out += ',';
    append_fixed8_quoted(out, k.taker_buy_quote_volume);
    out += R"(,"0"])";
  }
  out += ']';
  return out;
}

std::string exchange_info_json(const market& m, int only, std::int64_t now_ms) {
  std::string out = R"({"timezone":"UTC","serverTime":)";
  append_int(out, now_ms);
  out += R"(,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT",)"
         R"("interval":"MINUTE","intervalNum":1,"limit":6000}],)"
         R"("exchangeFilters":[],"symbols":[)";
  bool first = true;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (only >= 0 && static_cast<std::size_t>(only) != i)
      continue;
    auto& s = m.spec(i);
    if (!first)
      out += ',';
    first = false;
    out += R"({"symbol":)";
    append_quoted(out, s.symbol);
    out += R"(,"status":"TRADING","baseAsset":)";
    append_quoted(out, s.base_asset);
    out += R"(,"baseAssetPrecision":8,"quoteAsset":)";
    append_quoted(out, s.quote_asset);
    out += R"(,"quotePrecision":8,"quoteAssetPrecision":8,)"
           R"("orderTypes":["LIMIT","MARKET"],"isSpotTradingAllowed":true,)"
           R"("permissions":["SPOT"],"filters":[{"filterType":"PRICE_FILTER",)"
           R"("minPrice":)";
    append_fixed8_quoted(out, s.tick);
    out += R"(,"maxPrice":"1000000.00000000","tickSize":)";
    append_fixed8_quoted(out, s.tick);
    out += R"(},{"filterType":"LOT_SIZE","minQty":)";
    append_fixed8_quoted(out, s.step);
    out += R"(,"maxQty":"9000.00000000","stepSize":)";
    append_fixed8_quoted(out, s.step);
    out += "}]}";
  }
  out += "]}";
  return out;
}

std::string chart_json(
  const chart_meta& meta, const std::vector<stock_candle>& candles) {
  std::int64_t now_s = meta.now_ms / 1000;
  std::int64_t last_close
    = candles.empty() ? meta.previous_close_cents : candles.back().close;
  std::string out = R"({"chart":{"result":[{"meta":{"currency":"USD",)"
                    R"("symbol":)";
  append_quoted(out, meta.symbol);
  out += R"(,"exchangeName":"NMS","fullExchangeName":"NasdaqGS",)"
         R"("instrumentType":"EQUITY","regularMarketTime":)";
  append_int(out, now_s);
  out += R"(,"gmtoffset":0,"timezone":"UTC","exchangeTimezoneName":"UTC",)"
         R"("regularMarketPrice":)";
  append_cents(out, last_close);
  out += R"(,"chartPreviousClose":)";
  append_cents(out, meta.previous_close_cents);
  out += R"(,"priceHint":2,"dataGranularity":"1m","range":)";
  append_quoted(out, meta.range);
  out += R"(,"validRanges":["1d","5d"]},"timestamp":[)";
  auto list = [&](auto get, bool cents) {
    for (std::size_t k = 0; k < candles.size(); ++k) {
      if (k > 0)
        out += ',';
      if (cents)
        append_cents(out, get(candles[k]));
      else
        append_int(out, get(candles[k]));
    }
  };
  list([](const stock_candle& c) { return c.time_s; }, false);
  out += R"(],"indicators":{"quote":[{"open":[)";
  list([](const stock_candle& c) { return c.open; }, true);
  out += R"(],"high":[)";
  list([](const stock_candle& c) { return c.high; }, true);
  out += R"(],"low":[)";
  list([](const stock_candle& c) { return c.low; }, true);
  out += R"(],"close":[)";
  list([](const stock_candle& c) { return c.close; }, true);
  out += R"(],"volume":[)";
  list([](const stock_candle& c) { return c.volume; }, false);
  out += R"(]}]}}],"error":null}})";
  return out;
}

std::string chart_error(std::string_view code, std::string_view description) {
  std::string out = R"({"chart":{"result":null,"error":{"code":)";
  append_quoted(out, code);
  out += R"(,"description":)";
  append_quoted(out, description);
  out += "}}}";
  return out;
}

} // namespace csp::tools
