#include "storage/copy_batch.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
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

void put_time(std::string& out, std::int64_t ms) {
  char buf[messages::utc_ms_text_size + 1];
  messages::format_utc_ms(ms, buf);
  out.append(buf, messages::utc_ms_text_size);
}

void put_units(std::string& out, messages::int128 units) {
  char buf[64];
  out.append(buf, messages::format_units(units, buf));
}

void put_int(std::string& out, std::int64_t x) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, res.ptr);
}

void put_double(std::string& out, double x) {
  if (std::isnan(x)) {
    out += "\\N";
    return;
  }
  if (std::isinf(x)) {
    out += x > 0 ? "Infinity" : "-Infinity";
    return;
  }
  // 17 significant digits round-trip every double exactly.
  char buf[32];
  auto n = std::snprintf(buf, sizeof(buf), "%.17g", x);
  out.append(buf, static_cast<std::size_t>(n));
}

void put_id(std::string& out, std::int64_t id) {
  if (id < 0)
    out += "\\N";
  else
    put_int(out, id);
}

/// Starts a row with its key columns: time, exchange, symbol and, when
/// given, the timeframe; counts the row.
void begin_row(copy_batch& out, std::int64_t time_ms,
  const std::string& exchange, const std::string& symbol,
  const messages::timeframe* tf = nullptr) {
  auto& s = out.rows;
  track_time(out, time_ms);
  ++out.row_count;
  put_time(s, time_ms);
  s += '\t';
  append_copy_text(s, exchange);
  s += '\t';
  append_copy_text(s, symbol);
  if (tf != nullptr) {
    s += '\t';
    s += messages::to_string(*tf);
  }
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
  auto& s = out.rows;
  begin_row(out, x.open_time_ms, x.exchange, x.symbol, &x.tf);
  for (double v : x.values) {
    s += '\t';
    put_double(s, v);
  }
  s += '\n';
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

void append_trades(copy_batch& out, const messages::trade_batch& batch) {
  std::string prefix;
  append_copy_text(prefix, batch.exchange);
  prefix += '\t';
  append_copy_text(prefix, batch.symbol);
  prefix += '\t';
  auto& s = out.rows;
  s.reserve(s.size() + batch.trades.size() * (80 + prefix.size()));
  for (const auto& t : batch.trades) {
    track_time(out, t.trade_time_ms);
    put_time(s, t.trade_time_ms);
    s += '\t';
    s += prefix;
    put_int(s, t.id);
    s += '\t';
    put_units(s, t.price.units);
    s += '\t';
    put_units(s, t.quantity.units);
    s += t.buyer_is_maker ? "\tt\t" : "\tf\t";
    if (t.event_time_ms > 0)
      put_time(s, t.event_time_ms);
    else
      s += "\\N";
    s += '\n';
    ++out.row_count;
  }
}

void append_candle(copy_batch& out, const messages::bar& b) {
  auto& s = out.rows;
  begin_row(out, b.open_time_ms, b.exchange, b.symbol, &b.tf);
  for (auto units : {messages::int128{b.open.units},
         messages::int128{b.high.units}, messages::int128{b.low.units},
         messages::int128{b.close.units}, b.volume.units, b.quote_volume.units,
         b.taker_buy_volume.units, b.taker_buy_quote_volume.units}) {
    s += '\t';
    put_units(s, units);
  }
  s += '\t';
  put_int(s, b.trade_count);
  s += '\t';
  put_id(s, b.first_trade_id);
  s += '\t';
  put_id(s, b.last_trade_id);
  s += '\t';
  put_time(s, b.close_time_ms);
  s += '\t';
  put_int(s, b.revision);
  s += '\n';
}

void append_indicators(
  copy_batch& out, const messages::indicator_snapshot& snap) {
  append_values(out, snap);
}

void append_features(copy_batch& out, const messages::feature_vector& fv) {
  append_values(out, fv);
}

void append_quality(copy_batch& out, const messages::quality_report& rep) {
  auto& s = out.rows;
  begin_row(out, rep.time_ms, rep.exchange, rep.symbol);
  s += '\t';
  put_int(s, rep.window_ms);
  s += '\t';
  put_double(s, rep.score);
  s += '\t';
  put_int(s, rep.observations);
  auto failed = nlohmann::json::object();
  for (const auto& c : rep.failed_checks)
    failed[c.check_type] = c.failed;
  auto issues = nlohmann::json::array();
  for (const auto& i : rep.recent_issues)
    issues.push_back({{"check_type", i.check_type}, {"detail", i.detail},
      {"trade_id", i.trade_id}, {"time_ms", i.time_ms}});
  s += '\t';
  append_copy_text(s, failed.dump());
  s += '\t';
  append_copy_text(s, issues.dump());
  s += '\n';
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
