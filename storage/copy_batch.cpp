#include "storage/copy_batch.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <tuple>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "messages/calendar.hpp"

namespace csp::storage {

namespace {

void track_time(copy_batch& out, std::int64_t ms) {
  if (out.row_count == 0) {
    out.min_time_ms = ms;
    out.max_time_ms = ms;
  } else {
    out.min_time_ms = std::min(out.min_time_ms, ms);
    out.max_time_ms = std::max(out.max_time_ms, ms);
  }
}

void put_be16(std::string& out, std::uint16_t x) {
  char b[2] = {static_cast<char>(x >> 8), static_cast<char>(x)};
  out.append(b, 2);
}

void put_be32(std::string& out, std::uint32_t x) {
  char b[4];
  for (int i = 0; i < 4; ++i)
    b[i] = static_cast<char>(x >> (24 - 8 * i));
  out.append(b, 4);
}

void put_be64(std::string& out, std::uint64_t x) {
  char b[8];
  for (int i = 0; i < 8; ++i)
    b[i] = static_cast<char>(x >> (56 - 8 * i));
  out.append(b, 8);
}

/// Writes the fields of one row in COPY's text or binary format. Fields
/// must come in the table's column order, `fields` of them.
template <copy_format F>
class row_writer {
public:
  row_writer(std::string& out, std::uint16_t fields) : s_(out) {
    if constexpr (F == copy_format::binary)
      put_be16(s_, fields);
  }

  ~row_writer() {
    if constexpr (F == copy_format::text)
      s_ += '\n';
  }

  row_writer(const row_writer&) = delete;
  row_writer& operator=(const row_writer&) = delete;

  void null() {
    if constexpr (F == copy_format::binary) {
      put_be32(s_, 0xffff'ffffu);
    } else {
      sep();
      s_ += "\\N";
    }
  }

  /// A timestamptz from ms since the Unix epoch.
  void time(std::int64_t ms) {
    if constexpr (F == copy_format::binary) {
      put_be32(s_, 8);
      put_be64(s_, static_cast<std::uint64_t>(ms * 1000 - pg_epoch_us));
    } else {
      sep();
      char buf[messages::utc_ms_text_size + 1];
      messages::format_utc_ms(ms, buf);
      s_.append(buf, messages::utc_ms_text_size);
    }
  }

  void text(std::string_view x) {
    if constexpr (F == copy_format::binary) {
      put_be32(s_, static_cast<std::uint32_t>(x.size()));
      s_.append(x);
    } else {
      sep();
      append_copy_text(s_, x);
    }
  }

  /// A jsonb value given as JSON text.
  void jsonb(std::string_view json) {
    if constexpr (F == copy_format::binary) {
      put_be32(s_, static_cast<std::uint32_t>(json.size() + 1));
      s_ += '\x01'; // jsonb's binary format version
      s_.append(json);
    } else {
      text(json);
    }
  }

  void int8(std::int64_t x) {
    if constexpr (F == copy_format::binary) {
      put_be32(s_, 8);
      put_be64(s_, static_cast<std::uint64_t>(x));
    } else {
      sep();
      put_int(x);
    }
  }

  void int4(std::int32_t x) {
    if constexpr (F == copy_format::binary) {
      put_be32(s_, 4);
      put_be32(s_, static_cast<std::uint32_t>(x));
    } else {
      sep();
      put_int(x);
    }
  }

  void boolean(bool x) {
    if constexpr (F == copy_format::binary) {
      put_be32(s_, 1);
      s_ += x ? '\x01' : '\x00';
    } else {
      sep();
      s_ += x ? 't' : 'f';
    }
  }

  /// A numeric from 1e-8 units.
  void units(messages::int128 x) {
    if constexpr (F == copy_format::binary) {
      append_binary_numeric(s_, x);
    } else {
      sep();
      char buf[64];
      s_.append(buf, messages::format_units(x, buf));
    }
  }

  /// A double precision; NaN is NULL.
  void float8(double x) {
    if (std::isnan(x)) {
      null();
      return;
    }
    if constexpr (F == copy_format::binary) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &x, sizeof(bits));
      put_be32(s_, 8);
      put_be64(s_, bits);
    } else {
      sep();
      if (std::isinf(x)) {
        s_ += x > 0 ? "Infinity" : "-Infinity";
        return;
      }
      // 17 significant digits round-trip every double exactly.
      char buf[32];
      auto n = std::snprintf(buf, sizeof(buf), "%.17g", x);
      s_.append(buf, static_cast<std::size_t>(n));
    }
  }

