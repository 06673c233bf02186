// `csp run`: the platform node (role all): collectors -> processing ->
// storage and other outputs, with the metrics actor serving /metrics.

#include <atomic>
#include <chrono>
#include <csignal>
#include <charconv>
#include <exception>
#include <iostream>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "app/cli.hpp"
#include "app/commands.hpp"
#include "app/node.hpp"
#include "net/url.hpp"
#include "config/config.hpp"
#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"

namespace csp::app {

namespace {

constexpr const char* run_usage = R"(usage: csp run [options]

Runs a platform node (role "all": collectors, processing, metrics).

options:
  --config FILE             JSON config file (see config/csp.example.json)
  --binance-ws-url URL      override exchanges.binance.ws_url
  --binance-rest-url URL    override exchanges.binance.rest_url
  --yahoo-url URL           override exchanges.yahoo.base_url
  --symbols LIST            override exchanges.binance.symbols (comma list)
  --stocks LIST             override exchanges.yahoo.symbols (comma list)
  --metrics-port N          override metrics.port (0: any free port)
  --api-port N              override api.port (0: any free port)
  --bars-out FILE           append every final closed bar as `csp bars` CSV
  --bars-out-timeframe TF   timeframe written to --bars-out (default 1m)
  --duration-s N            stop after N seconds (default: until SIGINT)
  --no-db                   run without PostgreSQL (nothing is stored)
  --no-cache                run without Redis (nothing is cached)
  --no-api                  run without the HTTP/WebSocket API
  --help                    this text
)";

std::atomic<int> stop_signal{0};

extern "C" void on_stop_signal(int sig) {
  stop_signal.store(sig);
}

struct node_system_config : caf::actor_system_config {
  node_system_config() {
    messages::register_types(*this);
    // An idle CAF worker polls its queue 100 times, then 500 times with a
    // 50 us nanosleep in between (25 ms of sleep/wake cycles), before it
    // waits on its condition variable. A node receives a message every few
    // milliseconds, so with the defaults its workers spend their time in
    // that middle phase (a third of the node's CPU at 100 k trades/s, see
    // BENCHMARKS.md); 10 such polls leave a short spin and then sleep until
    // work arrives.
    set("work-stealing.moderate-poll-attempts", std::size_t{10});
  }
};

} // namespace

int run_node(const arg_list& args) {
  run_options ro;
  std::string config_path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << run_usage;
      return 0;
    }
    if (a == "--no-db" || a == "--no-cache" || a == "--no-api") {
      (a == "--no-db"         ? ro.no_db
          : a == "--no-cache" ? ro.no_cache
                              : ro.no_api)
        = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      std::cerr << "csp run: unknown option or missing value: " << a << '\n'
                << run_usage;
      return 2;
    }
    const auto& v = args[++i];
    if (a == "--config") {
      config_path = v;
    } else if (a == "--binance-ws-url") {
      ro.binance_ws_url = v;
    } else if (a == "--binance-rest-url") {
      ro.binance_rest_url = v;
    } else if (a == "--yahoo-url") {
      ro.yahoo_url = v;
    } else if (a == "--symbols") {
      ro.symbols = split_list(v);
    } else if (a == "--stocks") {
      ro.stocks = split_list(v);
    } else if (a == "--metrics-port" || a == "--api-port"
      || a == "--duration-s") {
      bool port = a != "--duration-s";
      std::int64_t n = -1;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc{} || end != v.data() + v.size() || n < 0
        || (port && n > 65535)) {
        std::cerr << "csp run: " << a << " needs a non-negative integer"
                  << (port ? " up to 65535" : "") << ", got '" << v << "'\n";
        return 2;
      }
      if (a == "--metrics-port")
        ro.metrics_port = static_cast<std::uint16_t>(n);
      else if (a == "--api-port")
        ro.api_port = static_cast<std::uint16_t>(n);
      else
        ro.duration_s = n;
    } else if (a == "--bars-out") {
      ro.bars_out = v;
    } else if (a == "--bars-out-timeframe") {
      auto tf = messages::parse_timeframe(v);
      if (!tf) {
        std::cerr << "csp run: unknown timeframe '" << v << "'\n";
        return 2;
      }
      ro.bars_out_tf = *tf;
    } else {
      std::cerr << "csp run: unknown option '" << a << "'\n" << run_usage;
      return 2;
    }
  }
  auto loaded = load_platform_config(config_path, "run");
  if (!loaded)
    return 2;
  auto cfg = std::move(*loaded);
  if (auto err = apply_overrides(cfg, ro); !err.empty()) {
    std::cerr << "csp run: " << err << '\n';
    return 2;
  }
  try {
    monitoring::init_logging(cfg.log, cfg.node.name);
  } catch (const std::exception& ex) {
    std::cerr << "csp run: cannot open the log in '" << cfg.log.dir
              << "': " << ex.what() << '\n';
    return 1;
  }
  auto log = monitoring::get_logger("node");
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  int rc = 0;
  {
    node_system_config sys_cfg;
    caf::actor_system sys{sys_cfg};
    node n;
    if (auto err = start_node(sys, cfg, ro, n); !err.empty()) {
      std::cerr << "csp run: " << err << '\n';
      stop_node(sys, n);
      rc = 1;
    } else {
      std::cout << "csp run: node '" << cfg.node.name << "' up; metrics on "
                << net::local_http_base(cfg.metrics.bind, n.metrics_port)
                << "/metrics";
      if (n.api_port != 0)
        std::cout << "; chart and API on "
                  << net::local_http_base(cfg.api.bind, n.api_port) << "/";
      std::cout << "; log file " << monitoring::log_file_path() << std::endl;
      monitoring::log_event(*log, config::log_level::info, "node started",
        {{"node", cfg.node.name},
          {"metrics_port", static_cast<std::int64_t>(n.metrics_port)},
          {"api_port", static_cast<std::int64_t>(n.api_port)}});
      auto start = std::chrono::steady_clock::now();
      caf::scoped_actor self{sys};
      // A stage that dies unexpectedly ends the run with an error.
      self->monitor(n.processing);
      self->monitor(n.collectors);
      bool failed = false;
      while (stop_signal.load() == 0 && !failed) {
        if (ro.duration_s > 0
          && std::chrono::steady_clock::now() - start
            >= std::chrono::seconds{ro.duration_s})
          break;
        self->receive(
          [&](caf::down_msg& dm) {
            failed = true;
            std::cerr << "csp run: a pipeline stage stopped: "
                      << sys.render(dm.reason) << '\n';
            monitoring::log_event(*log, config::log_level::critical,
              "pipeline stage stopped", {{"reason", sys.render(dm.reason)}});
          },
          caf::after(std::chrono::milliseconds{200}) >> [] {});
      }
      monitoring::log_event(*log, config::log_level::info, "node stopping",
        {{"signal", static_cast<std::int64_t>(stop_signal.load())}});
      stop_node(sys, n);
      if (failed)
        rc = 1;
    }
  }
  monitoring::shutdown_logging();
  return rc;
}

} // namespace csp::app
