#include "api/routes.hpp"

namespace csp::api {

const std::vector<route>& api_routes() noexcept {
  static const std::vector<route> table{
    {route_id::health_live, "GET", "/health", access::open, false},
    {route_id::health, "GET", "/api/v1/health", access::open, true},
    {route_id::symbols, "GET", "/api/v1/symbols", access::read, true},
    {route_id::charts, "GET", "/api/v1/charts/{symbol}", access::read, true},
    {route_id::klines, "GET", "/api/v1/klines", access::read, true},
    {route_id::quality, "GET", "/api/v1/quality/{symbol}", access::read, true},
    {route_id::export_csv, "GET", "/api/v1/export/{symbol}", access::read,
      true},
    {route_id::admin_add_symbol, "POST", "/api/v1/admin/symbols", access::admin,
      true},
    {route_id::admin_remove_symbol, "DELETE",
      "/api/v1/admin/symbols/{exchange}/{symbol}", access::admin, true},
    {route_id::metrics, "GET", "/metrics", access::open, false},
    {route_id::openapi, "GET", "/openapi.json", access::open, true},
    {route_id::websocket, "GET", "/ws", access::read, true},
  };
  return table;
}

namespace {

std::vector<std::string_view> split(std::string_view pattern) {
  std::vector<std::string_view> out;
  std::size_t pos = 1;
  while (pos <= pattern.size()) {
    auto next = pattern.find('/', pos);
    if (next == std::string_view::npos)
      next = pattern.size();
    out.push_back(pattern.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

bool matches(std::string_view pattern, const std::vector<std::string>& segments,
  std::map<std::string, std::string, std::less<>>& params) {
  auto parts = split(pattern);
  if (parts.size() != segments.size())
    return false;
  std::map<std::string, std::string, std::less<>> found;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto p = parts[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}')
      found.emplace(std::string{p.substr(1, p.size() - 2)}, segments[i]);
    else if (p != segments[i])
      return false;
  }
  params = std::move(found);
  return true;
}

} // namespace

route_match match_route(
  std::string_view method, const std::vector<std::string>& segments) {
  route_match out;
  for (const auto& r : api_routes()) {
    std::map<std::string, std::string, std::less<>> params;
    if (!matches(r.pattern, segments, params))
      continue;
    if (r.method == method) {
      out.r = &r;
      out.params = std::move(params);
      out.wrong_method = false;
      return out;
    }
    out.wrong_method = true;
    if (!out.allow.empty())
      out.allow += ", ";
    out.allow += r.method;
  }
  return out;
}

std::string_view endpoint_label(const route* r) noexcept {
  if (r == nullptr)
    return "other";
  if (r->id == route_id::web_asset)
    return "static";
  return r->pattern;
}

} // namespace csp::api
