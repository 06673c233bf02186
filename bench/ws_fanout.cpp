// WebSocket fan-out benchmark: N clients on one node's /ws, each subscribed
// to the same symbols (one timeframe), record when every bar update arrives.
//
// The node publishes one message per bar update to all its subscribers, so
// an update is identified by what it carries (open time, trade count,
// revision, closed flag, symbol) and its receipts by the N clients can be
// compared:
//   - spread: last minus first receipt of one update (how long the fan-out
//     to all N clients takes);
//   - per-client delay: each receipt minus the first receipt of the update;
//   - with --dialect binance, the kline event's "E" (the wall-clock ms at
//     which the node formatted the update) gives the node-to-client delay
//     of every receipt, in whole milliseconds.
// Closed bars must reach every client, in the same order; clients that
// disconnect or miss one are counted.
//
// The clients cost as little CPU as possible, since they share the machine
// with the node they measure: non-blocking sockets on one epoll set per
// thread, the opening handshake written by hand (its Sec-WebSocket-Accept
// checked), one read() per ready socket whose frames net::ws_frame_decoder
// splits, and only the fields the statistics need taken from each message
// by a targeted scan of the node's own output (no JSON parse). Pings are
// answered; a close frame or a protocol error ends the client.
//
// Usage: csp-ws-fanout --port N [--host 127.0.0.1] [--clients 1000]
//   [--symbols BTCUSDT[,ETHUSDT...]] [--timeframe 1m] [--duration-s 60]
//   [--threads 1]
//   [--dialect native|binance] [--connect-timeout-s 120]
//   [--connect-parallel 256]
// Loopback only; every phase is bounded in time.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "net/ws_frame.hpp"

namespace {

namespace net = csp::net;
using steady = std::chrono::steady_clock;

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t clients = 1000;
  std::vector<std::string> symbols{"BTCUSDT"};
  std::string timeframe = "1m";
  int duration_s = 60;
  int threads = 1;
  bool binance = false;
  int connect_timeout_s = 120;
  std::size_t connect_parallel = 256;
};

constexpr std::size_t max_clients = 10'000;

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
    "csp-ws-fanout: %s\n"
    "usage: csp-ws-fanout --port N [--host 127.0.0.1] [--clients 1000 "
    "(max 10000)]\n"
    "  [--symbols BTCUSDT,...] [--timeframe 1m] [--duration-s 60 (max 3600)]\n"
    "  [--threads 1|2] [--dialect native|binance] [--connect-timeout-s 120]\n"
    "  [--connect-parallel 256]\n",
    why);
  std::exit(2);
}

long long to_int(const char* s, long long lo, long long hi, const char* what) {
  long long v = 0;
  auto end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, v);
  if (ec != std::errc{} || p != end || v < lo || v > hi)
    usage(what);
  return v;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h")
      usage("help");
    if (i + 1 >= argc)
      usage("option without value");
    const char* v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = static_cast<std::uint16_t>(to_int(v, 1, 65535, "bad --port"));
    else if (a == "--clients")
      o.clients
        = static_cast<std::size_t>(to_int(v, 1, max_clients, "bad --clients"));
    else if (a == "--symbols") {
      o.symbols.clear();
      std::string_view list = v;
      while (!list.empty()) {
        auto comma = list.find(',');
        auto one = list.substr(0, comma);
        if (one.empty() || one.size() > 32)
          usage("bad --symbols");
        o.symbols.emplace_back(one);
        list = comma == std::string_view::npos ? std::string_view{}
                                               : list.substr(comma + 1);
      }
      if (o.symbols.empty() || o.symbols.size() > 16)
        usage("bad --symbols (1 to 16)");
    } else if (a == "--timeframe")
      o.timeframe = v;
    else if (a == "--duration-s")
      o.duration_s = static_cast<int>(to_int(v, 1, 3600, "bad --duration-s"));
    else if (a == "--threads")
      o.threads = static_cast<int>(to_int(v, 1, 2, "bad --threads"));
    else if (a == "--connect-timeout-s")
      o.connect_timeout_s
        = static_cast<int>(to_int(v, 1, 600, "bad --connect-timeout-s"));
    else if (a == "--connect-parallel")
      o.connect_parallel = static_cast<std::size_t>(
        to_int(v, 1, max_clients, "bad --connect-parallel"));
    else if (a == "--dialect") {
      if (std::string_view{v} == "binance")
        o.binance = true;
      else if (std::string_view{v} != "native")
        usage("bad --dialect");
    } else
      usage("unknown option");
  }
  if (o.port == 0)
    usage("--port is required");
  return o;
}

