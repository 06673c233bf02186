#include "api/rest_format.hpp"

#include <algorithm>
#include <map>

#include "api/bar_json.hpp"
#include "api/json_text.hpp"
#include "messages/calendar.hpp"
#include "messages/decimal.hpp"

namespace csp::api {

namespace {

void append_quoted_fixed8(std::string& out, messages::int128 units) {
  out += '"';
  append_fixed8(out, units);
  out += '"';
}

void append_units(std::string& out, messages::int128 units) {
  char buf[64];
  out.append(buf, messages::format_units(units, buf));
}

void put_digits(std::string& out, std::int64_t v, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

} // namespace

std::string klines_json(const std::vector<messages::bar>& bars) {
  std::string out;
  out.reserve(2 + bars.size() * 200);
  out += '[';
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    if (i > 0)
      out += ',';
    out += '[';
    append_json_int(out, b.open_time_ms);
    out += ',';
    append_quoted_fixed8(out, b.open.units);
    out += ',';
    append_quoted_fixed8(out, b.high.units);
    out += ',';
    append_quoted_fixed8(out, b.low.units);
    out += ',';
    append_quoted_fixed8(out, b.close.units);
    out += ',';
    append_quoted_fixed8(out, b.volume.units);
    out += ',';
    append_json_int(out, b.close_time_ms);
    out += ',';
    append_quoted_fixed8(out, b.quote_volume.units);
    out += ',';
    append_json_int(out, b.trade_count);
    out += ',';
    append_quoted_fixed8(out, b.taker_buy_volume.units);
    out += ',';
    append_quoted_fixed8(out, b.taker_buy_quote_volume.units);
    out += ",\"0\"]";
  }
  out += ']';
  return out;
}

std::string chart_json(std::string_view exchange, std::string_view symbol,
  messages::timeframe tf, const std::vector<messages::bar>& bars,
  const std::vector<messages::indicator_snapshot>& indicators) {
  indicator_lookup lookup{indicators};
  std::string out;
  out.reserve(128 + bars.size() * 900);
  out += "{\"exchange\":";
  append_json_string(out, exchange);
  out += ",\"symbol\":";
  append_json_string(out, symbol);
  out += ",\"timeframe\":";
  append_json_string(out, messages::to_string(tf));
  out += ",\"bars\":[";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    if (i > 0)
      out += ',';
    append_bar_with_indicators(out, bars[i], lookup.find(bars[i]));
  }
  out += "]}";
  return out;
}

void append_iso8601_ms(std::string& out, std::int64_t ms) {
  auto days = ms / messages::ms_per_day;
  auto rem = ms % messages::ms_per_day;
  if (rem < 0) {
    rem += messages::ms_per_day;
    --days;
  }
  auto date = messages::civil_from_days(days);
  std::int64_t year = std::clamp(date.year, 0, 9999);
  put_digits(out, year, 4);
  out += '-';
  put_digits(out, date.month, 2);
  out += '-';
  put_digits(out, date.day, 2);
  out += 'T';
  put_digits(out, rem / 3'600'000, 2);
  out += ':';
  put_digits(out, rem / 60'000 % 60, 2);
  out += ':';
  put_digits(out, rem / 1000 % 60, 2);
  out += '.';
  put_digits(out, rem % 1000, 3);
  out += 'Z';
}

void append_csv_header(std::string& out) {
  out += "open_time,close_time,open,high,low,close,volume,quote_volume,"
         "trade_count";
  for (auto name : messages::indicator_names) {
    out += ',';
    out += name;
  }
  out += "\r\n";
}

void append_csv_row(std::string& out, const messages::bar& b,
  const messages::indicator_snapshot* x) {
  append_iso8601_ms(out, b.open_time_ms);
  out += ',';
  append_iso8601_ms(out, b.close_time_ms);
  out += ',';
  append_units(out, b.open.units);
  out += ',';
  append_units(out, b.high.units);
  out += ',';
  append_units(out, b.low.units);
  out += ',';
  append_units(out, b.close.units);
  out += ',';
  append_units(out, b.volume.units);
  out += ',';
  append_units(out, b.quote_volume.units);
  out += ',';
  append_json_int(out, b.trade_count);
  for (std::size_t i = 0; i < messages::indicator_count; ++i) {
    out += ',';
    if (x != nullptr && !messages::indicator_snapshot::is_null(x->values[i]))
      append_json_double(out, x->values[i]);
  }
  out += "\r\n";
}

std::string csv_export(const std::vector<messages::bar>& bars,
  const std::vector<messages::indicator_snapshot>& indicators) {
  indicator_lookup lookup{indicators};
  std::string out;
  out.reserve(256 + bars.size() * 400);
  append_csv_header(out);
  for (const auto& b : bars)
    append_csv_row(out, b, lookup.find(b));
  return out;
}

std::string error_json(std::string_view code, std::string_view message) {
  std::string out = R"({"error":{"code":)";
  append_json_string(out, code);
  out += ",\"message\":";
  append_json_string(out, message);
  out += "}}";
  return out;
}

std::string symbols_json(const std::vector<storage::symbol_row>& rows) {
  std::map<std::string_view, std::vector<const storage::symbol_row*>> groups;
  for (const auto& r : rows)
    groups[r.exchange].push_back(&r);
  std::string out = R"({"exchanges":{)";
  bool first_group = true;
  for (const auto& [exchange, members] : groups) {
    if (!first_group)
      out += ',';
    first_group = false;
    append_json_string(out, exchange);
    out += ":[";
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0)
        out += ',';
      out += "{\"symbol\":";
      append_json_string(out, members[i]->symbol);
      out += ",\"asset_class\":";
      append_json_string(out, members[i]->asset_class);
      out += '}';
    }
    out += ']';
  }
  out += "}}";
  return out;
}

std::string quality_json(const messages::quality_report& report) {
  std::string out = "{\"exchange\":";
  append_json_string(out, report.exchange);
  out += ",\"symbol\":";
  append_json_string(out, report.symbol);
  out += ",\"time\":";
  append_json_int(out, report.time_ms);
  out += ",\"window_ms\":";
  append_json_int(out, report.window_ms);
  out += ",\"score\":";
  append_json_double(out, report.score);
  out += ",\"observations\":";
  append_json_int(out, report.observations);
  out += ",\"failed_checks\":[";
  for (std::size_t i = 0; i < report.failed_checks.size(); ++i) {
    const auto& c = report.failed_checks[i];
    if (i > 0)
      out += ',';
    out += "{\"check_type\":";
    append_json_string(out, c.check_type);
    out += ",\"failed\":";
    append_json_int(out, c.failed);
    out += '}';
  }
  out += "],\"recent_issues\":[";
  for (std::size_t i = 0; i < report.recent_issues.size(); ++i) {
    const auto& issue = report.recent_issues[i];
    if (i > 0)
      out += ',';
    out += "{\"check_type\":";
    append_json_string(out, issue.check_type);
    out += ",\"detail\":";
    append_json_string(out, issue.detail);
    out += ",\"trade_id\":";
    if (issue.trade_id < 0)
      out += "null";
    else
      append_json_int(out, issue.trade_id);
    out += ",\"time\":";
    append_json_int(out, issue.time_ms);
    out += '}';
  }
  out += "]}";
  return out;
}

} // namespace csp::api
