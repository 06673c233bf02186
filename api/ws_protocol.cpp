#include "api/ws_protocol.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/json_text.hpp"

namespace csp::api {

namespace {

using nlohmann::json;

constexpr std::string_view served_intervals = "1m, 5m, 15m, 1h, 4h, 1d";

/// Client text quoted in an error message, shortened to keep replies small.
std::string quote_text(std::string_view s) {
  constexpr std::size_t limit = 40;
  std::string out = "\"";
  if (s.size() > limit) {
    out.append(s.substr(0, limit));
    out += "...";
  } else {
    out.append(s);
  }
  out += '"';
  return out;
}

ws_protocol_error make_error(ws_dialect dialect, std::string_view code,
  std::string message, std::string id_json = "null") {
  return ws_protocol_error{
    dialect, std::string{code}, std::move(message), std::move(id_json)};
}

bool is_symbol_char(char c, bool lower_case) noexcept {
  bool letter = lower_case ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z');
  return letter || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '^'
    || c == '=';
}

bool is_id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
    || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/// Reads the optional `id` member into JSON text; false when it is not an
/// integer, a short string of letters, digits, '-' and '_', or null.
bool read_id(const json& doc, std::string& id_json) {
  id_json = "null";
  auto it = doc.find("id");
  if (it == doc.end() || it->is_null())
    return true;
  if (it->is_number_integer()) {
    if (it->is_number_unsigned()
      && it->get<std::uint64_t>()
        > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return false;
    id_json.clear();
    append_json_int(id_json, it->get<std::int64_t>());
    return true;
  }
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > max_id_length
      || !std::all_of(s.begin(), s.end(), is_id_char))
      return false;
    id_json.clear();
    append_json_string(id_json, s);
    return true;
  }
  return false;
}

/// The first member of the object `doc` that is not in `allowed`.
std::optional<std::string> unknown_member(
  const json& doc, std::initializer_list<std::string_view> allowed) {
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    auto key = it.key();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return key;
  }
  return std::nullopt;
}

std::variant<ws_request, ws_protocol_error> parse_native(
  const json& doc, std::string id_json) {
  constexpr auto d = ws_dialect::native;
  const auto& op_value = doc["op"];
  if (!op_value.is_string())
    return make_error(d, "invalid_field", "\"op\" must be a string", id_json);
  const auto& op = op_value.get_ref<const std::string&>();
  ws_request req;
  req.dialect = d;
  bool with_stream = false;
  if (op == "subscribe") {
    req.op = ws_op::subscribe;
    with_stream = true;
  } else if (op == "unsubscribe") {
    req.op = ws_op::unsubscribe;
    with_stream = true;
  } else if (op == "ping") {
    req.op = ws_op::ping;
  } else if (op == "list_subscriptions") {
    req.op = ws_op::list_subscriptions;
  } else {
    return make_error(d, "unknown_op",
      "unknown op " + quote_text(op)
        + ", expected subscribe, unsubscribe, ping or list_subscriptions",
      id_json);
  }
  if (!with_stream) {
    if (auto key = unknown_member(doc, {"op", "id"}))
      return make_error(d, "unknown_key",
        "key " + quote_text(*key) + " is not allowed with op " + quote_text(op),
        id_json);
    req.id_json = std::move(id_json);
    return req;
  }
  if (auto key = unknown_member(doc, {"op", "id", "symbol", "timeframe"}))
    return make_error(
      d, "unknown_key", "unknown key " + quote_text(*key), id_json);
  auto symbol = doc.find("symbol");
  if (symbol == doc.end())
    return make_error(d, "missing_field", op + " needs \"symbol\"", id_json);
  if (!symbol->is_string())
    return make_error(
      d, "invalid_field", "\"symbol\" must be a string", id_json);
  auto tf = doc.find("timeframe");
  if (tf == doc.end())
    return make_error(d, "missing_field", op + " needs \"timeframe\"", id_json);
  if (!tf->is_string())
    return make_error(
      d, "invalid_field", "\"timeframe\" must be a string", id_json);
  const auto& sym = symbol->get_ref<const std::string&>();
  if (!is_valid_symbol(sym))
    return make_error(d, "invalid_symbol",
      "symbol " + quote_text(sym)
        + " must be 1 to 32 upper-case letters, digits or . - ^ =",
      id_json);
  const auto& label = tf->get_ref<const std::string&>();
  auto parsed = messages::parse_timeframe(label);
  if (!parsed)
    return make_error(d, "invalid_timeframe",
      "timeframe " + quote_text(label) + " is not one of "
        + std::string{served_intervals},
      id_json);
  req.streams.push_back(ws_stream{sym, *parsed});
  req.id_json = std::move(id_json);
  return req;
}

