#include "api/cors.hpp"

#include <algorithm>

#include "config/config.hpp"

namespace csp::api {

std::optional<std::string> check_cors_origin(std::string_view origin) {
  return config::check_cors_origin(origin);
}

std::optional<std::string> check_cors_config(const cors_config& cfg) {
  for (const auto& origin : cfg.allowed_origins)
    if (auto err = check_cors_origin(origin))
      return err;
  if (cfg.allowed_origins.size() > 1
    && std::find(cfg.allowed_origins.begin(), cfg.allowed_origins.end(), "*")
      != cfg.allowed_origins.end())
    return std::string{"\"*\" allows every origin and must be the only entry"};
  return std::nullopt;
}

std::optional<cors_headers> cors_for(
  const cors_config& cfg, std::string_view origin, bool preflight) {
  if (origin.empty())
    return std::nullopt;
  bool any = false;
  bool listed = false;
  for (const auto& allowed : cfg.allowed_origins) {
    if (allowed == "*")
      any = true;
    else if (allowed == origin)
      listed = true;
  }
  if (!any && !listed)
    return std::nullopt;
  cors_headers result;
  auto& h = result.headers;
  h.emplace_back("Access-Control-Allow-Origin",
    listed ? std::string{origin} : std::string{"*"});
  h.emplace_back("Vary", "Origin");
  if (preflight) {
    h.emplace_back("Access-Control-Allow-Methods", cors_allow_methods);
    h.emplace_back("Access-Control-Allow-Headers", cors_allow_headers);
    h.emplace_back("Access-Control-Max-Age", cors_max_age_s);
  } else {
    h.emplace_back("Access-Control-Expose-Headers", "Retry-After");
  }
  return result;
}

} // namespace csp::api
