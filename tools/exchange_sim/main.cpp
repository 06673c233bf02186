// csp-exchange-sim: the loopback exchange as a command-line program.

#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "tools/exchange_sim/exchange_sim.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto cli = csp::tools::parse_cli(args);
  if (cli.help) {
    std::cout << csp::tools::cli_help();
    return 0;
  }
  if (!cli.error.empty()) {
    std::cerr << "csp-exchange-sim: " << cli.error
              << "\n(try csp-exchange-sim --help)\n";
    return 2;
  }
  // Block the stop signals before the I/O thread starts so that only
  // sigtimedwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  auto duration_s = cli.config.duration_s;
  csp::tools::exchange_sim sim{cli.config};
  if (auto err = sim.start(); !err.empty()) {
    std::cerr << "csp-exchange-sim: " << err << '\n';
    return 1;
  }
  std::cout << "listening on 127.0.0.1:" << sim.port() << std::endl;
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += duration_s;
  for (;;) {
    timespec wait{1, 0};
    if (duration_s > 0) {
      timespec now{};
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec >= deadline.tv_sec)
        break;
    }
    if (sigtimedwait(&stop_signals, nullptr, &wait) > 0)
      break;
  }
  sim.stop();
  auto stats = sim.stats();
  std::cerr << "csp-exchange-sim: stopped after " << stats.trades_generated
            << " trades\n";
  return 0;
}
