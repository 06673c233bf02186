#pragma once

// Helpers shared by the csp commands.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace csp::app {

/// Loads `path` (or the defaults when empty) with the process environment;
/// prints every problem to stderr prefixed by `command` and returns
/// nullopt on failure.
std::optional<config::platform_config> load_platform_config(
  const std::string& path, std::string_view command);

using config::split_list;

} // namespace csp::app
