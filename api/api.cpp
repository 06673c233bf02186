// Placeholder translation unit; the REST and WebSocket server lands here.
namespace csp::api {} // namespace csp::api