std::variant<ws_request, ws_protocol_error> parse_binance(
  const json& doc, std::string id_json) {
  constexpr auto d = ws_dialect::binance;
  if (auto key = unknown_member(doc, {"method", "params", "id"}))
    return make_error(
      d, "unknown_key", "unknown key " + quote_text(*key), id_json);
  const auto& method_value = doc["method"];
  if (!method_value.is_string())
    return make_error(
      d, "invalid_field", "\"method\" must be a string", id_json);
  const auto& method = method_value.get_ref<const std::string&>();
  ws_request req;
  req.dialect = d;
  if (method == "SUBSCRIBE") {
    req.op = ws_op::subscribe;
  } else if (method == "UNSUBSCRIBE") {
    req.op = ws_op::unsubscribe;
  } else if (method == "LIST_SUBSCRIPTIONS") {
    req.op = ws_op::list_subscriptions;
  } else {
    return make_error(d, "unknown_op",
      "unknown method " + quote_text(method)
        + ", expected SUBSCRIBE, UNSUBSCRIBE or LIST_SUBSCRIPTIONS",
      id_json);
  }
  auto params = doc.find("params");
  if (req.op == ws_op::list_subscriptions) {
    if (params != doc.end() && !(params->is_array() && params->empty()))
      return make_error(
        d, "invalid_params", "LIST_SUBSCRIPTIONS takes no parameters", id_json);
    req.id_json = std::move(id_json);
    return req;
  }
  if (params == doc.end())
    return make_error(
      d, "missing_field", method + " needs \"params\"", id_json);
  if (!params->is_array() || params->empty())
    return make_error(d, "invalid_params",
      "\"params\" must be a non-empty array of stream names", id_json);
  if (params->size() > max_streams_per_request)
    return make_error(d, "too_many_streams",
      std::to_string(params->size()) + " streams in one request, at most "
        + std::to_string(max_streams_per_request),
      id_json);
  std::set<ws_stream> seen;
  for (const auto& p : *params) {
    if (!p.is_string())
      return make_error(
        d, "invalid_params", "stream names must be strings", id_json);
    auto stream = parse_binance_stream(p.get_ref<const std::string&>());
    if (auto err = std::get_if<ws_protocol_error>(&stream)) {
      err->id_json = id_json;
      return std::move(*err);
    }
    auto& s = std::get<ws_stream>(stream);
    if (seen.insert(s).second)
      req.streams.push_back(std::move(s));
  }
  req.id_json = std::move(id_json);
  return req;
}

void append_stream_members(std::string& out, const ws_stream& s) {
  out += "\"symbol\":";
  append_json_string(out, s.symbol);
  out += ",\"timeframe\":";
  append_json_string(out, messages::to_string(s.tf));
}

} // namespace

bool is_valid_symbol(std::string_view symbol) noexcept {
  return !symbol.empty() && symbol.size() <= max_symbol_length
    && std::all_of(symbol.begin(), symbol.end(),
      [](char c) { return is_symbol_char(c, false); });
}

std::variant<ws_stream, ws_protocol_error> parse_binance_stream(
  std::string_view name) {
  constexpr auto d = ws_dialect::binance;
  auto at = name.find('@');
  if (at == std::string_view::npos)
    return make_error(d, "invalid_stream",
      "stream " + quote_text(name) + " is not <symbol>@kline_<interval>");
  auto sym = name.substr(0, at);
  auto kind = name.substr(at + 1);
  constexpr std::string_view kline_prefix = "kline_";
  if (kind.substr(0, kline_prefix.size()) != kline_prefix)
    return make_error(d, "invalid_stream",
      "stream " + quote_text(name)
        + " is not served: only <symbol>@kline_<interval> streams are");
  if (sym.empty() || sym.size() > max_symbol_length
    || !std::all_of(
      sym.begin(), sym.end(), [](char c) { return is_symbol_char(c, true); }))
    return make_error(d, "invalid_symbol",
      "stream symbol " + quote_text(sym)
        + " must be 1 to 32 lower-case letters, digits or . - ^ =");
  auto interval = kind.substr(kline_prefix.size());
  auto tf = messages::parse_timeframe(interval);
  if (!tf)
    return make_error(d, "invalid_timeframe",
      "interval " + quote_text(interval) + " is not served, only "
        + std::string{served_intervals});
  ws_stream s;
  s.symbol.reserve(sym.size());
  for (char c : sym)
    s.symbol += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  s.tf = *tf;
  return s;
}

std::string binance_stream_name(const ws_stream& s) {
  std::string out;
  out.reserve(s.symbol.size() + 10);
  for (char c : s.symbol)
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  out += "@kline_";
  out += messages::to_string(s.tf);
  return out;
}

