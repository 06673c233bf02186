#include "storage/cache_layout.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "messages/json_quote.hpp"
#include "messages/decimal.hpp"
#include "storage/redis_client.hpp"

namespace csp::storage {

// -- keys
// ----------------------------------------------------------------------

std::string cache_keys::instrument_key(std::string_view kind,
  std::string_view exchange, std::string_view symbol,
  messages::timeframe tf) const {
  auto label = messages::to_string(tf);
  std::string out;
  out.reserve(prefix_.size() + kind.size() + exchange.size() + symbol.size()
    + label.size() + 3);
  out += prefix_;
  out += kind;
  out += ':';
  out += exchange;
  out += ':';
  out += symbol;
  out += ':';
  out += label;
  return out;
}

std::string cache_keys::bars(std::string_view exchange, std::string_view symbol,
  messages::timeframe tf) const {
  return instrument_key("bars", exchange, symbol, tf);
}

std::string cache_keys::forming(std::string_view exchange,
  std::string_view symbol, messages::timeframe tf) const {
  return instrument_key("bar:forming", exchange, symbol, tf);
}

std::string cache_keys::indicators(std::string_view exchange,
  std::string_view symbol, messages::timeframe tf) const {
  return instrument_key("indicators", exchange, symbol, tf);
}

std::string cache_keys::health() const {
  return prefix_ + "system:health";
}

std::string cache_keys::chart_updates() const {
  return prefix_ + "chart_updates";
}

std::string cache_keys::trades(std::string_view exchange) const {
  std::string out = prefix_;
  out += "trades:";
  out += exchange;
  return out;
}

// -- JSON output
// ---------------------------------------------------------------

namespace {

void append_escaped(std::string& out, std::string_view s) {
  messages::append_json_quoted(out, s);
}

void append_key(std::string& out, std::string_view key) {
  if (out.back() != '{')
    out += ',';
  out += '"';
  out += key;
  out += "\":";
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

void append_units(std::string& out, messages::int128 units) {
  char buf[64];
  out += '"';
  out.append(buf, messages::format_units(units, buf));
  out += '"';
}

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

// -- JSON input
// ----------------------------------------------------------------

/// A strict reader for the small documents this file writes.
class json_in {
public:
  explicit json_in(std::string_view s) : s_(s) {}

  /// Skips white space; returns the next character or 0 at the end.
  char peek() noexcept {
    while (pos_ < s_.size()
      && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r'
        || s_[pos_] == '\t'))
      ++pos_;
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }

  /// Consumes `c` (after white space) when it is next.
  bool consume(char c) noexcept {
    if (peek() != c)
      return false;
    ++pos_;
    return true;
  }

  bool at_end() noexcept { return peek() == '\0' && pos_ == s_.size(); }

  /// Reads a string; `out` views the input when the string has no escape
  /// sequence, else `scratch` (which then holds the decoded text).
  bool text(std::string_view& out, std::string& scratch) {
    if (peek() != '"')
      return false;
    auto begin = pos_ + 1;
    for (auto i = begin; i < s_.size(); ++i) {
      auto c = static_cast<unsigned char>(s_[i]);
      if (c == '"') {
        out = s_.substr(begin, i - begin);
        pos_ = i + 1;
        return true;
      }
      if (c == '\\' || c < 0x20)
        break;
    }
    if (!decode_string(scratch))
      return false;
    out = scratch;
    return true;
  }

  /// Reads a string into `out`.
  bool string(std::string& out) {
    std::string_view v;
    if (!text(v, out))
      return false;
    if (v.data() != out.data())
      out.assign(v.data(), v.size());
    return true;
  }

  /// Reads a string, decoding escape sequences, into `out`.
  bool decode_string(std::string& out) {
    out.clear();
    if (!consume('"'))
      return false;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size())
        return false;
      switch (s_[pos_++]) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(cp))
            return false;
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  bool integer(std::int64_t& out) noexcept {
    peek();
    auto begin = s_.data() + pos_;
    auto [ptr, ec] = std::from_chars(begin, s_.data() + s_.size(), out);
    if (ec != std::errc{} || ptr == begin)
      return false;
    if (ptr < s_.data() + s_.size() && (*ptr == '.' || *ptr == 'e'))
      return false;
    pos_ = static_cast<std::size_t>(ptr - s_.data());
    return true;
  }