/// Raises the descriptor limit so that `n` sockets fit.
void raise_fd_limit(std::size_t n) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return;
  auto want = static_cast<rlim_t>(n + 256);
  if (lim.rlim_cur >= want)
    return;
  if (lim.rlim_max < want)
    lim.rlim_max = want; // allowed for root only; otherwise capped below
  lim.rlim_cur = want;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    std::fprintf(stderr, "csp-ws-fanout: descriptor limit only %llu\n",
      static_cast<unsigned long long>(lim.rlim_cur));
  }
}

/// User plus system CPU time of this process so far, in seconds.
double process_cpu_s() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0)
    return 0.0;
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

/// The integer after `"key":` in `msg` (first occurrence).
std::optional<std::int64_t> int_field(
  std::string_view msg, std::string_view quoted_key) {
  auto p = msg.find(quoted_key);
  if (p == std::string_view::npos)
    return std::nullopt;
  p += quoted_key.size();
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(msg.data() + p, msg.data() + msg.size(), v);
  if (ec != std::errc{})
    return std::nullopt;
  (void)end;
  return v;
}

/// Whether `"key":true` is in `msg`.
bool true_field(std::string_view msg, std::string_view quoted_key) {
  auto p = msg.find(quoted_key);
  return p != std::string_view::npos
    && msg.substr(p + quoted_key.size(), 4) == "true";
}

/// What identifies one bar update (equal for every client that got it).
struct update_key {
  std::uint32_t symbol = 0;
  std::int64_t open_time = 0;
  std::int64_t trade_count = 0;
  std::int64_t revision = 0;
  bool closed = false;

  friend bool operator<(const update_key& a, const update_key& b) {
    return std::tie(a.symbol, a.open_time, a.trade_count, a.revision, a.closed)
      < std::tie(b.symbol, b.open_time, b.trade_count, b.revision, b.closed);
  }
};

/// One receipt of a bar update.
struct receipt {
  update_key key;
  std::uint32_t client = 0;
  /// steady clock, ns since the run's origin.
  std::int64_t at_ns = 0;
  /// Wall clock ms at receipt.
  std::int64_t wall_ms = 0;
  /// Wall clock ms at receipt minus the event's "E" (binance dialect).
  std::int64_t node_delay_ms = -1;
};

/// What one io thread records (no locks: one writer each).
struct thread_log {
  std::vector<receipt> receipts;
  std::size_t snapshots = 0;
  std::size_t errors = 0;
  std::size_t other = 0;
};

/// Largest message a client accepts (a native snapshot of 500 bars with
/// indicators is far below).
constexpr std::size_t max_message = std::size_t{16} << 20;
/// Largest HTTP response head of the opening handshake.
constexpr std::size_t max_response_head = 16'384;
/// Bytes one read() may take at most (a lane's scratch buffer).
constexpr std::size_t read_chunk = std::size_t{256} * 1024;

/// The node's address (a loopback literal).
struct endpoint {
  sockaddr_storage addr{};
  socklen_t size = 0;
};

/// Parses a loopback IPv4 or IPv6 literal; false for anything else.
bool loopback_endpoint(
  const std::string& host, std::uint16_t port, endpoint& ep) {
  ep = endpoint{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ep.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    ep.size = sizeof(sockaddr_in);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ep.addr);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    ep.size = sizeof(sockaddr_in6);
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
  }
  return false;
}

struct shared_state {
  options opts;
  steady::time_point origin = steady::now();
  /// The subscribe messages each client sends, in order.
  std::vector<std::string> subscribe_texts;
  endpoint node;
  /// The Host header of the opening handshake.
  std::string host_header;
  std::atomic<std::size_t> connected{0};
  std::atomic<std::size_t> subscribed{0};
  std::atomic<std::size_t> failed{0};
  std::atomic<std::size_t> disconnected{0};
  /// Clients may record receipts (set after the subscribe phase).
  std::atomic<bool> measuring{false};
  std::atomic<bool> stopping{false};

  std::int64_t now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
      steady::now() - origin)
      .count();
  }
};

/// Wall clock, ms since the epoch.
std::int64_t wall_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string errno_text(int e) {
  return std::system_category().message(e);
}

