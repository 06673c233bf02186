#include "web/web_assets.hpp"

namespace csp::api {

const web_asset* find_web_asset(std::string_view path) noexcept {
  if (path == "/")
    path = "/index.html";
  for (const auto& asset : all_web_assets())
    if (asset.path == path)
      return &asset;
  return nullptr;
}

} // namespace csp::api
