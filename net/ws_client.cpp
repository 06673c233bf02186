#include "net/ws_client.hpp"

#include <deque>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/buffered_read_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/flat_static_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "net/detail/asio.hpp"

namespace csp::net::detail {

/// Socket reads of a plain connection go through this buffer: Beast's
/// WebSocket stream reads at most 1536 bytes at a time, which would cost
/// one recv per handful of small frames; TLS streams buffer on their own.
inline constexpr std::size_t plain_read_buffer = 65'536;

/// A plain TCP stream with reads of up to plain_read_buffer bytes.
using buffered_tcp_stream
  = boost::beast::buffered_read_stream<boost::beast::tcp_stream,
    boost::beast::flat_static_buffer<plain_read_buffer>>;

} // namespace csp::net::detail

namespace boost::beast {

// The WebSocket close handshake tears down the TCP stream under the
// buffer (found by argument-dependent lookup).
inline void teardown(role_type role,
  csp::net::detail::buffered_tcp_stream& stream, error_code& ec) {
  using websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class TeardownHandler>
void async_teardown(role_type role,
  csp::net::detail::buffered_tcp_stream& stream, TeardownHandler&& handler) {
  using websocket::async_teardown;
  async_teardown(
    role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

} // namespace boost::beast

namespace csp::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

/// Type-erased base of a plain or TLS session.
struct ws_connection::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& ctx, url target, client_options o, ws_callbacks c)
      : io(ctx), resolver(ctx), pause_timer(ctx), u(std::move(target)),
        opts(std::move(o)), cbs(std::move(c)) {}

  virtual ~impl() = default;

  virtual void start() = 0;
  virtual void do_write() = 0;
  virtual void do_close() = 0;
  virtual void do_pause(std::chrono::milliseconds max_pause) = 0;
  virtual void do_resume() = 0;

  void finish(const std::string& reason) {
    if (finished)
      return;
    finished = true;
    open = false;
    writes.clear();
    pause_timer.cancel();
    if (cbs.on_close)
      cbs.on_close(reason);
    cbs = ws_callbacks{};
  }

  void send(std::string text) {
    if (finished)
      return;
    writes.push_back(std::move(text));
    if (open && !writing)
      do_write();
  }

  asio::io_context& io;
  tcp::resolver resolver;
  /// Ends a bounded pause.
  asio::steady_timer pause_timer;
  url u;
  client_options opts;
  ws_callbacks cbs;
  beast::flat_buffer buffer;
  std::deque<std::string> writes;
  bool writing = false;
  bool open = false;
  bool closing = false;
  bool finished = false;
  /// Reading is paused; `held` means a message was read and not delivered.
  bool paused = false;
  bool held = false;
  /// An async_read is outstanding.
  bool reading = false;
  /// Bumped by every pause and resume; stale pause timers are ignored.
  std::uint64_t pause_generation = 0;
};

namespace {

std::string describe(std::string_view stage, const error_code& ec) {
  std::string result{stage};
  result += ": ";
  result += ec.message();
  return result;
}

template <class Stream>
class ws_session final : public ws_connection::impl {
public:
  using base = ws_connection::impl;

  template <class... Args>
  ws_session(asio::io_context& ctx, url target, client_options o,
    ws_callbacks c, Args&&... stream_args)
      : base(ctx, std::move(target), std::move(o), std::move(c)),
        ws_(std::forward<Args>(stream_args)...) {}

  void start() override {
    beast::get_lowest_layer(ws_).expires_after(opts.connect_timeout);
    resolver.async_resolve(u.host, std::to_string(u.port),
      [self = shared()](const error_code& ec, tcp::resolver::results_type r) {
        self->on_resolve(ec, std::move(r));
      });
  }

  void do_write() override {
    if (writes.empty() || !open) {
      writing = false;
      return;
    }
    writing = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(writes.front()),
      [self = shared()](const error_code& ec, std::size_t) {
        self->writing = false;
        if (ec) {
          self->fail("write_failed", ec);
          return;
        }
        if (!self->writes.empty())
          self->writes.pop_front();
        self->do_write();
      });
  }

  void do_close() override {
    if (finished || closing)
      return;
    closing = true;
    if (!open) {
      resolver.cancel();
      beast::get_lowest_layer(ws_).cancel();
      beast::get_lowest_layer(ws_).close();
      finish("closed");
      return;
    }
    ws_.async_close(
      websocket::close_code::normal, [self = shared()](const error_code&) {
        beast::get_lowest_layer(self->ws_).close();
        self->finish("closed");
      });
  }

  void do_pause(std::chrono::milliseconds max_pause) override {
    if (finished)
      return;
    paused = true;
    auto generation = ++pause_generation;
    apply_timeouts();
    pause_timer.cancel();
    if (max_pause.count() <= 0)
      return;
    pause_timer.expires_after(max_pause);
    pause_timer.async_wait([self = shared(), generation](const error_code& ec) {
      if (ec || self->finished || !self->paused
        || self->pause_generation != generation)
        return;
      if (self->cbs.on_pause_expired)
        self->cbs.on_pause_expired();
      self->do_resume();
    });
  }

  void do_resume() override {
    if (!paused || finished)
      return;
    paused = false;
    ++pause_generation;
    pause_timer.cancel();
    apply_timeouts();
    if (!open)
      return;
    if (held) {
      held = false;
      deliver();
    }
    do_read();
  }

private:
  std::shared_ptr<ws_session> shared() {
    return std::static_pointer_cast<ws_session>(shared_from_this());
  }