/// Whether header line `line` ("Name: value") is called `lower_name`
/// (ASCII, case-insensitive); `value` gets the trimmed value.
bool header_named(
  std::string_view line, std::string_view lower_name, std::string_view& value) {
  auto colon = line.find(':');
  if (colon != lower_name.size())
    return false;
  for (std::size_t i = 0; i < colon; ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != lower_name[i])
      return false;
  value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  return true;
}

/// Why the response head `head` (status line and headers, without the
/// blank line) does not accept an upgrade sent with `key`; "" when it does.
std::string check_upgrade(std::string_view head, std::string_view key) {
  auto eol = head.find("\r\n");
  auto status = head.substr(0, eol);
  if (status.substr(0, 13) != "HTTP/1.1 101 " && status != "HTTP/1.1 101")
    return "status " + std::string{status.substr(0, 80)};
  auto want = net::ws_accept_value(key);
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    std::string_view value;
    if (header_named(head.substr(0, eol), "sec-websocket-accept", value))
      return value == want ? "" : "wrong Sec-WebSocket-Accept";
  }
  return "no Sec-WebSocket-Accept";
}

struct io_lane;

/// One WebSocket client: a non-blocking socket driven by its lane's epoll.
struct client {
  enum class phase : std::uint8_t { connecting, upgrading, open, closed };

  std::uint32_t index = 0;
  int fd = -1;
  phase state = phase::connecting;
  /// Readiness for writing is watched (bytes wait in `out`).
  bool watch_write = false;
  /// The start callback ran (snapshot received, or failed).
  bool readied = false;
  bool dropped = false;
  /// Received bytes not yet used: the handshake response so far, or the
  /// start of a frame the last read did not complete.
  std::string in;
  /// Bytes to write (handshake request, subscribe and control frames).
  std::string out;
  /// Sec-WebSocket-Key sent.
  std::string key;
  net::ws_frame_decoder decoder{max_message};
  std::size_t snapshots = 0;
  /// Connect and handshake must end by this time (steady ns).
  std::int64_t deadline_ns = 0;
  std::int64_t subscribe_ns = -1;
  std::int64_t snapshot_ns = -1;
  std::string failure;
};

/// One thread with its epoll set and the clients it runs.
struct io_lane {
  shared_state* st = nullptr;
  int epoll_fd = -1;
  std::thread thread;
  thread_log log;
  std::vector<std::unique_ptr<client>> clients;
  /// Started clients that are not ready yet (connect-phase timeouts).
  std::vector<client*> starting;
  /// Clients still to start; started at most connect_parallel at a time.
  std::size_t next = 0;
  std::size_t total = 0;
  std::size_t first_index = 0;
  std::size_t stride = 1;
  std::vector<char> scratch = std::vector<char>(read_chunk);
  std::mt19937_64 rng{0x5eed};

  ~io_lane() {
    for (auto& c : clients)
      if (c->fd >= 0)
        ::close(c->fd);
    if (epoll_fd >= 0)
      ::close(epoll_fd);
  }

  void run();
  void start_next();

private:
  void watch(client& c, int op);
  void closed(client& c);
  void ready(client& c);
  void fail(client& c, const char* where, const std::string& why);
  void flush(client& c, const char* where);
  void on_event(client& c, std::uint32_t events);
  void on_connected(client& c);
  void on_readable(client& c);
  void on_response(client& c);
  void decode(client& c, const char* data, std::size_t size, std::int64_t at,
    std::int64_t wall_ms);
  void handle(
    client& c, std::string_view msg, std::int64_t at, std::int64_t wall_ms);
  std::uint32_t symbol_index(std::string_view msg, std::string_view key) const;
  void mark_ready(client& c, std::int64_t at);
  void record(
    client& c, std::string_view msg, std::int64_t at, std::int64_t wall_ms);
  void check_deadlines();
};

void io_lane::watch(client& c, int op) {
  epoll_event ev{};
  ev.events = EPOLLIN | (c.watch_write ? EPOLLOUT : 0U);
  ev.data.ptr = &c;
  if (epoll_ctl(epoll_fd, op, c.fd, &ev) != 0)
    fail(c, "epoll", errno_text(errno));
}

void io_lane::closed(client& c) {
  if (c.fd >= 0)
    ::close(c.fd); // also leaves the epoll set
  c.fd = -1;
  c.state = client::phase::closed;
  c.in.clear();
  c.in.shrink_to_fit();
  c.out.clear();
}

