#include "net/ws_client.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "net/detail/asio.hpp"
#include "net/detail/tls_start.hpp"
#include "net/ws_frame.hpp"

namespace csp::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

/// Bytes asked for per socket read; the buffer grows beyond this only for a
/// single frame that does not fit.
constexpr std::size_t read_chunk = 65'536;

/// Longest wait for the peer's answer to our close frame.
constexpr std::chrono::milliseconds close_wait{2'000};

/// Largest body of a refused handshake that is read (for the status).
constexpr std::uint64_t handshake_body_limit = 65'536;

} // namespace

/// The per-connection state and logic; the stream type (plain TCP or TLS)
/// is a template parameter of ws_session below.
struct ws_connection::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& ctx, url target, client_options o, ws_callbacks c)
      : io(ctx), resolver(ctx), pause_timer(ctx), idle_timer(ctx),
        close_timer(ctx), u(std::move(target)), opts(std::move(o)),
        cbs(std::move(c)), decoder(opts.max_message_size),
        rng(std::random_device{}()) {}

  virtual ~impl() = default;

  virtual void start() = 0;

  /// Closes the transport (no handshake, no callback).
  virtual void close_transport() = 0;

  /// Starts one socket read into [buffer + end, buffer + capacity).
  virtual void start_read() = 0;

  /// Writes `out_inflight`; calls on_written when done.
  virtual void start_write() = 0;

  // --- connection state, all on the io_thread ---

  void finish(const std::string& reason) {
    if (finished)
      return;
    finished = true;
    open = false;
    pending.clear();
    pause_timer.cancel();
    idle_timer.cancel();
    close_timer.cancel();
    if (cbs.on_close)
      cbs.on_close(reason);
    cbs = ws_callbacks{};
  }

  void fail(std::string_view stage, const error_code& ec) {
    if (finished)
      return;
    close_transport();
    finish(
      closing ? std::string{"closed"} : detail::describe_failure(stage, ec));
  }

  void fail_protocol(const char* why) {
    if (finished)
      return;
    close_transport();
    finish(closing ? std::string{"closed"}
                   : std::string{"read_failed: protocol error: "} + why);
  }

  void queue_frame(ws_opcode op, std::string_view payload) {
    ws_append_client_frame(
      pending, op, payload, static_cast<std::uint32_t>(rng()));
    do_write();
  }

  void send(const std::string& text) {
    if (finished || closing || peer_closed)
      return;
    queue_frame(ws_opcode::text, text);
  }

  void do_write() {
    if (writing || !open || pending.empty())
      return;
    writing = true;
    inflight.swap(pending);
    pending.clear();
    start_write();
  }

  void on_written(const error_code& ec) {
    writing = false;
    inflight.clear();
    if (finished)
      return;
    if (ec && peer_closed) {
      close_transport();
      finish("closed_by_peer");
      return;
    }
    if (ec)
      return fail("write_failed", ec);
    if (peer_closed && pending.empty()) {
      // Our echo of the peer's close frame is out: done.
      close_transport();
      finish("closed_by_peer");
      return;
    }
    do_write();
  }

  void do_close() {
    if (finished || closing)
      return;
    closing = true;
    if (!open) {
      resolver.cancel();
      close_transport();
      finish("closed");
      return;
    }
    if (peer_closed)
      return; // finishing already
    queue_frame(ws_opcode::close, ws_close_payload(ws_close_normal));
    finish_within(close_wait, "closed");
  }

  /// Finishes with `reason` after `limit` unless finished before.
  void finish_within(std::chrono::milliseconds limit, const char* reason) {
    close_timer.expires_after(limit);
    close_timer.async_wait(
      [self = shared_from_this(), reason](const error_code& ec) {
        if (ec || self->finished)
          return;
        self->close_transport();
        self->finish(reason);
      });
  }

  // --- reading ---

  /// Makes room for the next read: drops consumed bytes and grows the
  /// buffer when one frame needs more than it holds.
  void prepare_buffer() {
    if (begin > 0) {
      std::memmove(buffer.data(), buffer.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    auto wanted = std::max(end + read_chunk / 4, need);
    if (buffer.size() < std::max(wanted, read_chunk))
      buffer.resize(std::max({wanted, read_chunk, 2 * buffer.size()}));
  }

  void do_read() {
    if (paused || reading || finished || !open || peer_closed)
      return;
    prepare_buffer();
    reading = true;
    start_read();
  }

  void on_read(const error_code& ec, std::size_t n) {
    reading = false;
    if (finished)
      return;
    if (ec)
      return fail("read_failed", ec);
    end += n;
    heard = true;
    process();
    do_read();
  }

  /// Delivers every complete frame in the buffer (until paused).
  void process() {
    bool delivered = false;
    while (!paused && !finished && !peer_closed) {
      ws_event ev;
      auto used = decoder.next(buffer.data() + begin, end - begin, ev);
      if (ev.kind == ws_event_kind::protocol_error)
        return fail_protocol(ev.error);
      if (ev.kind == ws_event_kind::need_more) {
        need = ev.need;
        break;
      }
      begin += used;
      need = 0;
      switch (ev.kind) {
        case ws_event_kind::message:
          if (!closing && cbs.on_message) {
            cbs.on_message(ev.payload);
            delivered = true;
          }
          break;
        case ws_event_kind::ping:
          queue_frame(ws_opcode::pong, ev.payload);
          break;
        case ws_event_kind::close:
          on_peer_close(ev.close_code);
          break;
        default: // pong, fragment
          break;
      }
    }
    if (delivered && !finished && cbs.on_read_end)
      cbs.on_read_end();
  }

  void on_peer_close(std::uint16_t code) {
    if (closing) {
      // The answer to our close frame.
      close_transport();
      finish("closed");
      return;
    }
    peer_closed = true;
    // Echo the status (none when the peer sent none), then close.
    queue_frame(
      ws_opcode::close, code == 1005 ? std::string{} : ws_close_payload(code));
    finish_within(close_wait, "closed_by_peer");
  }

  // --- pause and idle check ---

  void do_pause(std::chrono::milliseconds max_pause) {
    if (finished)
      return;
    paused = true;
    auto generation = ++pause_generation;
    pause_timer.cancel();
    if (max_pause.count() <= 0)
      return;
    pause_timer.expires_after(max_pause);
    pause_timer.async_wait(
      [self = shared_from_this(), generation](const error_code& ec) {
        if (ec || self->finished || !self->paused
          || self->pause_generation != generation)
          return;
        if (self->cbs.on_pause_expired)
          self->cbs.on_pause_expired();
        self->do_resume();
      });
  }

  void do_resume() {
    if (!paused || finished)
      return;
    paused = false;
    ++pause_generation;
    pause_timer.cancel();
    heard = true; // the idle check starts over
    if (!open)
      return;
    process();
    do_read();
  }

  void arm_idle_check() {
    if (opts.idle_timeout.count() <= 0 || finished)
      return;
    idle_timer.expires_after(opts.idle_timeout / 2);
    idle_timer.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec)
        self->on_idle_check();
    });
  }

  /// Every half idle timeout: something arrived, or we ping, or (nothing
  /// since the ping) the peer is gone. Not while paused.
  void on_idle_check() {
    // Nothing may follow a close frame, not even a ping.
    if (finished || !open || closing || peer_closed)
      return;
    if (paused || heard) {
      heard = false;
      ping_sent = false;
    } else if (!ping_sent) {
      ping_sent = true;
      queue_frame(ws_opcode::ping, {});
    } else {
      close_transport();
      finish("read_failed: timeout");
      return;
    }
    arm_idle_check();
  }

  /// The handshake is done; `leftover` are bytes read past its response.
  void on_open(std::string_view leftover) {
    buffer.resize(std::max(read_chunk, leftover.size() + read_chunk / 4));
    std::memcpy(buffer.data(), leftover.data(), leftover.size());
    begin = 0;
    end = leftover.size();
    open = true;
    if (cbs.on_open)
      cbs.on_open();
    do_write();
    arm_idle_check();
    process();
    do_read();
  }

  asio::io_context& io;
  tcp::resolver resolver;
  /// Ends a bounded pause.
  asio::steady_timer pause_timer;
  /// The idle check (keep-alive pings).
  asio::steady_timer idle_timer;
  /// Bounds the wait for the answer to our close frame.
  asio::steady_timer close_timer;
  url u;
  client_options opts;
  ws_callbacks cbs;
  ws_frame_decoder decoder;
  std::mt19937_64 rng;
  /// Received bytes: [begin, end) are not yet decoded.
  std::vector<char> buffer;
  std::size_t begin = 0;
  std::size_t end = 0;
  /// Size of the frame the decoder waits for (0: unknown).
  std::size_t need = 0;
  /// Encoded frames waiting, and those being written.
  std::string pending;
  std::string inflight;
  bool writing = false;
  bool open = false;
  /// We sent (or are about to send) a close frame.
  bool closing = false;
  /// The peer sent a close frame; we echo it and finish.
  bool peer_closed = false;
  bool finished = false;
  /// Reading is paused: nothing is delivered and no read is started.
  bool paused = false;
  /// A read is outstanding.
  bool reading = false;
  /// Something arrived since the last idle check; a ping is unanswered.
  bool heard = true;
  bool ping_sent = false;
  /// Bumped by every pause and resume; stale pause timers are ignored.
  std::uint64_t pause_generation = 0;
};

