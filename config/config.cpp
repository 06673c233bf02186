// Placeholder translation unit; the loader lands with the config module.
namespace csp::config {} // namespace csp::config
