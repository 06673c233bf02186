#define CAF_SUITE web_assets
#include "caf/test/unit_test.hpp"

#include "web/web_assets.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace csp::api;
namespace fs = std::filesystem;
using namespace std::literals;

namespace {

const fs::path web_dir{CSP_WEB_DIR};

constexpr std::string_view library_path
  = "/vendor/lightweight-charts.standalone.production.js";

std::string read_file(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  CAF_REQUIRE(in.good());
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

std::vector<fs::path> source_files() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator{web_dir / "src"})
    if (entry.is_regular_file())
      out.push_back(entry.path());
  return out;
}

std::string expected_type(const fs::path& file) {
  auto ext = file.extension().string();
  if (ext == ".html")
    return "text/html; charset=utf-8";
  if (ext == ".js")
    return "text/javascript; charset=utf-8";
  if (ext == ".css")
    return "text/css; charset=utf-8";
  return "unexpected extension " + ext;
}

std::string fnv1a_etag(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (char ch : bytes) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ULL;
  }
  char buf[19];
  std::snprintf(
    buf, sizeof(buf), "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

// What a lookup of `path` finds, with the path, so a failure names it.
std::string lookup(std::string_view path) {
  auto asset = find_web_asset(path);
  return "'" + std::string{path} + "' -> "
    + (asset ? std::string{asset->path} : "nullptr");
}

std::string not_found(std::string_view path) {
  return "'" + std::string{path} + "' -> nullptr";
}

// Every value of `attr="..."` in `text`.
std::vector<std::string> attribute_values(
  std::string_view text, std::string_view attr) {
  std::vector<std::string> out;
  auto key = std::string{attr} + "=\"";
  for (auto pos = text.find(key); pos != std::string_view::npos;
       pos = text.find(key, pos + 1)) {
    auto start = pos + key.size();
    auto end = text.find('"', start);
    if (end == std::string_view::npos)
      break;
    out.emplace_back(text.substr(start, end - start));
  }
  return out;
}

} // namespace

CAF_TEST(every file of web src is served with its bytes and type) {
  auto files = source_files();
  CAF_REQUIRE(!files.empty());
  for (const auto& file : files) {
    auto path = "/" + file.filename().string();
    CAF_MESSAGE("checking " << path);
    auto asset = find_web_asset(path);
    CAF_REQUIRE(asset != nullptr);
    CAF_CHECK_EQUAL(asset->path, path);
    CAF_CHECK_EQUAL(asset->content_type, expected_type(file));
    auto bytes = read_file(file);
    CAF_CHECK_EQUAL(asset->body.size(), bytes.size());
    CAF_CHECK(asset->body == bytes);
  }
  // Nothing else but the library bundle.
  CAF_CHECK_EQUAL(all_web_assets().size, files.size() + 1);
}

CAF_TEST(the page and its scripts are there) {
  for (auto path :
    {"/index.html"sv, "/app.js"sv, "/chart_data.js"sv, "/style.css"sv})
    CAF_CHECK(find_web_asset(path) != nullptr);
}

CAF_TEST(the root serves index html) {
  auto root = find_web_asset("/");
  CAF_REQUIRE(root != nullptr);
  CAF_CHECK(root == find_web_asset("/index.html"));
  CAF_CHECK_EQUAL(root->content_type, "text/html; charset=utf-8");
  CAF_CHECK(root->body.find("<!doctype html>") == 0);
}

CAF_TEST(the charting library bundle is embedded from node_modules) {
  auto lib = find_web_asset(library_path);
  CAF_REQUIRE(lib != nullptr);
  CAF_CHECK_EQUAL(lib->content_type, "text/javascript; charset=utf-8");
  auto bytes = read_file(web_dir / "node_modules/lightweight-charts/dist"
    / "lightweight-charts.standalone.production.js");
  CAF_CHECK_GREATER(lib->body.size(), 100000u);
  CAF_CHECK(lib->body == bytes);
  CAF_CHECK(
    lib->body.find("TradingView Lightweight Charts") != std::string_view::npos);
}

CAF_TEST(every local reference of the page resolves to an asset) {
  auto index = find_web_asset("/index.html");
  CAF_REQUIRE(index != nullptr);
  std::vector<std::string> refs = attribute_values(index->body, "src");
  for (auto& href : attribute_values(index->body, "href"))
    refs.push_back(std::move(href));
  std::size_t local = 0;
  for (const auto& ref : refs) {
    if (ref.rfind("http", 0) == 0 || ref.rfind("data:", 0) == 0)
      continue;
    ++local;
    auto path = ref.front() == '/' ? ref : "/" + ref;
    CAF_MESSAGE("reference " << ref);
    CAF_CHECK(find_web_asset(path) != nullptr);
  }
  CAF_CHECK_EQUAL(local, 3u); // library bundle, app.js, style.css
  auto app = find_web_asset("/app.js");
  CAF_REQUIRE(app != nullptr);
  CAF_CHECK(app->body.find("from './chart_data.js'") != std::string_view::npos);
}

CAF_TEST(etags are quoted hashes of the bodies) {
  std::set<std::string_view> seen;
  std::string_view previous;
  for (const auto& asset : all_web_assets()) {
    CAF_MESSAGE(asset.path << " " << asset.etag);
    CAF_CHECK_EQUAL(asset.etag, fnv1a_etag(asset.body));
    CAF_CHECK(seen.insert(asset.etag).second);
    CAF_CHECK_LESS(previous, asset.path); // sorted, no duplicates
    previous = asset.path;
  }
}

CAF_TEST(unknown paths give nullptr) {
  for (auto path :
    {""sv, "/nope.js"sv, "/index.htm"sv, "index.html"sv, "/INDEX.HTML"sv,
      "/app.js?v=1"sv, "/app.js#x"sv, "/vendor"sv, "/vendor/"sv,
      "/src/app.js"sv, "/node_modules/lightweight-charts/package.json"sv,
      "/web_assets.hpp"sv, "/CMakeLists.txt"sv, "/favicon.ico"sv})
    CAF_CHECK_EQUAL(lookup(path), not_found(path));
}

CAF_TEST(path tricks give nullptr) {
  for (auto path : {"/../index.html"sv, "/./index.html"sv, "//index.html"sv,
         "//"sv, "/vendor/../index.html"sv, "/vendor/./../app.js"sv,
         "/%2e%2e/index.html"sv, "/%2E%2E/index.html"sv, "/%2e/app.js"sv,
         "/%61pp.js"sv, "/index%2ehtml"sv,
         "/vendor//lightweight-charts."
         "standalone.production.js"sv,
         "/app.js/"sv, "/app.js/."sv, "\\index.html"sv, "/.\\app.js"sv,
         "/index.html "sv, " /index.html"sv, "/index.html\0"sv,
         "/index.html\0.png"sv, "/..%2findex.html"sv,
         "/vendor%2flightweight-charts.standalone.production.js"sv})
    CAF_CHECK_EQUAL(lookup(path), not_found(path));
}
