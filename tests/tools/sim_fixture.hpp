#pragma once

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "actors/binance_parser.hpp"
#include "tools/exchange_sim/exchange_sim.hpp"

namespace csp::test {

/// Starts an in-process simulator on 127.0.0.1:0 with a trade log in a
/// fresh temporary directory, and removes everything afterwards.
struct sim_fixture {
  sim_fixture() {
    char tmpl[] = "/tmp/csp-sim-test-XXXXXX";
    dir = mkdtemp(tmpl);
    log_path = dir + "/trades.jsonl";
  }

  ~sim_fixture() {
    sim.reset();
    std::string cmd = "rm -rf '" + dir + "'";
    [[maybe_unused]] auto rc = std::system(cmd.c_str());
  }

  /// Returns a configuration with fast pings and the fixture's log.
  tools::sim_config config(double rate = 2000) const {
    tools::sim_config cfg;
    cfg.rate = rate;
    cfg.seed = 42;
    cfg.trade_log = log_path;
    cfg.ping_interval_ms = 100;
    cfg.tick_ms = 5;
    return cfg;
  }

  /// Starts the simulator; returns false (and reports) on error.
  bool start(const tools::sim_config& cfg) {
    sim = std::make_unique<tools::exchange_sim>(cfg);
    auto err = sim->start();
    if (!err.empty())
      CAF_MESSAGE("start failed: " << err);
    return err.empty();
  }

  /// Generates a self-signed localhost certificate; returns false if
  /// openssl failed.
  bool make_cert() {
    std::string cmd = std::string{"bash "} + CSP_SOURCE_DIR
      + "/scripts/gen-test-cert.sh '" + dir + "' >/dev/null";
    return std::system(cmd.c_str()) == 0;
  }

  /// Returns every line of the trade log.
  std::vector<std::string> log_lines() const {
    std::vector<std::string> out;
    std::ifstream in{log_path};
    for (std::string line; std::getline(in, line);)
      out.push_back(line);
    return out;
  }

  /// Returns the logged trades of `symbol` by id (parsed with the
  /// production parser).
  std::map<std::int64_t, messages::trade> logged(
    const std::string& symbol) const {
    std::map<std::int64_t, messages::trade> out;
    actors::binance_parser parser;
    for (auto& line : log_lines()) {
      auto r = parser.parse(line);
      if (r.status == actors::parse_status::trade && r.symbol() == symbol)
        out.emplace(r.trade.id, r.trade);
    }
    return out;
  }

  std::string dir;
  std::string log_path;
  std::unique_ptr<tools::exchange_sim> sim;
};

/// Returns the number of ms since `start`.
inline std::int64_t ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - start)
    .count();
}

} // namespace csp::test