void io_lane::ready(client& c) {
  if (c.readied)
    return;
  c.readied = true;
  start_next();
}

void io_lane::fail(client& c, const char* where, const std::string& why) {
  if (c.state == client::phase::closed)
    return;
  if (c.failure.empty())
    c.failure = std::string{where} + ": " + why;
  if (c.snapshot_ns < 0)
    st->failed.fetch_add(1);
  else if (!st->stopping.load()) {
    c.dropped = true;
    st->disconnected.fetch_add(1);
  }
  closed(c);
  ready(c);
}

void io_lane::start_next() {
  if (next >= total || st->stopping.load())
    return;
  auto c = std::make_unique<client>();
  c->index = static_cast<std::uint32_t>(first_index + next * stride);
  ++next;
  auto& cl = *c;
  clients.push_back(std::move(c));
  starting.push_back(&cl);
  cl.deadline_ns
    = st->now_ns() + std::int64_t{st->opts.connect_timeout_s} * 1'000'000'000;
  cl.fd = ::socket(
    st->node.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (cl.fd < 0)
    return fail(cl, "connect", errno_text(errno));
  int one = 1;
  ::setsockopt(cl.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto* addr = reinterpret_cast<const sockaddr*>(&st->node.addr);
  if (::connect(cl.fd, addr, st->node.size) != 0 && errno != EINPROGRESS)
    return fail(cl, "connect", errno_text(errno));
  cl.watch_write = true; // connected when writable
  watch(cl, EPOLL_CTL_ADD);
}

void io_lane::flush(client& c, const char* where) {
  while (!c.out.empty()) {
    auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return fail(c, where, errno_text(errno));
      break;
    }
    c.out.erase(0, static_cast<std::size_t>(n));
  }
  if (c.watch_write != !c.out.empty()) {
    c.watch_write = !c.out.empty();
    watch(c, EPOLL_CTL_MOD);
  }
}

void io_lane::on_event(client& c, std::uint32_t events) {
  if (c.state == client::phase::connecting) {
    on_connected(c);
    return;
  }
  if ((events & EPOLLOUT) != 0U) {
    flush(c, c.state == client::phase::open ? "subscribe" : "handshake");
    if (c.state == client::phase::closed)
      return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0U)
    on_readable(c);
}

void io_lane::on_connected(client& c) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    err = errno;
  if (err != 0)
    return fail(c, "connect", errno_text(err));
  st->connected.fetch_add(1);
  c.state = client::phase::upgrading;
  c.key = net::ws_handshake_key(rng(), rng());
  c.out = "GET /ws HTTP/1.1\r\nHost: " + st->host_header
    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: "
    + c.key + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  flush(c, "handshake");
}

void io_lane::on_readable(client& c) {
  auto n = ::read(c.fd, scratch.data(), scratch.size());
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      return;
    return fail(c, c.state == client::phase::open ? "read" : "handshake",
      errno_text(errno));
  }
  if (n == 0)
    return fail(c, c.state == client::phase::open ? "read" : "handshake",
      "end of stream");
  auto size = static_cast<std::size_t>(n);
  if (c.state == client::phase::upgrading) {
    c.in.append(scratch.data(), size);
    on_response(c);
    return;
  }
  auto at = st->now_ns();
  auto wall_ms = wall_ms_now();
  if (c.in.empty()) {
    decode(c, scratch.data(), size, at, wall_ms);
  } else {
    c.in.append(scratch.data(), size);
    auto held = std::move(c.in);
    c.in.clear();
    decode(c, held.data(), held.size(), at, wall_ms);
  }
}

void io_lane::on_response(client& c) {
  auto end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.in.size() > max_response_head)
      fail(c, "handshake", "response head too long");
    return;
  }
  auto why = check_upgrade(std::string_view{c.in}.substr(0, end), c.key);
  if (!why.empty())
    return fail(c, "handshake", why);
  c.state = client::phase::open;
  c.subscribe_ns = st->now_ns();
  for (const auto& text : st->subscribe_texts)
    net::ws_append_client_frame(
      c.out, net::ws_opcode::text, text, static_cast<std::uint32_t>(rng()));
  flush(c, "subscribe");
  if (c.state == client::phase::closed)
    return;
  auto rest = c.in.substr(end + 4);
  c.in.clear();
  if (!rest.empty())
    decode(c, rest.data(), rest.size(), st->now_ns(), wall_ms_now());
}

