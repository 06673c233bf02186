#pragma once

// Helpers of the Redis suites: the server under test (REDIS_URL, default
// redis://127.0.0.1:6379), a key prefix per test so suites can run in
// parallel, and a private redis-server child process for outage tests.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <netinet/in.h>
#include <optional>
#include <random>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "storage/redis_client.hpp"

extern char** environ; // NOLINT

namespace csp::test {

/// The URL of the shared test server.
inline std::string redis_url() {
  const char* url = std::getenv("REDIS_URL");
  return url != nullptr && *url != '\0' ? url : "redis://127.0.0.1:6379";
}

/// Options for the shared test server; throws on a bad REDIS_URL.
inline storage::redis_options redis_test_options() {
  std::string error;
  auto opts = storage::redis_options_from_url(redis_url(), error);
  if (!opts)
    throw std::runtime_error(error);
  return *opts;
}

/// A prefix no other test (or test process) uses.
inline std::string unique_prefix(const std::string& name) {
  static std::atomic<int> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return "csptest:" + name + ":" + std::to_string(::getpid()) + ":"
    + std::to_string(now) + ":" + std::to_string(++counter) + ":";
}

/// Deletes every key starting with `prefix`.
inline void delete_prefix(storage::redis_client& c, const std::string& prefix) {
  std::string cursor = "0";
  do {
    auto r
      = c.command({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
    if (!r || !r->is_array() || r->elements.size() != 2)
      return;
    cursor = r->elements[0].str;
    for (const auto& k : r->elements[1].elements)
      c.command({"DEL", k.str});
  } while (cursor != "0");
}

/// A loopback port nothing listens on now, below the kernel's ephemeral
/// range: a port in that range can be taken at any moment as the local end
/// of some outgoing connection, and a server restarted on it (the outage
/// tests stop and start theirs) would then fail to bind.
inline std::uint16_t free_port() {
  unsigned low = 32768;
  if (std::FILE* f
    = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%u", &low) != 1) // NOLINT(cert-err34-c)
      low = 32768;
    std::fclose(f);
  }
  unsigned top = low > 12'000 ? low - 100 : 12'000;
  thread_local std::mt19937 gen{std::random_device{}()};
  std::uniform_int_distribution<unsigned> pick{10'000, top - 1};
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto port = static_cast<std::uint16_t>(pick(gen));
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    // NOLINTNEXTLINE
    bool bound
      = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    if (bound)
      return port;
  }
  throw std::runtime_error{"no free loopback port below the ephemeral range"};
}

/// Options for a server on 127.0.0.1:`port`.
inline storage::redis_options loopback_options(std::uint16_t port) {
  storage::redis_options opts;
  opts.endpoint.host = "127.0.0.1";
  opts.endpoint.port = port;
  opts.connect_timeout = std::chrono::milliseconds{200};
  opts.command_timeout = std::chrono::milliseconds{2000};
  return opts;
}

/// A redis-server child process on a loopback port, without persistence.
class redis_child {
public:
  /// A server on `port`, with extra command-line options.
  explicit redis_child(
    std::uint16_t port, std::vector<std::string> extra_args = {})
      : port_(port), extra_args_(std::move(extra_args)) {}

  ~redis_child() { stop(); }

  redis_child(const redis_child&) = delete;
  redis_child& operator=(const redis_child&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  /// Starts the server and waits (at most 10 s) until it answers PING.
  bool start() {
    auto port = std::to_string(port_);
    std::vector<std::string> args{"redis-server", "--port", port, "--bind",
      "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
      "--loglevel", "warning", "--logfile", ""};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    // The server's banner and log go to /dev/null; errors stay on stderr.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(
      &actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    auto rc = posix_spawnp(
      &pid_, "redis-server", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return false;
    }
    storage::redis_client probe{loopback_options(port_)};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (std::chrono::steady_clock::now() < deadline) {
      if (probe.connect()) {
        auto pong = probe.command({"PING"});
        if (pong && pong->is_status("PONG"))
          return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      // Poll interval of a bounded wait for a real server.
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    return false;
  }

  /// Stops the server (SIGKILL: an abrupt outage) and reaps it.
  void stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  bool running() const noexcept { return pid_ > 0; }

private:
  std::uint16_t port_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
};

} // namespace csp::test