  /// A trade id; negative (unknown) is NULL.
  void id(std::int64_t x) {
    if (x < 0)
      null();
    else
      int8(x);
  }

private:
  void sep() {
    if (!first_)
      s_ += '\t';
    first_ = false;
  }

  void put_int(std::int64_t x) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), x);
    s_.append(buf, res.ptr);
  }

  std::string& s_;
  bool first_ = true;
};

/// Starts a row with its key columns: time, exchange, symbol and, when
/// given, the timeframe; counts the row.
template <copy_format F>
void put_key(copy_batch& out, row_writer<F>& w, std::int64_t time_ms,
  const std::string& exchange, const std::string& symbol,
  const messages::timeframe* tf = nullptr) {
  track_time(out, time_ms);
  ++out.row_count;
  w.time(time_ms);
  w.text(exchange);
  w.text(symbol);
  if (tf != nullptr)
    w.text(messages::to_string(*tf));
}

/// Calls `f` with a row_writer tag of the batch's format:
/// f(std::integral_constant<copy_format, F>{}).
template <class Fn>
void with_format(const copy_batch& out, Fn&& f) {
  if (out.format == copy_format::binary)
    f(std::integral_constant<copy_format, copy_format::binary>{});
  else
    f(std::integral_constant<copy_format, copy_format::text>{});
}

// Key of a bar or snapshot: one upsert row.
using row_key = std::tuple<std::string, std::string, int, std::int64_t>;

struct row_key_hash {
  std::size_t operator()(const row_key& k) const noexcept {
    auto h = std::hash<std::string>{}(std::get<0>(k));
    h = h * 31 + std::hash<std::string>{}(std::get<1>(k));
    h = h * 31 + static_cast<std::size_t>(std::get<2>(k));
    return h * 31 + std::hash<std::int64_t>{}(std::get<3>(k));
  }
};

/// Appends one row of a per-bar value vector (indicators, features).
template <class T>
void append_values(copy_batch& out, const T& x) {
  with_format(out, [&](auto fmt) {
    row_writer<decltype(fmt)::value> w{
      out.rows, static_cast<std::uint16_t>(4 + x.values.size())};
    put_key(out, w, x.open_time_ms, x.exchange, x.symbol, &x.tf);
    for (double v : x.values)
      w.float8(v);
  });
}

/// Keeps the last of equal keys.
struct always_newer {
  template <class T>
  bool operator()(const T&, const T&) const noexcept {
    return true;
  }
};

template <class T, class Newer>
std::vector<T> keep_newest(std::vector<T> xs, Newer newer) {
  std::unordered_map<row_key, std::size_t, row_key_hash> index;
  std::vector<T> out;
  out.reserve(xs.size());
  for (auto& x : xs) {
    row_key key{x.exchange, x.symbol, static_cast<int>(x.tf), x.open_time_ms};
    auto [it, fresh] = index.emplace(std::move(key), out.size());
    if (fresh)
      out.push_back(std::move(x));
    else if (newer(x, out[it->second]))
      out[it->second] = std::move(x);
  }
  return out;
}

} // namespace

std::string_view to_string(table_kind x) noexcept {
  switch (x) {
    case table_kind::trades:
    case table_kind::trades_by_id:
      return "trades";
    case table_kind::candles:
      return "candles";
    case table_kind::indicators:
      return "indicators";
    case table_kind::data_quality:
      return "data_quality";
    case table_kind::features:
      return "features";
  }
  return "unknown";
}

