namespace csp::actors {} // namespace csp::actors