/// Hands every whole frame of [data, data + size) on; keeps the rest in
/// `c.in` for the next read.
void io_lane::decode(client& c, const char* data, std::size_t size,
  std::int64_t at, std::int64_t wall_ms) {
  std::size_t used = 0;
  net::ws_event ev;
  while (c.state == client::phase::open) {
    auto n = c.decoder.next(data + used, size - used, ev);
    switch (ev.kind) {
      case net::ws_event_kind::need_more:
        c.in.assign(data + used, size - used);
        return;
      case net::ws_event_kind::fragment:
        break;
      case net::ws_event_kind::message:
        handle(c, ev.payload, at, wall_ms);
        break;
      case net::ws_event_kind::ping:
        net::ws_append_client_frame(c.out, net::ws_opcode::pong, ev.payload,
          static_cast<std::uint32_t>(rng()));
        flush(c, "pong");
        break;
      case net::ws_event_kind::pong:
        break;
      case net::ws_event_kind::close: {
        auto why = "closed by the node (" + std::to_string(ev.close_code)
          + (ev.payload.empty() ? "" : ": " + std::string{ev.payload}) + ")";
        net::ws_append_client_frame(c.out, net::ws_opcode::close,
          net::ws_close_payload(net::ws_close_normal),
          static_cast<std::uint32_t>(rng()));
        ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL); // best effort
        return fail(c, "read", why);
      }
      case net::ws_event_kind::protocol_error:
        return fail(c, "read", ev.error);
    }
    used += n;
  }
}

void io_lane::handle(
  client& c, std::string_view msg, std::int64_t at, std::int64_t wall_ms) {
  if (st->opts.binance) {
    if (msg.find(R"("e":"kline")") != std::string_view::npos) {
      record(c, msg, at, wall_ms);
    } else if (msg.find(R"("result":null)") != std::string_view::npos) {
      if (c.snapshot_ns < 0)
        mark_ready(c, at);
    } else if (msg.find(R"("error")") != std::string_view::npos) {
      ++log.errors;
    } else {
      ++log.other;
    }
    return;
  }
  auto head = msg.substr(0, 32);
  if (head.find(R"("type":"bar")") != std::string_view::npos) {
    record(c, msg, at, wall_ms);
  } else if (head.find(R"("type":"snapshot")") != std::string_view::npos) {
    ++log.snapshots;
    if (++c.snapshots == st->opts.symbols.size() && c.snapshot_ns < 0)
      mark_ready(c, at);
  } else if (head.find(R"("type":"error")") != std::string_view::npos) {
    ++log.errors;
    std::fprintf(stderr, "csp-ws-fanout: client %u: %.*s\n", c.index,
      static_cast<int>(std::min<std::size_t>(msg.size(), 300)), msg.data());
  } else {
    ++log.other;
  }
}

/// The position of the message's symbol in --symbols.
std::uint32_t io_lane::symbol_index(
  std::string_view msg, std::string_view key) const {
  auto p = msg.find(key);
  if (p == std::string_view::npos)
    return 0;
  auto rest = msg.substr(p + key.size());
  auto name = rest.substr(0, rest.find('"'));
  const auto& xs = st->opts.symbols;
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (xs[i] == name)
      return static_cast<std::uint32_t>(i);
  return 0;
}

void io_lane::mark_ready(client& c, std::int64_t at) {
  c.snapshot_ns = at;
  st->subscribed.fetch_add(1);
  ready(c);
}

void io_lane::record(
  client& c, std::string_view msg, std::int64_t at, std::int64_t wall_ms) {
  if (!st->measuring.load(std::memory_order_relaxed))
    return;
  receipt r;
  r.client = c.index;
  r.at_ns = at;
  r.wall_ms = wall_ms;
  if (st->opts.binance) {
    auto k = msg.find(R"("k":{)");
    if (k == std::string_view::npos)
      return;
    r.key.symbol = symbol_index(msg, R"("s":")");
    auto body = msg.substr(k);
    r.key.open_time = int_field(body, R"("t":)").value_or(-1);
    r.key.trade_count = int_field(body, R"("n":)").value_or(-1);
    r.key.closed = true_field(body, R"("x":)");
    if (auto e = int_field(msg, R"("E":)"))
      r.node_delay_ms = r.wall_ms - *e;
  } else {
    r.key.symbol = symbol_index(msg, R"("symbol":")");
    r.key.open_time = int_field(msg, R"("open_time":)").value_or(-1);
    r.key.trade_count = int_field(msg, R"("trade_count":)").value_or(-1);
    r.key.revision = int_field(msg, R"("revision":)").value_or(-1);
    r.key.closed = true_field(msg, R"("closed":)");
  }
  log.receipts.push_back(r);
}

