#include "tools/exchange_sim/exchange_sim.hpp"

#include <future>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tools/exchange_sim/sessions.hpp"
#include "tools/exchange_sim/sim_core.hpp"

namespace csp::tools {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

struct exchange_sim::impl {
  explicit impl(sim_config cfg) : config(std::move(cfg)) {
    // nop
  }

  // Declaration order matters: the io_context (and every handler holding a
  // session) goes before the core and the TLS context it refers to.
  sim_config config;
  std::unique_ptr<sim_core> core;
  std::unique_ptr<asio::ssl::context> tls;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer tick_timer{ioc};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    guard;
  std::thread thread;
  std::uint16_t port = 0;
  bool running = false;
  std::int64_t last_drop_ms = 0;
  std::int64_t last_stall_ms = 0;

  /// Runs `f` on the I/O thread and waits for its result.
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    if (!running)
      return f();
    std::packaged_task<decltype(f())()> task{std::move(f)};
    auto fut = task.get_future();
    asio::post(ioc, [&task] { task(); });
    return fut.get();
  }

  void generate() {
    auto now = wall_ms();
    auto& m = core->crypto;
    std::vector<std::int64_t> before(m.size());
    for (std::size_t i = 0; i < m.size(); ++i)
      before[i] = m.next_id(i);
    if (m.generate(now) == 0)
      return;
    if (core->log.is_open()) {
      for (std::size_t i = 0; i < m.size(); ++i) {
        auto& ts = m.trades(i);
        if (ts.empty())
          continue;
        auto first = std::max<std::int64_t>(before[i] - ts.front().id, 0);
        core->log.append(m.spec(i).symbol, ts, static_cast<std::size_t>(first));
      }
      core->log.flush();
    }
    core->for_each_session([](ws_session_base& s) { s.on_trades(); });
  }

  void scheduled_faults() {
    auto now = wall_ms();
    auto& f = core->faults.settings();
    if (f.drop_every_s > 0 && now - last_drop_ms >= f.drop_every_s * 1000) {
      last_drop_ms = now;
      ++core->faults.counters.drops;
      core->for_each_session([](ws_session_base& s) { s.drop(); });
    }
    if (f.stall_every_s > 0 && f.stall_ms > 0
      && now - last_stall_ms >= f.stall_every_s * 1000) {
      last_stall_ms = now;
      ++core->faults.counters.stalls;
      auto ms = f.stall_ms;
      core->for_each_session([ms](ws_session_base& s) { s.stall(ms); });
    }
  }

  void arm_tick() {
    tick_timer.expires_after(std::chrono::milliseconds(config.tick_ms));
    tick_timer.async_wait([this](error_code ec) {
      if (ec)
        return;
      generate();
      scheduled_faults();
      arm_tick();
    });
  }

  void accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open())
        return;
      if (!ec) {
        socket.set_option(tcp::no_delay{true}, ec);
        if (tls) {
          auto s = std::make_shared<tls_stream>(std::move(socket), *tls);
          s->async_handshake(
            asio::ssl::stream_base::server, [this, s](error_code hec) {
              if (!hec)
                start_http_session(*core, std::move(*s));
              else
                close_lowest_layer(*s);
            });
        } else {
          start_http_session(*core, std::move(socket));
        }
      }
      accept();
    });
  }
};

exchange_sim::exchange_sim(sim_config cfg)
    : impl_(std::make_unique<impl>(std::move(cfg))) {
  // nop
}

exchange_sim::~exchange_sim() {
  stop();
}

std::string exchange_sim::start() {
  auto& d = *impl_;
  if (d.running)
    return "already running";
  auto now = wall_ms();
  d.core = std::make_unique<sim_core>(d.config, now);
  d.last_drop_ms = d.last_stall_ms = now;
  if (!d.config.trade_log.empty() && !d.core->log.open(d.config.trade_log))
    return "cannot open trade log " + d.config.trade_log;
  error_code ec;
  if (d.config.tls()) {
    d.tls
      = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    d.tls->set_options(asio::ssl::context::default_workarounds
        | asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3,
      ec);
    d.tls->use_certificate_chain_file(d.config.tls_cert, ec);
    if (ec)
      return "cannot load TLS certificate " + d.config.tls_cert + ": "
        + ec.message();
    d.tls->use_private_key_file(d.config.tls_key, asio::ssl::context::pem, ec);
    if (ec)
      return "cannot load TLS key " + d.config.tls_key + ": " + ec.message();
  }
  auto host = d.config.host == "localhost" ? "127.0.0.1" : d.config.host;
  auto addr = asio::ip::make_address(host, ec);
  if (ec)
    return "invalid listen address " + d.config.host;
  tcp::endpoint ep{addr, d.config.port};
  d.acceptor.open(ep.protocol(), ec);
  if (!ec)
    d.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    d.acceptor.bind(ep, ec);
  if (!ec)
    d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return "cannot listen on " + d.config.host + ":"
      + std::to_string(d.config.port) + ": " + ec.message();
  d.port = d.acceptor.local_endpoint().port();
  d.accept();
  d.arm_tick();
  d.guard.emplace(d.ioc.get_executor());
  d.running = true;
  d.thread = std::thread{[&d] { d.ioc.run(); }};
  return {};
}

std::uint16_t exchange_sim::port() const noexcept {
  return impl_->port;
}

std::string exchange_sim::ws_base() const {
  return std::string{impl_->config.tls() ? "wss://" : "ws://"}
  + "127.0.0.1:" + std::to_string(port());
}

std::string exchange_sim::http_base() const {
  return std::string{impl_->config.tls() ? "https://" : "http://"}
  + "127.0.0.1:" + std::to_string(port());
}

void exchange_sim::stop() {
  auto& d = *impl_;
  if (!d.running)
    return;
  d.on_io([&d] {
    error_code ec;
    d.acceptor.close(ec);
    d.tick_timer.cancel();
    d.core->for_each_session([](ws_session_base& s) { s.drop(); });
    d.core->log.close();
    return 0;
  });
  d.guard.reset();
  d.ioc.stop();
  d.thread.join();
  d.running = false;
}

sim_stats exchange_sim::stats() {
  auto& d = *impl_;
  if (!d.core)
    return {};
  return d.on_io([&d] { return d.core->snapshot(); });
}

std::string exchange_sim::control(const std::string& json) {
  auto& d = *impl_;
  if (!d.core)
    return "not started";
  return d.on_io([&d, &json] {
    control_actions acts;
    auto err = apply_control(json, d.core->faults.settings(), acts);
    if (!err.empty())
      return err;
    d.core->run_actions(acts);
    return std::string{};
  });
}

void exchange_sim::flush() {
  auto& d = *impl_;
  if (!d.core)
    return;
  d.on_io([&d] {
    d.generate();
    d.core->log.flush();
    return 0;
  });
}

} // namespace csp::tools
