#pragma once

// The API's endpoints: one table that the server routes by, the metrics
// label every request is counted under, the access level each needs, and
// what /openapi.json documents (a test checks the two agree). Pure.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace csp::api {

/// Who may call an endpoint.
enum class access {
  /// Anyone (liveness, metrics, the chart page, the OpenAPI document).
  open,
  /// Anyone, unless `api.reads_require_auth`: then a viewer or admin token.
  read,
  /// An admin token, always.
  admin,
};

/// Every endpoint.
enum class route_id {
  health_live,
  health,
  symbols,
  charts,
  klines,
  quality,
  export_csv,
  admin_add_symbol,
  admin_remove_symbol,
  metrics,
  openapi,
  websocket,
  web_asset,
};

/// One endpoint: method, path pattern ({name} matches one segment), the
/// `endpoint` label of the http_* metrics and the access level.
struct route {
  route_id id;
  std::string_view method;
  std::string_view pattern;
  access level;
  /// Whether the rate limiter counts it (not for liveness and scrapes).
  bool limited;
};

/// The route table (web_asset is matched separately: any GET of an asset
/// of the chart page).
const std::vector<route>& api_routes() noexcept;

/// The result of matching a request.
struct route_match {
  /// The endpoint, or null when no pattern matches the path.
  const route* r = nullptr;
  /// Path parameters by name.
  std::map<std::string, std::string, std::less<>> params;
  /// The path matched a pattern but not with this method; `allow` lists
  /// the methods it has.
  bool wrong_method = false;
  std::string allow;
};

/// Matches decoded path segments against the table.
route_match match_route(
  std::string_view method, const std::vector<std::string>& segments);

/// The `endpoint` label of a route: its pattern ("/api/v1/charts/{symbol}");
/// "static" for the chart page's assets, "other" for unknown paths.
std::string_view endpoint_label(const route* r) noexcept;

/// The OpenAPI 3.0 document of every route (JSON).
const std::string& openapi_json();

} // namespace csp::api