/// Fails starting clients whose connect or handshake outlived the connect
/// timeout (the wait for the snapshot is bounded by the main thread).
void io_lane::check_deadlines() {
  auto now = st->now_ns();
  // fail() may start more clients (appending to `starting`): collect first.
  std::vector<client*> expired;
  for (auto* c : starting)
    if (!c->readied && c->state != client::phase::open && now >= c->deadline_ns)
      expired.push_back(c);
  for (auto* c : expired)
    fail(*c, c->state == client::phase::connecting ? "connect" : "handshake",
      "timed out");
  starting.erase(std::remove_if(starting.begin(), starting.end(),
                   [](const client* c) { return c->readied; }),
    starting.end());
}

void io_lane::run() {
  std::array<epoll_event, 512> events{};
  auto next_check = st->now_ns();
  while (!st->stopping.load()) {
    auto n = ::epoll_wait(
      epoll_fd, events.data(), static_cast<int>(events.size()), 50);
    if (n < 0 && errno != EINTR) {
      std::fprintf(
        stderr, "csp-ws-fanout: epoll_wait: %s\n", errno_text(errno).c_str());
      return;
    }
    for (int i = 0; i < n; ++i) {
      auto& c
        = *static_cast<client*>(events[static_cast<std::size_t>(i)].data.ptr);
      // A client closed earlier in this batch may still be listed.
      if (c.fd >= 0)
        on_event(c, events[static_cast<std::size_t>(i)].events);
    }
    if (!starting.empty() && st->now_ns() >= next_check) {
      check_deadlines();
      next_check = st->now_ns() + 100'000'000;
    }
  }
  for (auto& c : clients)
    closed(*c);
}

/// Length of a timeframe in ms (0 when unknown).
std::int64_t timeframe_ms(std::string_view tf) {
  if (tf == "1m")
    return 60'000;
  if (tf == "5m")
    return 300'000;
  if (tf == "15m")
    return 900'000;
  if (tf == "1h")
    return 3'600'000;
  if (tf == "4h")
    return 14'400'000;
  if (tf == "1d")
    return 86'400'000;
  return 0;
}

double pct(std::vector<double>& xs, double p) {
  if (xs.empty())
    return 0.0;
  auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(xs.size()));
  if (i >= xs.size())
    i = xs.size() - 1;
  std::nth_element(
    xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(i), xs.end());
  return xs[i];
}