  /// A number or null (NaN).
  bool number_or_null(double& out) noexcept {
    if (peek() == 'n')
      return literal("null") && (out = std::nan(""), true);
    auto begin = s_.data() + pos_;
    auto [ptr, ec] = std::from_chars(begin, s_.data() + s_.size(), out);
    if (ec != std::errc{} || ptr == begin)
      return false;
    pos_ = static_cast<std::size_t>(ptr - s_.data());
    return true;
  }

  bool boolean(bool& out) noexcept {
    if (peek() == 't')
      return literal("true") && (out = true, true);
    return literal("false") && (out = false, true);
  }

  /// Skips any value (for members this reader does not know).
  bool skip_value(int depth = 0) {
    if (depth > 16)
      return false;
    switch (peek()) {
      case '"': {
        std::string tmp;
        return string(tmp);
      }
      case '{':
        return object([&](std::string_view) { return skip_value(depth + 1); });
      case '[':
        return array([&] { return skip_value(depth + 1); });
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      default: {
        double tmp = 0;
        return number_or_null(tmp);
      }
    }
  }

  /// Reads `{"key": value, ...}`, calling `member(key)` to read each value.
  template <class F>
  bool object(F&& member) {
    if (!consume('{'))
      return false;
    if (consume('}'))
      return true;
    std::string_view key;
    do {
      if (!text(key, key_scratch_) || !consume(':') || !member(key))
        return false;
    } while (consume(','));
    return consume('}');
  }

