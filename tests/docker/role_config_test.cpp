#define CAF_SUITE docker.role_configs
#include "caf/test/unit_test.hpp"

#include <map>
#include <string>

#include "config/config.hpp"

using namespace csp::config;

// docker/config/<role>.json, the configurations of the container images, are
// loaded by the node's own loader: no unknown key, no invalid value, and each
// is the role its file name says, serving where the stack expects it.

namespace {

load_result load_role(const std::string& role) {
  // DB_PASSWORD as docker-compose and Kubernetes pass it.
  env_lookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "DB_PASSWORD")
      return std::string{"secret"};
    return std::nullopt;
  };
  auto res = load_config_file(
    std::string{CSP_DOCKER_CONFIG_DIR} + "/" + role + ".json", env);
  for (auto& e : res.errors)
    CAF_MESSAGE(role << ".json: " << e);
  return res;
}

} // namespace

CAF_TEST(every role file loads and names its role) {
  const std::map<std::string, node_role> roles{{"api", node_role::api},
    {"collector", node_role::collector}, {"processor", node_role::processor}};
  for (const auto& [name, role] : roles) {
    auto res = load_role(name);
    CAF_REQUIRE(res.ok());
    auto& c = *res.config;
    CAF_CHECK(c.node.role == role);
    CAF_CHECK_EQUAL(c.node.name, name);
    // Scraped from the Prometheus container as <role>:9090.
    CAF_CHECK_EQUAL(c.metrics.bind, "0.0.0.0");
    CAF_CHECK_EQUAL(c.metrics.port, 9090);
    CAF_CHECK_EQUAL(c.database.host, "timescaledb");
    CAF_CHECK_EQUAL(c.database.password, "secret");
    CAF_CHECK_EQUAL(c.redis.url, "redis://redis:6379");
    // Only the api node migrates; the others start after it.
    CAF_CHECK_EQUAL(c.database.migrate_on_start, role == node_role::api);
    // Only the collector talks to the exchanges.
    CAF_CHECK_EQUAL(c.exchanges.binance.enabled, role == node_role::collector);
    CAF_CHECK_EQUAL(c.exchanges.yahoo.enabled, role == node_role::collector);
  }
}

CAF_TEST(the api node listens on every interface at 8000) {
  auto res = load_role("api");
  CAF_REQUIRE(res.ok());
  CAF_CHECK_EQUAL(res.config->api.bind, "0.0.0.0");
  CAF_CHECK_EQUAL(res.config->api.port, 8000);
}
