#include "api/routes.hpp"
namespace csp::api {
const std::string& openapi_json() {
  static const std::string doc = R"({"openapi":"3.0.3","paths":{}})";
  return doc;
}
} // namespace csp::api
