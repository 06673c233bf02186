// The nlohmann_json twin of binance_parser: same contract, written
// separately so that each implementation checks the other in the tests.

#include "actors/binance_parser.hpp"

#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace csp::actors {

namespace {

using json = nlohmann::json;

/// Reads an integer member that must fit int64. Returns 0 when absent,
/// 1 when read, -1 when the member has the wrong type or range.
int get_int64(const json& obj, const char* key, std::int64_t& out) {
  auto i = obj.find(key);
  if (i == obj.end())
    return 0;
  if (i->is_number_unsigned()) {
    auto value = i->get<std::uint64_t>();
    if (value
      > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return -1;
    out = static_cast<std::int64_t>(value);
    return 1;
  }
  if (i->is_number_integer()) {
    out = i->get<std::int64_t>();
    return 1;
  }
  return -1;
}

/// Reads a string member (0 absent, 1 read, -1 not a string).
int get_string(const json& obj, const char* key, const std::string*& out) {
  auto i = obj.find(key);
  if (i == obj.end())
    return 0;
  if (!i->is_string())
    return -1;
  out = i->get_ptr<const std::string*>();
  return 1;
}

/// Records a missing (state 0) or invalid (state -1) field.
void fail(parse_result& res, int state, std::string_view name) {
  res.status
    = state == 0 ? parse_status::missing_field : parse_status::invalid_field;
  res.field = name;
}

bool upper_alnum(const std::string& str) {
  if (str.empty() || str.size() > max_symbol_size)
    return false;
  for (char c : str) {
    bool upper = c >= 'A' && c <= 'Z';
    bool digit = c >= '0' && c <= '9';
    if (!upper && !digit)
      return false;
  }
  return true;
}

/// Reads a positive decimal given as a JSON string.
int get_positive_decimal(
  const json& obj, const char* key, messages::decimal& out) {
  const std::string* str = nullptr;
  int state = get_string(obj, key, str);
  if (state != 1)
    return state;
  if (!messages::parse_decimal(*str, out) || out.units <= 0)
    return -1;
  return 1;
}

void read_trade(const json& event, parse_result& res) {
  std::int64_t event_time = 0;
  int state = get_int64(event, "E", event_time);
  if (state != 1 || event_time <= 0)
    return fail(res, state == 1 ? -1 : state, "E");
  const std::string* symbol = nullptr;
  state = get_string(event, "s", symbol);
  if (state != 1 || !upper_alnum(*symbol))
    return fail(res, state == 1 ? -1 : state, "s");
  std::int64_t id = 0;
  state = get_int64(event, "t", id);
  if (state != 1 || id < 0)
    return fail(res, state == 1 ? -1 : state, "t");
  messages::trade tr;
  state = get_positive_decimal(event, "p", tr.price);
  if (state != 1)
    return fail(res, state, "p");
  state = get_positive_decimal(event, "q", tr.quantity);
  if (state != 1)
    return fail(res, state, "q");
  std::int64_t trade_time = 0;
  state = get_int64(event, "T", trade_time);
  if (state != 1 || trade_time <= 0)
    return fail(res, state == 1 ? -1 : state, "T");
  auto maker = event.find("m");
  if (maker == event.end())
    return fail(res, 0, "m");
  if (!maker->is_boolean())
    return fail(res, -1, "m");
  tr.id = id;
  tr.event_time_ms = event_time;
  tr.trade_time_ms = trade_time;
  tr.buyer_is_maker = maker->get<bool>();
  res.trade = tr;
  res.set_symbol(*symbol);
  res.status = parse_status::trade;
}

void read_event(const json& event, parse_result& res) {
  auto type = event.find("e");
  if (type != event.end()) {
    if (!type->is_string())
      return fail(res, -1, "e");
    if (type->get_ref<const std::string&>() != "trade") {
      res.status = parse_status::other_event;
      return;
    }
    return read_trade(event, res);
  }
  std::int64_t id = -1;
  bool has_id = event.contains("id");
  if (get_int64(event, "id", id) != 1)
    id = -1;
  auto error = event.find("error");
  if (error != event.end()) {
    res.status = parse_status::error_response;
    res.request_id = id;
    std::int64_t code = 0;
    if (error->is_object() && get_int64(*error, "code", code) == 1)
      res.error_code = code;
    return;
  }
  if (event.contains("result") && has_id) {
    res.status = parse_status::subscription_result;
    res.request_id = id;
    return;
  }
  res.status = parse_status::unexpected_message;
}

} // namespace

parse_result parse_trade_line_nlohmann(std::string_view frame) {
  parse_result res;
  auto doc = json::parse(frame.begin(), frame.end(), nullptr, false);
  if (doc.is_discarded()) {
    res.status = parse_status::malformed_json;
    return res;
  }
  if (!doc.is_object()) {
    res.status = parse_status::unexpected_message;
    return res;
  }
  auto data = doc.find("data");
  if (data != doc.end()) {
    if (data->is_object())
      read_event(*data, res);
    else
      res.status = parse_status::unexpected_message;
    return res;
  }
  read_event(doc, res);
  return res;
}

} // namespace csp::actors