  /// Reads `[value, ...]`, calling `element()` to read each value.
  template <class F>
  bool array(F&& element) {
    if (!consume('['))
      return false;
    if (consume(']'))
      return true;
    do {
      if (!element())
        return false;
    } while (consume(','));
    return consume(']');
  }

private:
  bool literal(std::string_view word) noexcept {
    peek();
    if (s_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }

  bool hex4(unsigned& out) noexcept {
    if (pos_ + 4 > s_.size())
      return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      unsigned d = 0;
      if (c >= '0' && c <= '9')
        d = static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = static_cast<unsigned>(c - 'A' + 10);
      else
        return false;
      out = out * 16 + d;
    }
    return true;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string key_scratch_;
};

bool read_decimal(json_in& in, std::string& tmp, messages::decimal& out) {
  std::string_view v;
  return in.text(v, tmp) && messages::parse_decimal(v, out);
}

/// Parses a plain decimal string with at most 8 fractional digits into
/// 128-bit units.
bool parse_wide(std::string_view s, messages::wide_decimal& out) noexcept {
  bool negative = !s.empty() && s.front() == '-';
  if (negative)
    s.remove_prefix(1);
  auto dot = s.find('.');
  auto integral = s.substr(0, dot);
  auto fraction
    = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (integral.empty() || integral.size() > 29
    || (dot != std::string_view::npos && fraction.empty())
    || fraction.size() > static_cast<std::size_t>(messages::decimal_digits))
    return false;
  // Integral digits in 64-bit chunks of up to 18 digits, the fraction in
  // 64 bits: far cheaper than a 128-bit multiply per digit.
  messages::int128 units = 0;
  std::size_t i = 0;
  while (i < integral.size()) {
    auto n = std::min<std::size_t>(18, integral.size() - i);
    std::uint64_t chunk = 0;
    std::uint64_t scale = 1;
    for (std::size_t k = 0; k < n; ++k, ++i) {
      char c = integral[i];
      if (c < '0' || c > '9')
        return false;
      chunk = chunk * 10 + static_cast<std::uint64_t>(c - '0');
      scale *= 10;
    }
    units = units * static_cast<messages::int128>(scale)
      + static_cast<messages::int128>(chunk);
  }
  std::uint64_t frac = 0;
  for (std::size_t k = 0;
       k < static_cast<std::size_t>(messages::decimal_digits); ++k) {
    char c = k < fraction.size() ? fraction[k] : '0';
    if (c < '0' || c > '9')
      return false;
    frac = frac * 10 + static_cast<std::uint64_t>(c - '0');
  }
  units = units * messages::decimal_scale + static_cast<messages::int128>(frac);
  out.units = negative ? -units : units;
  return true;
}

bool read_wide(json_in& in, std::string& tmp, messages::wide_decimal& out) {
  std::string_view v;
  return in.text(v, tmp) && parse_wide(v, out);
}

bool read_timeframe(json_in& in, std::string& tmp, messages::timeframe& out) {
  std::string_view v;
  if (!in.text(v, tmp))
    return false;
  auto tf = messages::parse_timeframe(v);
  if (!tf)
    return false;
  out = *tf;
  return true;
}

/// Records that a member was present; always true.
bool mark(std::uint32_t& seen, std::uint32_t bit) noexcept {
  seen |= bit;
  return true;
}

bool read_int32(json_in& in, std::int32_t& out) noexcept {
  std::int64_t v = 0;
  if (!in.integer(v) || v < std::numeric_limits<std::int32_t>::min()
    || v > std::numeric_limits<std::int32_t>::max())
    return false;
  out = static_cast<std::int32_t>(v);
  return true;
}

} // namespace

// -- bars
// ----------------------------------------------------------------------

void append_bar_json(std::string& out, const messages::bar& b) {
  out += '{';
  append_bar_members(out, b);
  out += '}';
}

void append_bar_members(std::string& out, const messages::bar& b) {
  out += "\"exchange\":";
  append_escaped(out, b.exchange);
  append_key(out, "symbol");
  append_escaped(out, b.symbol);
  append_key(out, "timeframe");
  append_escaped(out, messages::to_string(b.tf));
  append_key(out, "open_time");
  append_int(out, b.open_time_ms);
  append_key(out, "close_time");
  append_int(out, b.close_time_ms);
  append_key(out, "open");
  append_units(out, b.open.units);
  append_key(out, "high");
  append_units(out, b.high.units);
  append_key(out, "low");
  append_units(out, b.low.units);
  append_key(out, "close");
  append_units(out, b.close.units);
  append_key(out, "volume");
  append_units(out, b.volume.units);
  append_key(out, "quote_volume");
  append_units(out, b.quote_volume.units);
  append_key(out, "taker_buy_volume");
  append_units(out, b.taker_buy_volume.units);
  append_key(out, "taker_buy_quote_volume");
  append_units(out, b.taker_buy_quote_volume.units);
  append_key(out, "trade_count");
  append_int(out, b.trade_count);
  append_key(out, "first_trade_id");
  append_int(out, b.first_trade_id);
  append_key(out, "last_trade_id");
  append_int(out, b.last_trade_id);
  append_key(out, "revision");
  append_int(out, b.revision);
  append_key(out, "closed");
  out += b.closed ? "true" : "false";
}

std::string encode_bar(const messages::bar& b) {
  std::string out;
  out.reserve(400);
  append_bar_json(out, b);
  return out;
}

bool decode_bar(std::string_view json, messages::bar& out) {
  json_in in{json};
  std::string tmp;
  std::uint32_t seen = 0;
  bool ok = in.object([&](std::string_view key) {
    if (key == "exchange")
      return mark(seen, 1U << 0) && in.string(out.exchange);
    if (key == "symbol")
      return mark(seen, 1U << 1) && in.string(out.symbol);
    if (key == "timeframe")
      return mark(seen, 1U << 2) && read_timeframe(in, tmp, out.tf);
    if (key == "open_time")
      return mark(seen, 1U << 3) && in.integer(out.open_time_ms);
    if (key == "close_time")
      return mark(seen, 1U << 4) && in.integer(out.close_time_ms);
    if (key == "open")
      return mark(seen, 1U << 5) && read_decimal(in, tmp, out.open);
    if (key == "high")
      return mark(seen, 1U << 6) && read_decimal(in, tmp, out.high);
    if (key == "low")
      return mark(seen, 1U << 7) && read_decimal(in, tmp, out.low);
    if (key == "close")
      return mark(seen, 1U << 8) && read_decimal(in, tmp, out.close);
    if (key == "volume")
      return mark(seen, 1U << 9) && read_wide(in, tmp, out.volume);
    if (key == "quote_volume")
      return mark(seen, 1U << 10) && read_wide(in, tmp, out.quote_volume);
    if (key == "taker_buy_volume")
      return mark(seen, 1U << 11) && read_wide(in, tmp, out.taker_buy_volume);
    if (key == "taker_buy_quote_volume")
      return mark(seen, 1U << 12)
        && read_wide(in, tmp, out.taker_buy_quote_volume);
    if (key == "trade_count")
      return mark(seen, 1U << 13) && in.integer(out.trade_count);
    if (key == "first_trade_id")
      return mark(seen, 1U << 14) && in.integer(out.first_trade_id);
    if (key == "last_trade_id")
      return mark(seen, 1U << 15) && in.integer(out.last_trade_id);
    if (key == "revision")
      return mark(seen, 1U << 16) && read_int32(in, out.revision);
    if (key == "closed")
      return mark(seen, 1U << 17) && in.boolean(out.closed);
    return in.skip_value();
  });
  return ok && in.at_end() && seen == (1U << 18) - 1;
}

// -- indicators
// ----------------------------------------------------------------

std::string encode_indicators(const messages::indicator_snapshot& x) {
  std::string out;
  out.reserve(600);
  out += '{';
  append_key(out, "exchange");
  append_escaped(out, x.exchange);
  append_key(out, "symbol");
  append_escaped(out, x.symbol);
  append_key(out, "timeframe");
  append_escaped(out, messages::to_string(x.tf));
  append_key(out, "open_time");
  append_int(out, x.open_time_ms);
  append_key(out, "closed");
  out += x.closed ? "true" : "false";
  for (std::size_t i = 0; i < messages::indicator_count; ++i) {
    append_key(out, messages::indicator_names[i]);
    append_double(out, x.values[i]);
  }
  out += '}';
  return out;
}

bool decode_indicators(
  std::string_view json, messages::indicator_snapshot& out) {
  json_in in{json};
  std::string tmp;
  std::uint32_t seen = 0;
  std::uint32_t values_seen = 0;
  bool ok = in.object([&](std::string_view key) {
    if (key == "exchange")
      return mark(seen, 1U) && in.string(out.exchange);
    if (key == "symbol")
      return mark(seen, 2U) && in.string(out.symbol);
    if (key == "timeframe")
      return mark(seen, 4U) && read_timeframe(in, tmp, out.tf);
    if (key == "open_time")
      return mark(seen, 8U) && in.integer(out.open_time_ms);
    if (key == "closed")
      return mark(seen, 16U) && in.boolean(out.closed);
    for (std::size_t i = 0; i < messages::indicator_count; ++i) {
      if (key == messages::indicator_names[i]) {
        values_seen |= 1U << i;
        return in.number_or_null(out.values[i]);
      }
    }
    return in.skip_value();
  });
  return ok && in.at_end() && seen == 31U
    && values_seen == (1U << messages::indicator_count) - 1;
}

// -- health
// --------------------------------------------------------------------

std::string encode_health(const messages::health_status& x) {
  std::string out;
  out += '{';
  append_key(out, "component");
  append_escaped(out, x.component);
  append_key(out, "status");
  append_escaped(out, x.status);
  append_key(out, "detail");
  append_escaped(out, x.detail);
  append_key(out, "time");
  append_int(out, x.time_ms);
  out += '}';
  return out;
}

bool decode_health(std::string_view json, messages::health_status& out) {
  json_in in{json};
  std::uint32_t seen = 0;
  bool ok = in.object([&](std::string_view key) {
    if (key == "component")
      return mark(seen, 1U) && in.string(out.component);
    if (key == "status")
      return mark(seen, 2U) && in.string(out.status);
    if (key == "detail")
      return mark(seen, 4U) && in.string(out.detail);
    if (key == "time")
      return mark(seen, 8U) && in.integer(out.time_ms);
    return in.skip_value();
  });
  return ok && in.at_end() && seen == 15U;
}

// -- trades
// --------------------------------------------------------------------

std::string encode_trades(const messages::trade_batch& x) {
  std::string out;
  out.reserve(64 + x.trades.size() * 160);
  out += '{';
  append_key(out, "exchange");
  append_escaped(out, x.exchange);
  append_key(out, "symbol");
  append_escaped(out, x.symbol);
  append_key(out, "trades");
  out += '[';
  for (const auto& t : x.trades) {
    if (out.back() != '[')
      out += ',';
    out += '{';
    append_key(out, "id");
    append_int(out, t.id);
    append_key(out, "price");
    append_units(out, t.price.units);
    append_key(out, "quantity");
    append_units(out, t.quantity.units);
    append_key(out, "time");
    append_int(out, t.trade_time_ms);
    append_key(out, "event_time");
    append_int(out, t.event_time_ms);
    append_key(out, "buyer_is_maker");
    out += t.buyer_is_maker ? "true" : "false";
    append_key(out, "receive_time_ns");
    append_int(out, t.receive_time_ns);
    out += '}';
  }
  out += "]}";
  return out;
}

bool decode_trades(std::string_view json, messages::trade_batch& out) {
  json_in in{json};
  std::string tmp;
  std::uint32_t seen = 0;
  out.trades.clear();
  auto read_trade = [&] {
    messages::trade t;
    std::uint32_t got = 0;
    bool ok = in.object([&](std::string_view key) {
      if (key == "id")
        return mark(got, 1U) && in.integer(t.id);
      if (key == "price")
        return mark(got, 2U) && read_decimal(in, tmp, t.price);
      if (key == "quantity")
        return mark(got, 4U) && read_decimal(in, tmp, t.quantity);
      if (key == "time")
        return mark(got, 8U) && in.integer(t.trade_time_ms);
      if (key == "event_time")
        return mark(got, 16U) && in.integer(t.event_time_ms);
      if (key == "buyer_is_maker")
        return mark(got, 32U) && in.boolean(t.buyer_is_maker);
      if (key == "receive_time_ns")
        return mark(got, 64U) && in.integer(t.receive_time_ns);
      return in.skip_value();
    });
    if (!ok || got != 127U)
      return false;
    out.trades.push_back(t);
    return true;
  };
  bool ok = in.object([&](std::string_view key) {
    if (key == "exchange")
      return mark(seen, 1U) && in.string(out.exchange);
    if (key == "symbol")
      return mark(seen, 2U) && in.string(out.symbol);
    if (key == "trades")
      return mark(seen, 4U) && in.array(read_trade);
    return in.skip_value();
  });
  return ok && in.at_end() && seen == 7U;
}

// -- write commands
// ------------------------------------------------------------

std::size_t add_closed_bars(redis_pipeline& p, const cache_keys& keys,
  const std::vector<messages::bar>& bars, std::size_t keep) {
  // Keys touched, trimmed once each after their bars.
  std::set<std::string> touched;
  std::string json;
  std::size_t n = 0;
  for (const auto& b : bars) {
    if (!b.closed)
      continue;
    auto key = keys.bars(b.exchange, b.symbol, b.tf);
    json.clear();
    append_bar_json(json, b);
    p.cmd("ZREMRANGEBYSCORE").arg(key).arg(b.open_time_ms).arg(b.open_time_ms);
    p.cmd("ZADD").arg(key).arg(b.open_time_ms).arg(json);
    touched.insert(std::move(key));
    ++n;
  }
  for (const auto& key : touched)
    p.cmd("ZREMRANGEBYRANK")
      .arg(key)
      .arg(std::int64_t{0})
      .arg(-static_cast<std::int64_t>(keep) - 1);
  return n;
}

void add_forming_bar(
  redis_pipeline& p, const cache_keys& keys, const messages::bar& b) {
  p.cmd("SET")
    .arg(keys.forming(b.exchange, b.symbol, b.tf))
    .arg(encode_bar(b))
    .arg("PX")
    .arg(2 * messages::duration_ms(b.tf));
}

void add_indicators(redis_pipeline& p, const cache_keys& keys,
  const messages::indicator_snapshot& x, std::int64_t ttl_ms) {
  p.cmd("SET")
    .arg(keys.indicators(x.exchange, x.symbol, x.tf))
    .arg(encode_indicators(x))
    .arg("PX")
    .arg(ttl_ms);
}

void add_health(
  redis_pipeline& p, const cache_keys& keys, const messages::health_status& x) {
  p.cmd("HSET").arg(keys.health()).arg(x.component).arg(encode_health(x));
}

void add_chart_update(
  redis_pipeline& p, const cache_keys& keys, const messages::bar& b) {
  p.cmd("PUBLISH").arg(keys.chart_updates()).arg(encode_bar(b));
}

void add_trades(
  redis_pipeline& p, const cache_keys& keys, const messages::trade_batch& x) {
  p.cmd("PUBLISH").arg(keys.trades(x.exchange)).arg(encode_trades(x));
}

} // namespace csp::storage
