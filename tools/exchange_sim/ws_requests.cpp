#include "tools/exchange_sim/ws_requests.hpp"

#include <nlohmann/json.hpp>

namespace csp::tools {

std::string ws_result(std::string_view result_json, std::string_view id) {
  std::string out = R"({"result":)";
  out += result_json;
  out += R"(,"id":)";
  out += id;
  out += '}';
  return out;
}

std::string ws_error(int code, std::string_view msg, std::string_view id) {
  nlohmann::json err{{"code", code}, {"msg", msg}};
  std::string out = R"({"error":)";
  out += err.dump();
  out += R"(,"id":)";
  out += id;
  out += '}';
  return out;
}

std::string json_string_array(const std::vector<std::string>& names) {
  return nlohmann::json(names).dump();
}

bool valid_stream_name(std::string_view name) {
  auto at = name.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == name.size())
    return false;
  for (char c : name.substr(0, at))
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return false;
  for (char c : name.substr(at + 1))
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '_' || c == '@'))
      return false;
  return true;
}

ws_request parse_ws_request(std::string_view text) {
  ws_request r;
  auto fail = [&r](int code, std::string_view msg) {
    r.method = ws_request::kind::invalid;
    r.error_reply = ws_error(code, msg, r.id);
    return r;
  };
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded())
    return fail(3, "Invalid JSON: expected value at line 1 column 1");
  if (!j.is_object())
    return fail(2, "Invalid request: expected an object");
  if (auto it = j.find("id"); it != j.end()) {
    if (it->is_number_unsigned() || it->is_string() || it->is_null())
      r.id = it->dump();
    else
      return fail(2,
        "Invalid request: request ID must be an unsigned "
        "integer");
  }
  auto m = j.find("method");
  if (m == j.end() || !m->is_string())
    return fail(2, "Invalid request: missing field `method`");
  auto method = m->get<std::string>();
  if (method == "SUBSCRIBE")
    r.method = ws_request::kind::subscribe;
  else if (method == "UNSUBSCRIBE")
    r.method = ws_request::kind::unsubscribe;
  else if (method == "LIST_SUBSCRIPTIONS")
    r.method = ws_request::kind::list_subscriptions;
  else if (method == "GET_PROPERTY")
    r.method = ws_request::kind::get_property;
  else if (method == "SET_PROPERTY")
    r.method = ws_request::kind::set_property;
  else
    return fail(2,
      "Invalid request: unknown variant `" + method
        + "`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, "
          "`LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, "
          "`GET_PROPERTY`");
  auto kind = r.method;
  auto p = j.find("params");
  if (kind == ws_request::kind::list_subscriptions)
    return r;
  if (p == j.end() || !p->is_array())
    return fail(2, "Invalid request: missing field `params`");
  if (kind == ws_request::kind::set_property) {
    if (p->size() != 2 || !(*p)[0].is_string())
      return fail(2, "Invalid request: property name must be a string");
    if ((*p)[0].get<std::string>() != "combined")
      return fail(0, "Unknown property");
    if (!(*p)[1].is_boolean())
      return fail(1, "Invalid value type: expected Boolean");
    r.params.emplace_back("combined");
    r.value = (*p)[1].get<bool>();
    return r;
  }
  for (auto& x : *p) {
    if (!x.is_string())
      return fail(2, "Invalid request: params must be strings");
    r.params.push_back(x.get<std::string>());
  }
  if (kind == ws_request::kind::get_property) {
    if (r.params.size() != 1)
      return fail(2, "Invalid request: property name must be a string");
    if (r.params[0] != "combined")
      return fail(0, "Unknown property");
    return r;
  }
  if (r.params.size() > 1024)
    return fail(2, "Invalid request: too many parameters");
  for (auto& name : r.params)
    if (!valid_stream_name(name))
      return fail(2, "Invalid request: invalid stream name `" + name + "`");
  return r;
}

} // namespace csp::tools
