#define CAF_SUITE api.openapi
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/jwt.hpp"
#include "api/routes.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/timeframe.hpp"

using namespace csp::api;
using json = nlohmann::json;

namespace {

using strings = std::vector<std::string>;

/// Concatenates the printed forms of `xs`.
template <class... Ts>
std::string cat(const Ts&... xs) {
  std::ostringstream out;
  (out << ... << xs);
  return out.str();
}

/// Returns `ok`, logging `what` when it is false (for CAF_CHECK).
bool said(bool ok, const std::string& what) {
  if (!ok)
    CAF_MESSAGE("failed: " << what);
  return ok;
}

/// The HTTP methods a path item may hold.
const std::set<std::string, std::less<>> http_methods{
  "get", "put", "post", "delete", "options", "head", "patch", "trace"};

/// Members of a path item that are not operations.
const std::set<std::string, std::less<>> path_item_fields{
  "summary", "description", "servers", "parameters", "$ref"};

std::string lower(std::string_view text) {
  std::string out{text};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string upper(std::string_view text) {
  std::string out{text};
  for (auto& c : out)
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  return out;
}

/// The names in braces of a path pattern.
strings path_params(std::string_view pattern) {
  strings out;
  std::size_t pos = 0;
  while ((pos = pattern.find('{', pos)) != std::string_view::npos) {
    auto close = pattern.find('}', pos);
    if (close == std::string_view::npos)
      break;
    out.emplace_back(pattern.substr(pos + 1, close - pos - 1));
    pos = close + 1;
  }
  return out;
}

/// The member of `j` at JSON pointer `pointer`, or null when there is none.
json at(const json& j, const std::string& pointer) {
  json::json_pointer ptr{pointer};
  return j.contains(ptr) ? j.at(ptr) : json{};
}

bool is_local_ref(const json& value) {
  return value.is_object() && value.contains("$ref")
    && value["$ref"].is_string()
    && value["$ref"].get<std::string>().rfind("#/", 0) == 0;
}

/// Follows local `$ref`s; returns null for a reference that does not
/// resolve.
json resolve(const json& doc, json value) {
  for (int hops = 0; hops < 16 && is_local_ref(value); ++hops) {
    json::json_pointer ptr{value["$ref"].get<std::string>().substr(1)};
    if (!doc.contains(ptr))
      return nullptr;
    value = doc.at(ptr);
  }
  return value;
}

/// Collects every `$ref` value anywhere in `value`.
void collect_refs(const json& value, strings& out) {
  if (value.is_object()) {
    for (const auto& item : value.items()) {
      if (item.key() == "$ref" && item.value().is_string())
        out.push_back(item.value().get<std::string>());
      else
        collect_refs(item.value(), out);
    }
  } else if (value.is_array()) {
    for (const auto& x : value)
      collect_refs(x, out);
  }
}

/// The parameters of an operation, references resolved.
std::vector<json> parameters_of(const json& doc, const json& op) {
  std::vector<json> out;
  if (op.contains("parameters"))
    for (const auto& p : op["parameters"])
      out.push_back(resolve(doc, p));
  return out;
}

strings timeframe_labels() {
  strings out;
  for (auto tf : csp::messages::all_timeframes)
    out.emplace_back(csp::messages::to_string(tf));
  return out;
}

strings enum_of(const json& doc, const json& schema) {
  auto s = resolve(doc, schema);
  strings out;
  if (s.is_object() && s.contains("enum"))
    for (const auto& x : s["enum"])
      out.push_back(x.is_string() ? x.get<std::string>() : x.dump());
  return out;
}

bool has_entry(const json& security, const json& entry) {
  return std::find(security.begin(), security.end(), entry) != security.end();
}

struct fixture {
  json doc;

  fixture() {
    doc = json::parse(openapi_json(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
      CAF_FAIL("openapi_json() is not a JSON object");
  }

  json paths() const { return at(doc, "/paths"); }

  /// The operation of `r`, or null.
  json operation(const route& r) const {
    json::json_pointer ptr;
    ptr.push_back("paths");
    ptr.push_back(std::string{r.pattern});
    ptr.push_back(lower(r.method));
    return doc.contains(ptr) ? doc.at(ptr) : json{};
  }

  /// Every operation with its path and method.
  template <class F>
  void for_each_operation(F f) const {
    auto all = paths();
    for (const auto& path : all.items())
      for (const auto& op : path.value().items())
        if (http_methods.count(op.key()) > 0)
          f(path.key(), op.key(), op.value());
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(openapi_tests, fixture)

CAF_TEST(the document is OpenAPI 3.0.3 and built once) {
  CAF_CHECK_EQUAL(doc.value("openapi", ""), "3.0.3");
  CAF_CHECK_EQUAL(at(doc, "/info/title"), "Crypto-Stock Platform API");
  CAF_CHECK_EQUAL(at(doc, "/info/version"), "1");
  CAF_CHECK(paths().is_object());
  CAF_CHECK_EQUAL(&openapi_json(), &openapi_json());
}

CAF_TEST(every route is documented) {
  for (const auto& r : api_routes()) {
    CAF_MESSAGE(r.method << " " << r.pattern);
    CAF_CHECK(operation(r).is_object());
  }
}

CAF_TEST(every documented operation is a route) {
  auto all = paths();
  CAF_REQUIRE(all.is_object());
  for (const auto& path : all.items())
    for (const auto& member : path.value().items())
      if (http_methods.count(member.key()) == 0)
        CAF_CHECK(said(path_item_fields.count(member.key()) > 0,
          cat(path.key(), ": unexpected member ", member.key())));
  std::size_t count = 0;
  for_each_operation(
    [&](const std::string& path, const std::string& method, const json&) {
      ++count;
      auto m = upper(method);
      auto same
        = [&](const route& r) { return r.pattern == path && r.method == m; };
      const auto& table = api_routes();
      CAF_CHECK(said(std::any_of(table.begin(), table.end(), same),
        cat(m, " ", path, " is not in api_routes()")));
    });
  CAF_CHECK_EQUAL(count, api_routes().size());
}

CAF_TEST(path parameters are declared and required) {
  for (const auto& r : api_routes()) {
    auto op = operation(r);
    if (!op.is_object())
      continue; // Reported by "every route is documented".
    auto params = parameters_of(doc, op);
    auto names = path_params(r.pattern);
    for (const auto& name : names) {
      auto declared = [&](const json& p) {
        return p.value("name", "") == name && p.value("in", "") == "path"
          && p.value("required", false);
      };
      CAF_CHECK(said(std::any_of(params.begin(), params.end(), declared),
        cat(r.pattern, ": {", name, "} is not a required path parameter")));
    }
    for (const auto& p : params) {
      CAF_CHECK(said(p.is_object() && p.contains("name") && p.contains("in"),
        cat(r.pattern, ": a parameter without name or in")));
      if (p.value("in", "") == "path")
        CAF_CHECK(
          said(std::count(names.begin(), names.end(), p.value("name", "")) == 1,
            cat(r.pattern, ": path parameter ", p.value("name", ""),
              " is not in the path")));
    }
  }
}

CAF_TEST(operations have unique ids and a success response) {
  std::set<std::string> ids;
  for_each_operation(
    [&](const std::string& path, const std::string& method, const json& op) {
      auto where = method + " " + path;
      if (!op.contains("operationId"))
        CAF_FAIL(where << ": no operationId");
      auto id = op["operationId"].get<std::string>();
      CAF_CHECK(said(!id.empty(), where));
      auto fresh = ids.insert(id).second;
      CAF_CHECK(said(fresh, cat(where, ": duplicate id ", id)));
      auto res = at(op, "/responses");
      CAF_CHECK(
        said(res.contains("200") || res.contains("201") || res.contains("101"),
          cat(where, ": no success response")));
      for (const auto& item : res.items())
        CAF_CHECK(said(resolve(doc, item.value()).contains("description"),
          cat(where, " ", item.key(), ": no description")));
    });
  CAF_CHECK_EQUAL(ids.size(), api_routes().size());
}

CAF_TEST(security follows the access level) {
  auto scheme = at(doc, "/components/securitySchemes/bearer");
  CAF_CHECK_EQUAL(scheme.value("type", ""), "http");
  CAF_CHECK_EQUAL(scheme.value("scheme", ""), "bearer");
  CAF_CHECK_EQUAL(scheme.value("bearerFormat", ""), "JWT");
  CAF_CHECK(!doc.contains("security")); // No default for all operations.
  json anonymous = json::object();
  json bearer = json{{"bearer", json::array()}};
  for (const auto& r : api_routes()) {
    auto op = operation(r);
    if (!op.is_object())
      continue; // Reported by "every route is documented".
    CAF_MESSAGE(r.method << " " << r.pattern);
    auto security = op.value("security", json::array());
    auto res = at(op, "/responses");
    switch (r.level) {
      case access::open:
        CAF_CHECK(security.empty());
        CAF_CHECK(!res.contains("401"));
        break;
      case access::read:
        CAF_CHECK_EQUAL(security.size(), 2u);
        CAF_CHECK(has_entry(security, anonymous));
        CAF_CHECK(has_entry(security, bearer));
        CAF_CHECK(res.contains("401"));
        break;
      case access::admin:
        CAF_CHECK_EQUAL(security, json::array({bearer}));
        CAF_CHECK(res.contains("401"));
        CAF_CHECK(res.contains("403"));
        break;
    }
    CAF_CHECK_EQUAL(res.contains("429"), r.limited);
  }
}

CAF_TEST(every reference resolves) {
  strings refs;
  collect_refs(doc, refs);
  CAF_CHECK(!refs.empty());
  for (const auto& ref : refs) {
    CAF_CHECK(said(ref.rfind("#/", 0) == 0, cat(ref, " is not local")));
    if (ref.rfind("#/", 0) == 0)
      CAF_CHECK(said(doc.contains(json::json_pointer{ref.substr(1)}),
        cat(ref, " does not resolve")));
  }
}

CAF_TEST(timeframe enums are the served timeframes) {
  auto labels = timeframe_labels();
  CAF_REQUIRE_EQUAL(labels.size(), 6u);
  CAF_CHECK_EQUAL(
    enum_of(doc, at(doc, "/components/schemas/Timeframe")), labels);
  std::size_t seen = 0;
  for_each_operation(
    [&](const std::string& path, const std::string&, const json& op) {
      for (const auto& p : parameters_of(doc, op)) {
        auto name = p.value("name", "");
        if (name != "timeframe" && name != "interval")
          continue;
        ++seen;
        CAF_CHECK(said(enum_of(doc, at(p, "/schema")) == labels,
          cat(path, ": ", name, " enum differs")));
      }
    });
  // charts and export take timeframe, klines takes interval.
  CAF_CHECK_EQUAL(seen, 3u);
}

CAF_TEST(schemas follow the formats) {
  auto schemas = at(doc, "/components/schemas");
  CAF_CHECK_EQUAL(at(schemas, "/Error/required"), json::array({"error"}));
  CAF_CHECK_EQUAL(at(schemas, "/Error/properties/error/required"),
    json::array({"code", "message"}));
  strings bar_fields{"exchange", "symbol", "timeframe", "open_time",
    "close_time", "open", "high", "low", "close", "volume", "quote_volume",
    "taker_buy_volume", "taker_buy_quote_volume", "trade_count",
    "first_trade_id", "last_trade_id", "revision", "closed", "indicators"};
  auto bar_props = at(schemas, "/Bar/properties");
  CAF_REQUIRE(bar_props.is_object());
  strings documented;
  for (const auto& item : bar_props.items())
    documented.push_back(item.key());
  std::sort(documented.begin(), documented.end());
  std::sort(bar_fields.begin(), bar_fields.end());
  CAF_CHECK_EQUAL(documented, bar_fields);
  CAF_CHECK_EQUAL(at(schemas, "/Indicators/nullable"), true);
  auto indicator_props = at(schemas, "/Indicators/properties");
  CAF_REQUIRE(indicator_props.is_object());
  strings names;
  for (const auto& item : indicator_props.items()) {
    names.push_back(item.key());
    CAF_CHECK_EQUAL(at(item.value(), "/nullable"), true);
  }
  strings expected;
  for (auto name : csp::messages::indicator_names)
    expected.emplace_back(name);
  std::sort(names.begin(), names.end());
  std::sort(expected.begin(), expected.end());
  CAF_CHECK_EQUAL(names, expected);
}

CAF_TEST(shared error responses carry their codes and headers) {
  auto responses = at(doc, "/components/responses");
  auto unauthorized
    = at(responses, "/Unauthorized/content/application~1json/examples");
  CAF_REQUIRE(unauthorized.is_object());
  CAF_CHECK(unauthorized.contains("missing_token"));
  for (auto x : {jwt_errc::malformed, jwt_errc::unsupported_algorithm,
         jwt_errc::bad_signature, jwt_errc::expired, jwt_errc::not_yet_valid,
         jwt_errc::missing_claim, jwt_errc::bad_role})
    CAF_CHECK(said(unauthorized.contains(std::string{to_string(x)}),
      cat(to_string(x), " is not documented")));
  for (const auto& item : unauthorized.items())
    CAF_CHECK_EQUAL(at(item.value(), "/value/error/code"), item.key());
  auto forbidden
    = at(responses, "/Forbidden/content/application~1json/examples");
  CAF_CHECK(forbidden.contains("forbidden"));
  CAF_CHECK(forbidden.contains("admin_disabled"));
  CAF_CHECK(at(responses, "/RateLimited/headers/Retry-After").is_object());
  CAF_CHECK(at(responses, "/MethodNotAllowed/headers/Allow").is_object());
}

CAF_TEST(the export documents the CSV header the code writes) {
  const route* export_route = nullptr;
  for (const auto& r : api_routes())
    if (r.id == route_id::export_csv)
      export_route = &r;
  CAF_REQUIRE(export_route != nullptr);
  auto op = operation(*export_route);
  CAF_REQUIRE(op.is_object());
  auto text = at(op, "/responses/200/content/text~1csv/example");
  CAF_REQUIRE(text.is_string());
  auto example = text.get<std::string>();
  CAF_CHECK_EQUAL(example.rfind("open_time,close_time,open,", 0), 0u);
  std::string_view tail = ",vwap\r\n";
  CAF_REQUIRE_GREATER(example.size(), tail.size());
  CAF_CHECK_EQUAL(example.substr(example.size() - tail.size()), tail);
}

CAF_TEST_FIXTURE_SCOPE_END()