namespace {

template <class Stream>
class ws_session final : public ws_connection::impl {
public:
  using base = ws_connection::impl;

  template <class... Args>
  ws_session(asio::io_context& ctx, url target, client_options o,
    ws_callbacks c, Args&&... stream_args)
      : base(ctx, std::move(target), std::move(o), std::move(c)),
        stream_(std::forward<Args>(stream_args)...) {}

  void start() override {
    lowest().expires_after(opts.connect_timeout);
    resolver.async_resolve(u.host, std::to_string(u.port),
      [self = shared()](const error_code& ec, tcp::resolver::results_type r) {
        self->on_resolve(ec, std::move(r));
      });
  }

  void close_transport() override {
    error_code ignored;
    lowest().socket().close(ignored);
  }

  void start_read() override {
    stream_.async_read_some(
      asio::buffer(buffer.data() + end, buffer.size() - end),
      [self = shared()](
        const error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void start_write() override {
    asio::async_write(stream_, asio::buffer(inflight),
      [self = shared()](
        const error_code& ec, std::size_t) { self->on_written(ec); });
  }

private:
  std::shared_ptr<ws_session> shared() {
    return std::static_pointer_cast<ws_session>(shared_from_this());
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void on_resolve(const error_code& ec, tcp::resolver::results_type r) {
    if (ec)
      return fail("resolve_failed", ec);
    if (closing)
      return;
    lowest().async_connect(
      r, [self = shared()](const error_code& ec2, const tcp::endpoint&) {
        self->on_connect(ec2);
      });
  }

  void on_connect(const error_code& ec) {
    if (ec)
      return fail("connect_failed", ec);
    error_code ignored;
    lowest().socket().set_option(tcp::no_delay{true}, ignored);
    detail::start_tls(stream_, u.host, opts.verify_peer,
      [self = shared()](const error_code& ec2) {
        if (ec2)
          return self->fail("tls_failed", ec2);
        self->send_handshake();
      });
  }

  void send_handshake() {
    key_ = ws_handshake_key(rng(), rng());
    request_.emplace(http::verb::get, u.target, 11);
    request_->set(http::field::host, u.host_header());
    request_->set(http::field::upgrade, "websocket");
    request_->set(http::field::connection, "Upgrade");
    request_->set(http::field::sec_websocket_key, key_);
    request_->set(http::field::sec_websocket_version, "13");
    request_->set(http::field::user_agent, "csp");
    http::async_write(
      stream_, *request_, [self = shared()](const error_code& ec, std::size_t) {
        if (ec)
          return self->fail("handshake_failed", ec);
        self->read_handshake();
      });
  }

  void read_handshake() {
    response_.emplace();
    response_->body_limit(handshake_body_limit);
    http::async_read(stream_, handshake_buffer_, *response_,
      [self = shared()](
        const error_code& ec, std::size_t) { self->on_handshake(ec); });
  }

  /// Why the response does not accept our upgrade, or "" when it does.
  std::string refusal(const http::response<http::string_body>& res) const {
    if (res.result() != http::status::switching_protocols)
      return "status " + std::to_string(res.result_int());
    if (!beast::iequals(res[http::field::upgrade], "websocket"))
      return "no Upgrade: websocket";
    if (!http::token_list{res[http::field::connection]}.exists("upgrade"))
      return "no Connection: upgrade";
    if (res[http::field::sec_websocket_accept] != ws_accept_value(key_))
      return "wrong Sec-WebSocket-Accept";
    return {};
  }

  void on_handshake(const error_code& ec) {
    if (ec)
      return fail("handshake_failed", ec);
    if (finished)
      return;
    auto why = refusal(response_->get());
    if (!why.empty()) {
      close_transport();
      finish(closing ? std::string{"closed"} : "handshake_failed: " + why);
      return;
    }
    lowest().expires_never();
    auto data = handshake_buffer_.data();
    std::string_view leftover{
      static_cast<const char*>(data.data()), data.size()};
    on_open(leftover);
    handshake_buffer_ = beast::flat_buffer{};
    response_.reset();
    request_.reset();
  }

  Stream stream_;
  std::string key_;
  std::optional<http::request<http::empty_body>> request_;
  std::optional<http::response_parser<http::string_body>> response_;
  beast::flat_buffer handshake_buffer_;
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
    ptr = std::make_shared<ws_session<beast::tcp_stream>>(
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
  asio::post(
    impl_->io, [ptr = impl_, msg = std::move(text)] { ptr->send(msg); });
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