std::string_view copy_columns(table_kind x) noexcept {
  switch (x) {
    case table_kind::trades:
      return "time, exchange, symbol, trade_id, price, quantity, "
             "buyer_is_maker, event_time";
    case table_kind::trades_by_id:
      return "time, exchange, symbol, trade_id, price, quantity, "
             "buyer_is_maker, event_time, symbol_id";
    case table_kind::candles:
      return "time, exchange, symbol, timeframe, open, high, low, close, "
             "volume, quote_volume, taker_buy_volume, taker_buy_quote_volume, "
             "trade_count, first_trade_id, last_trade_id, close_time, revision";
    case table_kind::indicators:
      return "time, exchange, symbol, timeframe, sma_20, sma_50, sma_100, "
             "sma_200, ema_12, ema_26, ema_50, rsi_14, macd, macd_signal, "
             "macd_hist, bb_upper, bb_middle, bb_lower, stoch_k, stoch_d, "
             "atr_14, adx_14, vwap";
    case table_kind::data_quality:
      return "time, exchange, symbol, window_ms, score, observations, "
             "failed_checks, recent_issues";
    case table_kind::features:
      return "time, exchange, symbol, timeframe, log_return_1, "
             "log_return_5, volatility_20, range_pct, atr_pct, rsi_norm, "
             "macd_hist_pct, bb_percent_b, bb_width, dist_sma_20, "
             "dist_sma_50, dist_ema_12, dist_ema_26, volume_zscore_20, "
             "volume_ratio_20";
  }
  return "";
}

