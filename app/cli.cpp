#include "app/cli.hpp"

#include <iostream>

namespace csp::app {

std::optional<config::platform_config> load_platform_config(
  const std::string& path, std::string_view command) {
  auto env = config::process_environment();
  auto loaded = path.empty() ? config::parse_config("{}", env)
                             : config::load_config_file(path, env);
  if (!loaded.config) {
    std::cerr << "csp " << command << ": invalid configuration"
              << (path.empty() ? "" : " in " + path) << ":\n";
    for (auto& e : loaded.errors)
      std::cerr << "  - " << e << '\n';
    return std::nullopt;
  }
  return std::move(loaded.config);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty())
        out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty())
    out.push_back(cur);
  return out;
}

} // namespace csp::app
