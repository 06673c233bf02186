// Placeholder translation unit; structured logging lands with the module.
namespace csp::monitoring {} // namespace csp::monitoring