void append_copy_text(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

std::string_view binary_copy_header() noexcept {
  // Signature "PGCOPY\n\377\r\n\0", int32 flags (no OIDs), int32 length of
  // the header extension area (none).
  static constexpr char header[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
  return {header, sizeof(header) - 1};
}

std::string_view binary_copy_trailer() noexcept {
  return {"\xff\xff", 2};
}

std::string copy_stream(const copy_batch& b) {
  if (b.format == copy_format::text)
    return b.rows;
  std::string out;
  out.reserve(b.rows.size() + 21);
  out.append(binary_copy_header());
  out.append(b.rows);
  out.append(binary_copy_trailer());
  return out;
}

void append_binary_numeric(std::string& out, messages::int128 units) {
  __extension__ using uint128 = unsigned __int128;
  constexpr std::uint16_t nbase = 10'000;
  bool negative = units < 0;
  uint128 mag = negative ? static_cast<uint128>(-(units + 1)) + 1
                         : static_cast<uint128>(units);
  auto frac = static_cast<std::uint32_t>(mag % messages::decimal_scale);
  uint128 integral = mag / messages::decimal_scale;
  // Digit groups, most significant first: the integral part's (at most 8
  // for 128 bits), then the two of the 8 fractional decimal digits.
  std::uint16_t groups[12];
  int n = 0;
  std::uint16_t low_first[10];
  int integral_groups = 0;
  while (integral != 0) {
    low_first[integral_groups++] = static_cast<std::uint16_t>(integral % nbase);
    integral /= nbase;
  }
  for (int i = integral_groups - 1; i >= 0; --i)
    groups[n++] = low_first[i];
  groups[n++] = static_cast<std::uint16_t>(frac / nbase);
  groups[n++] = static_cast<std::uint16_t>(frac % nbase);
  // The weight is the power of 10000 of the first group; leading and
  // trailing zero groups are left out, as the server stores them.
  int weight = integral_groups - 1;
  int first = 0;
  while (first < n && groups[first] == 0) {
    ++first;
    --weight;
  }
  while (n > first && groups[n - 1] == 0)
    --n;
  auto ndigits = n - first;
  if (ndigits == 0)
    weight = 0;
  // The display scale: fractional decimal digits without trailing zeros.
  int dscale = 0;
  if (frac != 0) {
    dscale = messages::decimal_digits;
    for (auto f = frac; f % 10 == 0; f /= 10)
      --dscale;
  }
  constexpr std::uint16_t numeric_pos = 0x0000;
  constexpr std::uint16_t numeric_neg = 0x4000;
  put_be32(out, static_cast<std::uint32_t>(8 + 2 * ndigits));
  put_be16(out, static_cast<std::uint16_t>(ndigits));
  put_be16(out, static_cast<std::uint16_t>(weight));
  put_be16(out, negative && ndigits > 0 ? numeric_neg : numeric_pos);
  put_be16(out, static_cast<std::uint16_t>(dscale));
  for (int i = first; i < n; ++i)
    put_be16(out, groups[i]);
}

namespace {

/// The rows of both trade kinds: the named columns, then the id if any.
void append_trade_rows(copy_batch& out, const messages::trade_batch& batch,
  std::optional<std::int32_t> symbol_id) {
  auto kind = symbol_id ? table_kind::trades_by_id : table_kind::trades;
  if (out.row_count == 0)
    out.table = kind;
  else if (out.table != kind)
    throw std::invalid_argument{
      "append_trades: the batch holds the other kind of trade rows"};
  with_format(out, [&](auto fmt) {
    constexpr auto F = decltype(fmt)::value;
    // Up to ~90 bytes a row in either format, plus the names.
    out.rows.reserve(out.rows.size()
      + batch.trades.size()
        * (90 + batch.exchange.size() + batch.symbol.size()));
    auto fields = static_cast<std::uint16_t>(symbol_id ? 9 : 8);
    for (const auto& t : batch.trades) {
      row_writer<F> w{out.rows, fields};
      track_time(out, t.trade_time_ms);
      ++out.row_count;
      w.time(t.trade_time_ms);
      w.text(batch.exchange);
      w.text(batch.symbol);
      w.int8(t.id);
      w.units(t.price.units);
      w.units(t.quantity.units);
      w.boolean(t.buyer_is_maker);
      if (t.event_time_ms > 0)
        w.time(t.event_time_ms);
      else
        w.null();
      if (symbol_id)
        w.int4(*symbol_id);
    }
  });
}

} // namespace

void append_trades(copy_batch& out, const messages::trade_batch& batch) {
  append_trade_rows(out, batch, std::nullopt);
}

void append_trades(
  copy_batch& out, const messages::trade_batch& batch, std::int32_t symbol_id) {
  append_trade_rows(out, batch, symbol_id);
}

void append_candle(copy_batch& out, const messages::bar& b) {
  with_format(out, [&](auto fmt) {
    row_writer<decltype(fmt)::value> w{out.rows, 17};
    put_key(out, w, b.open_time_ms, b.exchange, b.symbol, &b.tf);
    w.units(b.open.units);
    w.units(b.high.units);
    w.units(b.low.units);
    w.units(b.close.units);
    w.units(b.volume.units);
    w.units(b.quote_volume.units);
    w.units(b.taker_buy_volume.units);
    w.units(b.taker_buy_quote_volume.units);
    w.int8(b.trade_count);
    w.id(b.first_trade_id);
    w.id(b.last_trade_id);
    w.time(b.close_time_ms);
    w.int4(b.revision);
  });
}

void append_indicators(
  copy_batch& out, const messages::indicator_snapshot& snap) {
  append_values(out, snap);
}

void append_features(copy_batch& out, const messages::feature_vector& fv) {
  append_values(out, fv);
}

void append_quality(copy_batch& out, const messages::quality_report& rep) {
  auto failed = nlohmann::json::object();
  for (const auto& c : rep.failed_checks)
    failed[c.check_type] = c.failed;
  auto issues = nlohmann::json::array();
  for (const auto& i : rep.recent_issues)
    issues.push_back({{"check_type", i.check_type}, {"detail", i.detail},
      {"trade_id", i.trade_id}, {"time_ms", i.time_ms}});
  with_format(out, [&](auto fmt) {
    row_writer<decltype(fmt)::value> w{out.rows, 8};
    put_key(out, w, rep.time_ms, rep.exchange, rep.symbol);
    w.int8(rep.window_ms);
    w.float8(rep.score);
    w.int8(rep.observations);
    w.jsonb(failed.dump());
    w.jsonb(issues.dump());
  });
}

std::vector<messages::bar> newest_revisions(std::vector<messages::bar> bars) {
  return keep_newest(
    std::move(bars), [](const messages::bar& x, const messages::bar& y) {
      return x.revision >= y.revision;
    });
}

std::vector<messages::indicator_snapshot> newest_snapshots(
  std::vector<messages::indicator_snapshot> snaps) {
  return keep_newest(std::move(snaps), always_newer{});
}

std::vector<messages::feature_vector> newest_features(
  std::vector<messages::feature_vector> xs) {
  return keep_newest(std::move(xs), always_newer{});
}

} // namespace csp::storage