void print_dist(const char* what, std::vector<double> xs, const char* unit) {
  if (xs.empty()) {
    std::printf("%-42s n=0\n", what);
    return;
  }
  auto mx = *std::max_element(xs.begin(), xs.end());
  auto p50 = pct(xs, 50);
  auto p90 = pct(xs, 90);
  auto p99 = pct(xs, 99);
  std::printf("%-42s n=%zu p50=%.2f p90=%.2f p99=%.2f max=%.2f %s\n", what,
    xs.size(), p50, p90, p99, mx, unit);
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  raise_fd_limit(opts.clients);
  shared_state st;
  st.opts = opts;
  if (!loopback_endpoint(opts.host, opts.port, st.node))
    usage("--host must be a loopback address literal");
  st.host_header
    = (st.node.addr.ss_family == AF_INET6 ? "[" + opts.host + "]" : opts.host)
    + ":" + std::to_string(opts.port);
  if (opts.binance) {
    std::string params;
    for (const auto& sym : opts.symbols) {
      params += params.empty() ? "\"" : ",\"";
      for (char ch : sym)
        params
          += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      params += "@kline_" + opts.timeframe + "\"";
    }
    st.subscribe_texts.push_back(
      R"({"method":"SUBSCRIBE","params":[)" + params + R"(],"id":1})");
  } else {
    for (const auto& sym : opts.symbols)
      st.subscribe_texts.push_back(R"({"op":"subscribe","symbol":")" + sym
        + R"(","timeframe":")" + opts.timeframe + R"("})");
  }
  std::string symbol_list;
  for (const auto& sym : opts.symbols)
    symbol_list += (symbol_list.empty() ? "" : ",") + sym;

  auto lanes_n = static_cast<std::size_t>(opts.threads);
  std::vector<std::unique_ptr<io_lane>> lanes;
  for (std::size_t i = 0; i < lanes_n; ++i) {
    auto l = std::make_unique<io_lane>();
    l->st = &st;
    l->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (l->epoll_fd < 0) {
      std::fprintf(
        stderr, "csp-ws-fanout: epoll: %s\n", errno_text(errno).c_str());
      return 2;
    }
    l->first_index = i;
    l->stride = lanes_n;
    l->total = (opts.clients + lanes_n - 1 - i) / lanes_n;
    l->clients.reserve(l->total);
    lanes.push_back(std::move(l));
  }
  std::printf("csp-ws-fanout: %zu clients, %s %s (%s dialect), %d io "
              "thread(s), %d s\n",
    opts.clients, symbol_list.c_str(), opts.timeframe.c_str(),
    opts.binance ? "binance" : "native", opts.threads, opts.duration_s);
  std::fflush(stdout);

  // Connect phase: each lane keeps at most connect_parallel/lanes clients
  // between "connect started" and "snapshot received".
  auto per_lane = std::max<std::size_t>(1, opts.connect_parallel / lanes_n);
  for (auto& l : lanes) {
    auto* lane = l.get();
    lane->thread = std::thread{[lane, per_lane] {
      for (std::size_t i = 0; i < per_lane; ++i)
        lane->start_next();
      lane->run();
    }};
  }
  auto connect_start = steady::now();
  auto connect_deadline
    = connect_start + std::chrono::seconds{opts.connect_timeout_s};
  while (st.subscribed.load() + st.failed.load() < opts.clients
    && steady::now() < connect_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  auto connect_s
    = std::chrono::duration<double>(steady::now() - connect_start).count();
  std::printf("subscribe phase: %zu of %zu clients subscribed in %.2f s "
              "(%zu failed)\n",
    st.subscribed.load(), opts.clients, connect_s, st.failed.load());
  std::fflush(stdout);

  // Measurement phase.
  auto measure_start_ns = st.now_ns();
  auto cpu_start_s = process_cpu_s();
  st.measuring.store(true);
  std::this_thread::sleep_for(std::chrono::seconds{opts.duration_s});
  st.measuring.store(false);
  auto cpu_measured_s = process_cpu_s() - cpu_start_s;
  auto measure_end_ns = st.now_ns();
  // Each lane sees this within one epoll wait (50 ms) and closes its
  // sockets.
  st.stopping.store(true);
  for (auto& l : lanes)
    l->thread.join();

  // -- results -----------------------------------------------------------
  std::vector<double> subscribe_ms;
  std::size_t snapshots = 0;
  std::size_t errors = 0;
  std::size_t dropped = 0;
  std::map<std::string, std::size_t> failures;
  std::vector<receipt> all;
  for (auto& l : lanes) {
    snapshots += l->log.snapshots;
    errors += l->log.errors;
    for (auto& c : l->clients) {
      if (c->snapshot_ns >= 0 && c->subscribe_ns >= 0)
        subscribe_ms.push_back(
          static_cast<double>(c->snapshot_ns - c->subscribe_ns) / 1e6);
      if (c->dropped)
        ++dropped;
      if (!c->failure.empty() && (c->dropped || c->snapshot_ns < 0))
        ++failures[c->failure];
    }
    all.insert(all.end(), l->log.receipts.begin(), l->log.receipts.end());
  }
  std::printf("measured %.1f s; clients subscribed %zu (%zu snapshots), "
              "disconnected during the run %zu, error replies %zu\n",
    static_cast<double>(measure_end_ns - measure_start_ns) / 1e9,
    st.subscribed.load(), snapshots, dropped, errors);
  for (auto& [why, n] : failures)
    std::printf("  failure x%zu: %s\n", n, why.c_str());
  print_dist("subscribe -> snapshot (ms)", subscribe_ms, "ms");

  struct agg {
    std::int64_t first = 0;
    std::int64_t last = 0;
    std::size_t n = 0;
  };
  std::map<update_key, agg> updates;
  for (auto& r : all) {
    auto [it, fresh] = updates.try_emplace(r.key, agg{r.at_ns, r.at_ns, 0});
    auto& a = it->second;
    if (!fresh) {
      a.first = std::min(a.first, r.at_ns);
      a.last = std::max(a.last, r.at_ns);
    }
    ++a.n;
  }
  auto live = st.subscribed.load();
  std::size_t complete = 0;
  std::vector<double> spread_forming;
  std::vector<double> spread_closed;
  for (auto& [k, a] : updates) {
    if (a.n >= live) {
      ++complete;
      (k.closed ? spread_closed : spread_forming)
        .push_back(static_cast<double>(a.last - a.first) / 1e6);
    }
  }
  std::vector<double> delay_forming;
  std::vector<double> delay_closed;
  std::vector<double> node_delay;
  std::vector<double> node_delay_closed;
  std::vector<double> after_end;
  auto tf_ms = timeframe_ms(opts.timeframe);
  for (auto& r : all) {
    auto& a = updates[r.key];
    if (a.n >= live)
      (r.key.closed ? delay_closed : delay_forming)
        .push_back(static_cast<double>(r.at_ns - a.first) / 1e6);
    if (r.node_delay_ms >= 0) {
      node_delay.push_back(static_cast<double>(r.node_delay_ms));
      // A closed bar is queued for every client when it is rendered: no
      // conflation wait, only the fan-out.
      if (r.key.closed)
        node_delay_closed.push_back(static_cast<double>(r.node_delay_ms));
    }
    if (r.key.closed && tf_ms > 0)
      after_end.push_back(
        static_cast<double>(r.wall_ms - (r.key.open_time + tf_ms)));
  }
  std::printf("bar updates: %zu receipts of %zu distinct updates; %zu "
              "reached all %zu clients\n",
    all.size(), updates.size(), complete, live);
  std::printf("client CPU while measuring: %.2f s, %.2f us per receipt\n",
    cpu_measured_s,
    all.empty() ? 0.0 : cpu_measured_s * 1e6 / static_cast<double>(all.size()));
  print_dist("spread last-first receipt, closed bars", spread_closed, "ms");
  print_dist("spread last-first receipt, forming bars", spread_forming, "ms");
  print_dist("receipt - first receipt, closed bars", delay_closed, "ms");
  print_dist("receipt - first receipt, forming bars", delay_forming, "ms");
  if (opts.binance) {
    print_dist("receipt wall clock - event E", node_delay, "ms");
    print_dist(
      "receipt wall clock - event E, closed bars", node_delay_closed, "ms");
  }
  print_dist("closed bar: receipt wall clock - bar end", after_end, "ms");

  // Closed bars: every client must get each closed bar that any client
  // got, once, and per symbol in ascending open time.
  using bar_id = std::pair<std::uint32_t, std::int64_t>;
  std::vector<bar_id> expected;
  for (auto& [k, a] : updates)
    if (k.closed)
      expected.emplace_back(k.symbol, k.open_time);
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  std::map<std::uint32_t, std::vector<bar_id>> per_client;
  for (auto& r : all)
    if (r.key.closed)
      per_client[r.client].emplace_back(r.key.symbol, r.key.open_time);
  std::size_t mismatched = 0;
  for (auto& l : lanes)
    for (std::size_t i = 0; i < l->clients.size(); ++i) {
      auto idx = static_cast<std::uint32_t>(l->first_index + i * l->stride);
      if (l->clients[i]->snapshot_ns < 0)
        continue;
      auto got = per_client[idx];
      // In order per symbol: a stable sort by symbol keeps receipt order.
      std::stable_sort(got.begin(), got.end(),
        [](const bar_id& x, const bar_id& y) { return x.first < y.first; });
      if (got != expected)
        ++mismatched;
    }
  // Partial updates: forming updates not every client got (conflation per
  // client can skip one) and closed ones (must not happen).
  std::size_t partial_forming = 0;
  std::size_t partial_closed = 0;
  for (auto& [k, a] : updates)
    if (a.n < live)
      ++(k.closed ? partial_closed : partial_forming);
  std::printf("closed bars: %zu distinct (symbol:open time", expected.size());
  for (auto& [sym, t] : expected)
    std::printf(
      " %s:%lld", opts.symbols[sym].c_str(), static_cast<long long>(t));
  std::printf(
    "); clients whose closed-bar sequence differs: %zu\n", mismatched);
  std::printf("updates not seen by every client: %zu forming, %zu closed\n",
    partial_forming, partial_closed);
  bool ok = dropped == 0 && mismatched == 0 && partial_closed == 0
    && st.subscribed.load() == opts.clients;
  std::printf(
    "verdict: %s\n", ok ? "every client kept up" : "NOT every client kept up");
  return ok ? 0 : 1;
}
