#pragma once

#include <cstddef>
#include <string_view>

namespace csp::api {

/// One file of the chart page compiled into the binary (web/src and the
/// charting library from web/node_modules; web/CMakeLists.txt lists them).
struct web_asset {
  /// Request path, e.g. "/index.html".
  std::string_view path;
  /// Value of the Content-Type header.
  std::string_view content_type;
  /// The file's bytes.
  std::string_view body;
  /// Strong ETag of the body, quoted as the header wants it: "\"<16 hex>\"".
  std::string_view etag;
};

/// Every embedded asset, sorted by path; usable in a range-for.
struct web_asset_list {
  const web_asset* first = nullptr;
  std::size_t size = 0;
  const web_asset* begin() const noexcept { return first; }
  const web_asset* end() const noexcept { return first + size; }
};

/// All embedded assets (defined in the generated web_assets_data.cpp).
web_asset_list all_web_assets() noexcept;

/// The asset served at `path`, the path of the request target without its
/// query ("/" maps to "/index.html"). Only exact paths of embedded files
/// match: nullptr for anything else, including "//", "/../", "%2e" and other
/// spellings of a known path.
const web_asset* find_web_asset(std::string_view path) noexcept;

} // namespace csp::api
