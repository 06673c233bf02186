// libFuzzer target for api/query: request targets, parameter readers and
// the time parser.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/query.hpp"

namespace {

using namespace csp::api;

void require(bool ok) {
  if (!ok)
    std::abort();
}

/// Percent-encodes every byte outside RFC 3986's unreserved set.
std::string encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
      || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
      || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

void check_text(const std::string& s) {
  require(s.find('\0') == std::string::npos);
  require(is_valid_utf8(s));
  // Every decoded string can be echoed into a JSON error body.
  auto dumped = nlohmann::json(s).dump();
  require(!dumped.empty());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(
  const std::uint8_t* data, std::size_t size) {
  std::string_view in{reinterpret_cast<const char*>(data), size};
  if (auto v = parse_time_ms(in))
    require(*v >= 0 && *v <= 253'402'300'799'999);
  if (auto v = parse_non_negative(in))
    require(*v >= 0);
  auto res = parse_target(in);
  const auto* t = std::get_if<parsed_target>(&res);
  if (t == nullptr) {
    check_text(std::get<std::string>(res));
    return 0;
  }
  require(in.size() <= max_target_size);
  require(t->params.size() <= max_query_params);
  std::string path;
  for (const auto& seg : t->segments) {
    check_text(seg);
    require(!seg.empty() && seg != "." && seg != "..");
    path += '/';
    path += seg;
  }
  require(t->path == (path.empty() ? std::string{"/"} : path));
  check_text(t->path);
  // Encoding the parts again gives a target that parses to the same.
  std::string again = path.empty() ? "/" : "";
  for (const auto& seg : t->segments)
    again += "/" + encode(seg);
  char sep = '?';
  for (const auto& [name, value] : t->params) {
    check_text(name);
    check_text(value);
    require(!name.empty());
    again += sep + encode(name) + "=" + encode(value);
    sep = '&';
    auto i = int_param(*t, name, 0, 1000);
    // The parameter is present: a value or an error, never both.
    require(i.ok() == i.value.has_value());
    if (i.value)
      require(*i.value >= 0 && *i.value <= 1000);
    check_text(i.error);
    auto tp = time_param(*t, name);
    require(tp.ok() == tp.value.has_value());
    check_text(tp.error);
  }
  if (again.size() <= max_target_size) {
    auto res2 = parse_target(again);
    const auto* t2 = std::get_if<parsed_target>(&res2);
    require(t2 != nullptr);
    require(t2->segments == t->segments && t2->params == t->params
      && t2->path == t->path);
  }
  if (auto err = check_known_params(*t, {"symbol", "limit"}))
    check_text(*err);
  return 0;
}
