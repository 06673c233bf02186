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

} // namespace csp::app
