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
// Usage: csp-ws-fanout --port N [--host 127.0.0.1] [--clients 1000]
//   [--symbols BTCUSDT[,ETHUSDT...]] [--timeframe 1m] [--duration-s 60]
//   [--threads 1]
//   [--dialect native|binance] [--connect-timeout-s 120]
//   [--connect-parallel 256]
// Loopback only; every phase is bounded in time.

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
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

struct shared_state {
  options opts;
  steady::time_point origin = steady::now();
  /// The subscribe messages each client sends, in order.
  std::vector<std::string> subscribe_texts;
  tcp::endpoint endpoint;
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

/// One WebSocket client.
class client : public std::enable_shared_from_this<client> {
public:
  client(asio::io_context& ioc, shared_state& st, thread_log& log,
    std::uint32_t index)
      : ws_(ioc), st_(st), log_(log), index_(index) {}

  /// Connects, upgrades, subscribes; `on_ready` runs once, when the
  /// snapshot (or a failure) arrived, so the caller can start the next one.
  void start(std::function<void()> on_ready) {
    on_ready_ = std::move(on_ready);
    beast::get_lowest_layer(ws_).expires_after(
      std::chrono::seconds{st_.opts.connect_timeout_s});
    beast::get_lowest_layer(ws_).async_connect(st_.endpoint,
      [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
  }

  /// Closes the socket (on its io thread).
  void stop() {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  std::int64_t subscribe_ns() const { return subscribe_ns_; }
  std::int64_t snapshot_ns() const { return snapshot_ns_; }
  const std::string& failure() const { return failure_; }
  bool dropped() const { return dropped_; }

private:
  void ready() {
    if (on_ready_) {
      auto f = std::move(on_ready_);
      on_ready_ = nullptr;
      f();
    }
  }

  void fail(const char* where, const error_code& ec) {
    if (failure_.empty())
      failure_ = std::string{where} + ": " + ec.message();
    if (snapshot_ns_ < 0)
      st_.failed.fetch_add(1);
    else if (!st_.stopping.load()) {
      dropped_ = true;
      st_.disconnected.fetch_add(1);
    }
    ready();
  }

  void on_connect(error_code ec) {
    if (ec)
      return fail("connect", ec);
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay{true});
    st_.connected.fetch_add(1);
    ws_.async_handshake(st_.opts.host + ":" + std::to_string(st_.opts.port),
      "/ws",
      [self = shared_from_this()](error_code e) { self->on_handshake(e); });
  }

  void on_handshake(error_code ec) {
    if (ec)
      return fail("handshake", ec);
    // From here on, the WebSocket's own timeouts (none for reads: the run
    // is bounded by the main thread).
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds{10};
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.text(true);
    subscribe_ns_ = st_.now_ns();
    read();
    write_subscribe(0);
  }

  void write_subscribe(std::size_t i) {
    if (i >= st_.subscribe_texts.size())
      return;
    ws_.async_write(asio::buffer(st_.subscribe_texts[i]),
      [self = shared_from_this(), i](error_code e, std::size_t) {
        if (e)
          return self->fail("subscribe", e);
        self->write_subscribe(i + 1);
      });
  }

  void read() {
    ws_.async_read(
      buf_, [self = shared_from_this()](error_code ec, std::size_t) {
        self->on_read(ec);
      });
  }

  void on_read(error_code ec) {
    if (ec)
      return fail("read", ec);
    auto at = st_.now_ns();
    auto data = buf_.cdata();
    std::string_view msg{static_cast<const char*>(data.data()), data.size()};
    handle(msg, at);
    buf_.consume(buf_.size());
    if (buf_.capacity() > std::size_t{64} * 1024)
      buf_.shrink_to_fit(); // the snapshot's buffer, not needed again
    read();
  }

  void handle(std::string_view msg, std::int64_t at) {
    if (st_.opts.binance) {
      if (msg.find(R"("e":"kline")") != std::string_view::npos) {
        record(msg, at);
      } else if (msg.find(R"("result":null)") != std::string_view::npos) {
        if (snapshot_ns_ < 0)
          mark_ready(at);
      } else if (msg.find(R"("error")") != std::string_view::npos) {
        ++log_.errors;
      } else {
        ++log_.other;
      }
      return;
    }
    auto head = msg.substr(0, 32);
    if (head.find(R"("type":"bar")") != std::string_view::npos) {
      record(msg, at);
    } else if (head.find(R"("type":"snapshot")") != std::string_view::npos) {
      ++log_.snapshots;
      if (++snapshots_ == st_.opts.symbols.size() && snapshot_ns_ < 0)
        mark_ready(at);
    } else if (head.find(R"("type":"error")") != std::string_view::npos) {
      ++log_.errors;
      std::fprintf(stderr, "csp-ws-fanout: client %u: %.*s\n", index_,
        static_cast<int>(std::min<std::size_t>(msg.size(), 300)), msg.data());
    } else {
      ++log_.other;
    }
  }

  /// The position of the message's symbol in --symbols.
  std::uint32_t symbol_index(std::string_view msg, std::string_view key) {
    auto p = msg.find(key);
    if (p == std::string_view::npos)
      return 0;
    auto rest = msg.substr(p + key.size());
    auto name = rest.substr(0, rest.find('"'));
    const auto& xs = st_.opts.symbols;
    for (std::size_t i = 0; i < xs.size(); ++i)
      if (xs[i] == name)
        return static_cast<std::uint32_t>(i);
    return 0;
  }

  void mark_ready(std::int64_t at) {
    snapshot_ns_ = at;
    st_.subscribed.fetch_add(1);
    ready();
  }

  void record(std::string_view msg, std::int64_t at) {
    if (!st_.measuring.load(std::memory_order_relaxed))
      return;
    receipt r;
    r.client = index_;
    r.at_ns = at;
    r.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch())
                  .count();
    if (st_.opts.binance) {
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
    log_.receipts.push_back(r);
  }

  websocket::stream<beast::tcp_stream> ws_;
  shared_state& st_;
  thread_log& log_;
  std::uint32_t index_;
  beast::flat_buffer buf_;
  std::function<void()> on_ready_;
  std::size_t snapshots_ = 0;
  std::int64_t subscribe_ns_ = -1;
  std::int64_t snapshot_ns_ = -1;
  std::string failure_;
  bool dropped_ = false;
};

/// One io_context and its thread, with the clients it runs.
struct io_lane {
  asio::io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    guard;
  std::thread thread;
  thread_log log;
  std::vector<std::shared_ptr<client>> clients;
  /// Clients still to start; started at most connect_parallel at a time.
  std::size_t next = 0;
  std::size_t total = 0;
  std::size_t first_index = 0;
  std::size_t stride = 1;
};

void start_next(io_lane& lane, shared_state& st) {
  if (lane.next >= lane.total || st.stopping.load())
    return;
  auto index
    = static_cast<std::uint32_t>(lane.first_index + lane.next * lane.stride);
  ++lane.next;
  auto c = std::make_shared<client>(lane.ioc, st, lane.log, index);
  lane.clients.push_back(c);
  c->start([&lane, &st] { start_next(lane, st); });
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
  error_code ec;
  auto addr = asio::ip::make_address(opts.host, ec);
  if (ec || !addr.is_loopback())
    usage("--host must be a loopback address literal");
  st.endpoint = tcp::endpoint{addr, opts.port};
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
    l->first_index = i;
    l->stride = lanes_n;
    l->total = (opts.clients + lanes_n - 1 - i) / lanes_n;
    l->guard.emplace(l->ioc.get_executor());
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
    asio::post(lane->ioc, [lane, &st, per_lane] {
      for (std::size_t i = 0; i < per_lane; ++i)
        start_next(*lane, st);
    });
    lane->thread = std::thread{[lane] { lane->ioc.run(); }};
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
  st.stopping.store(true);
  for (auto& l : lanes) {
    auto* lane = l.get();
    asio::post(lane->ioc, [lane] {
      for (auto& c : lane->clients)
        c->stop();
    });
    lane->guard.reset();
  }
  for (auto& l : lanes) {
    // Bounded: if closing hangs, stop the context.
    auto deadline = steady::now() + std::chrono::seconds{5};
    while (!l->ioc.stopped() && steady::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    l->ioc.stop();
    l->thread.join();
  }

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
      if (c->snapshot_ns() >= 0 && c->subscribe_ns() >= 0)
        subscribe_ms.push_back(
          static_cast<double>(c->snapshot_ns() - c->subscribe_ns()) / 1e6);
      if (c->dropped())
        ++dropped;
      if (!c->failure().empty() && (c->dropped() || c->snapshot_ns() < 0))
        ++failures[c->failure()];
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
      if (l->clients[i]->snapshot_ns() < 0)
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