  void fail(std::string_view stage, const error_code& ec) {
    if (finished)
      return;
    beast::get_lowest_layer(ws_).close();
    if (closing) {
      finish("closed");
      return;
    }
    if (ec == websocket::error::closed)
      finish("closed_by_peer");
    else if (ec == beast::error::timeout)
      finish(std::string{stage} + ": timeout");
    else
      finish(describe(stage, ec));
  }

  void on_resolve(const error_code& ec, tcp::resolver::results_type r) {
    if (ec)
      return fail("resolve_failed", ec);
    if (closing)
      return;
    beast::get_lowest_layer(ws_).async_connect(
      r, [self = shared()](const error_code& ec2, const tcp::endpoint&) {
        self->on_connect(ec2);
      });
  }

  void on_connect(const error_code& ec) {
    if (ec)
      return fail("connect_failed", ec);
    if constexpr (std::is_same_v<Stream, detail::buffered_tcp_stream>) {
      ws_.next_layer().capacity(detail::plain_read_buffer);
      on_transport_ready();
    } else {
      auto& tls = ws_.next_layer();
      if (!detail::set_sni(tls.native_handle(), u.host))
        return fail("tls_failed", error_code{asio::error::invalid_argument});
      if (opts.verify_peer)
        tls.set_verify_callback(asio::ssl::host_name_verification(u.host));
      tls.async_handshake(asio::ssl::stream_base::client,
        [self = shared()](const error_code& ec2) {
          if (ec2)
            return self->fail("tls_failed", ec2);
          self->on_transport_ready();
        });
    }
  }

  void on_transport_ready() {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t;
    t.handshake_timeout = opts.connect_timeout;
    if (opts.idle_timeout.count() > 0) {
      t.idle_timeout = opts.idle_timeout;
      t.keep_alive_pings = true;
    } else {
      t.idle_timeout = websocket::stream_base::none();
      t.keep_alive_pings = false;
    }
    timeouts_ = t;
    timeouts_set_ = true;
    apply_timeouts();
    ws_.read_message_max(opts.max_message_size);
    ws_.async_handshake(u.host_header(), u.target,
      [self = shared()](const error_code& ec) { self->on_handshake(ec); });
  }

  void on_handshake(const error_code& ec) {
    if (ec)
      return fail("handshake_failed", ec);
    if (closing) {
      closing = false;
      open = true;
      do_close();
      return;
    }
    open = true;
    if (cbs.on_open)
      cbs.on_open();
    if (!writes.empty() && !writing)
      do_write();
    do_read();
  }

  /// The configured timeouts, without the idle timeout while paused (our
  /// own pause must not look like a dead peer). Beast re-arms its idle
  /// timer when the next read starts.
  void apply_timeouts() {
    if (!timeouts_set_)
      return;
    auto t = timeouts_;
    if (paused) {
      t.idle_timeout = websocket::stream_base::none();
      t.keep_alive_pings = false;
    }
    ws_.set_option(t);
  }

  void do_read() {
    if (paused || reading || finished || !open)
      return;
    reading = true;
    ws_.async_read(
      buffer, [self = shared()](const error_code& ec, std::size_t) {
        self->on_read(ec);
      });
  }

  void deliver() {
    auto data = buffer.data();
    if (cbs.on_message)
      cbs.on_message(
        std::string_view{static_cast<const char*>(data.data()), data.size()});
    buffer.consume(buffer.size());
  }

  void on_read(const error_code& ec) {
    reading = false;
    if (ec)
      return fail("read_failed", ec);
    if (finished)
      return;
    if (paused) {
      held = true; // delivered on resume
      return;
    }
    deliver();
    do_read();
  }

  websocket::stream<Stream> ws_;
  websocket::stream_base::timeout timeouts_;
  bool timeouts_set_ = false;
};

} // namespace

std::shared_ptr<ws_connection> ws_connection::open(
  io_thread& io, const url& u, const client_options& opts, ws_callbacks cbs) {
  auto& ctx = io.get().ctx;
  std::shared_ptr<impl> ptr;
  std::string tls_error;
  if (u.tls()) {
    asio::ssl::context ssl_ctx{asio::ssl::context::tls_client};
    tls_error = detail::make_client_context(ssl_ctx, opts);
    // The stream keeps its own reference to the SSL_CTX.
    ptr = std::make_shared<ws_session<beast::ssl_stream<beast::tcp_stream>>>(
      ctx, u, opts, std::move(cbs), ctx, ssl_ctx);
  } else {
    ptr = std::make_shared<ws_session<detail::buffered_tcp_stream>>(
      ctx, u, opts, std::move(cbs), ctx);
  }
  auto result = std::make_shared<ws_connection>(ptr);
  asio::post(ctx, [ptr, tls_error] {
    if (!tls_error.empty())
      ptr->finish("tls_failed: " + tls_error);
    else
      ptr->start();
  });
  return result;
}

ws_connection::ws_connection(std::shared_ptr<impl> ptr)
    : impl_(std::move(ptr)) {}

ws_connection::~ws_connection() {
  close();
}

void ws_connection::send(std::string text) {
  asio::post(impl_->io, [ptr = impl_, msg = std::move(text)]() mutable {
    ptr->send(std::move(msg));
  });
}

void ws_connection::close() {
  asio::post(impl_->io, [ptr = impl_] { ptr->do_close(); });
}

void ws_connection::pause_reading(std::chrono::milliseconds max_pause) {
  asio::post(impl_->io, [ptr = impl_, max_pause] { ptr->do_pause(max_pause); });
}

void ws_connection::resume_reading() {
  asio::post(impl_->io, [ptr = impl_] { ptr->do_resume(); });
}

} // namespace csp::net