std::variant<ws_request, ws_protocol_error> parse_ws_request(
  std::string_view text, ws_dialect fallback) {
  if (text.size() > max_ws_message_bytes)
    return make_error(fallback, "message_too_large",
      "message of " + std::to_string(text.size())
        + " bytes exceeds the limit of "
        + std::to_string(max_ws_message_bytes));
  // Duplicate members of the request object: nlohmann keeps the last one
  // silently, so they are caught while parsing.
  std::set<std::string> keys;
  bool duplicate = false;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1
      && !keys.insert(parsed.get<std::string>()).second)
      duplicate = true;
    return true;
  };
  json doc;
  try {
    doc = json::parse(text.begin(), text.end(), callback);
  } catch (const json::parse_error& e) {
    return make_error(fallback, "invalid_json",
      "not valid JSON text (UTF-8) at byte " + std::to_string(e.byte));
  } catch (const json::exception&) {
    // E.g. out_of_range for a number beyond a double (1e999).
    return make_error(
      fallback, "invalid_json", "a number is out of the range of a double");
  }
  if (!doc.is_object())
    return make_error(
      fallback, "not_an_object", "a request must be a JSON object");
  bool has_op = doc.contains("op");
  bool has_method = doc.contains("method");
  if (has_op && has_method)
    return make_error(fallback, "ambiguous_dialect",
      "a request has either \"op\" (native) or \"method\" (Binance)");
  if (!has_op && !has_method)
    return make_error(fallback, "missing_field",
      "a request needs \"op\" (native) or \"method\" (Binance)");
  auto dialect = has_method ? ws_dialect::binance : ws_dialect::native;
  std::string id_json;
  if (!read_id(doc, id_json))
    return make_error(dialect, "invalid_id",
      "\"id\" must be a 64-bit integer, null or a string of 1 to 36 "
      "letters, digits, '-' or '_'");
  if (duplicate)
    return make_error(dialect, "duplicate_key", "a key appears more than once",
      std::move(id_json));
  if (dialect == ws_dialect::binance)
    return parse_binance(doc, std::move(id_json));
  return parse_native(doc, std::move(id_json));
}

// -- replies
// -------------------------------------------------------------------

std::string native_ack(
  ws_op op, const ws_stream& stream, std::string_view id_json) {
  std::string out = op == ws_op::subscribe ? R"({"type":"subscribed",)"
                                           : R"({"type":"unsubscribed",)";
  append_stream_members(out, stream);
  out += ",\"id\":";
  out += id_json;
  out += '}';
  return out;
}

std::string native_pong(std::string_view id_json) {
  std::string out = R"({"type":"pong")";
  if (id_json != "null") {
    out += ",\"id\":";
    out += id_json;
  }
  out += '}';
  return out;
}

std::string native_subscriptions(
  const std::vector<ws_stream>& streams, std::string_view id_json) {
  std::string out = R"({"type":"subscriptions","subscriptions":[)";
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (i > 0)
      out += ',';
    out += '{';
    append_stream_members(out, streams[i]);
    out += '}';
  }
  out += "],\"id\":";
  out += id_json;
  out += '}';
  return out;
}

std::string native_error(
  std::string_view code, std::string_view message, std::string_view id_json) {
  std::string out = R"({"type":"error","code":)";
  append_json_string(out, code);
  out += ",\"message\":";
  append_json_string(out, message);
  out += ",\"id\":";
  out += id_json;
  out += '}';
  return out;
}

std::string binance_result(std::string_view id_json) {
  std::string out = R"({"result":null,"id":)";
  out += id_json;
  out += '}';
  return out;
}

std::string binance_subscriptions(
  const std::vector<ws_stream>& streams, std::string_view id_json) {
  std::string out = R"({"result":[)";
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, binance_stream_name(streams[i]));
  }
  out += "],\"id\":";
  out += id_json;
  out += '}';
  return out;
}

int binance_error_code(std::string_view code) noexcept {
  return code == "invalid_json" ? 3 : 2;
}

std::string binance_error(
  std::string_view code, std::string_view message, std::string_view id_json) {
  auto n = binance_error_code(code);
  std::string msg = n == 3 ? "Invalid JSON: " : "Invalid request: ";
  msg += message;
  std::string out = R"({"error":{"code":)";
  append_json_int(out, n);
  out += ",\"msg\":";
  append_json_string(out, msg);
  out += "},\"id\":";
  out += id_json;
  out += '}';
  return out;
}

std::string error_reply(const ws_protocol_error& error) {
  if (error.dialect == ws_dialect::binance)
    return binance_error(error.code, error.message, error.id_json);
  return native_error(error.code, error.message, error.id_json);
}

std::string ack_reply(
  const ws_request& request, const std::vector<ws_stream>& subscriptions) {
  if (request.dialect == ws_dialect::binance) {
    if (request.op == ws_op::list_subscriptions)
      return binance_subscriptions(subscriptions, request.id_json);
    return binance_result(request.id_json);
  }
  switch (request.op) {
    case ws_op::subscribe:
    case ws_op::unsubscribe:
      if (!request.streams.empty())
        return native_ack(request.op, request.streams.front(), request.id_json);
      break;
    case ws_op::ping:
      return native_pong(request.id_json);
    case ws_op::list_subscriptions:
      return native_subscriptions(subscriptions, request.id_json);
  }
  return native_error("invalid_params", "no stream", request.id_json);
}

} // namespace csp::api
