#include "net/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "messages/json_quote.hpp"
#include "net/detail/ws_transport.hpp"

namespace csp::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
/// The executor of a connection: a strand of the server's io_context (an
/// HTTP connection) or a WebSocket thread's context (an upgraded one).
using conn_executor = asio::any_io_executor;

namespace {

/// Whether posting into the server is still allowed. Posts happen under
/// the shared lock; stop() takes the exclusive lock before the io_context
/// goes away, so nothing is posted into a dead context.
struct life_guard {
  std::shared_mutex mtx;
  bool alive = true;

  /// The WebSocket threads' contexts (set before the first connection).
  std::vector<asio::io_context::executor_type> ws_lanes;

  /// Runs `f` on WebSocket thread `lane`.
  template <class F>
  bool post_lane(std::size_t lane, F&& f) {
    std::shared_lock<std::shared_mutex> guard{mtx};
    if (!alive || lane >= ws_lanes.size())
      return false;
    asio::post(ws_lanes[lane], std::forward<F>(f));
    return true;
  }

  template <class Executor, class F>
  bool post(const Executor& ex, F&& f) {
    std::shared_lock<std::shared_mutex> guard{mtx};
    if (!alive)
      return false;
    asio::post(ex, std::forward<F>(f));
    return true;
  }

  /// Runs `f(session)` on the executor of the session `w` refers to, if
  /// it still exists. The session is locked under the guard and its only
  /// strong reference goes into the posted handler, so it is never
  /// destroyed outside the server's threads, and nothing here keeps an
  /// executor (one must not outlive its io_context).
  template <class Session, class F>
  bool post_to(const std::weak_ptr<Session>& w, F&& f) {
    std::shared_lock<std::shared_mutex> guard{mtx};
    if (!alive)
      return false;
    auto s = w.lock();
    if (!s)
      return false;
    auto ex = s->executor();
    asio::post(
      ex, [s = std::move(s), f = std::forward<F>(f)]() mutable { f(*s); });
    return true;
  }
};

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

} // namespace

server_response json_error(
  unsigned status, std::string_view code, std::string_view message) {
  server_response res;
  res.status = status;
  res.body = R"({"error":{"code":)";
  messages::append_json_quoted(res.body, code);
  res.body += R"(,"message":)";
  messages::append_json_quoted(res.body, message);
  res.body += "}}";
  return res;
}

std::string_view server_request::header(
  std::string_view lower_name) const noexcept {
  for (const auto& [k, v] : headers)
    if (k == lower_name)
      return v;
  return {};
}

class http_session;
class ws_session;

// -- server state -------------------------------------------------------------

struct http_server::impl {
  impl(server_options o, server_handlers h)
      : opts(std::move(o)), handlers(std::move(h)) {
    if (!opts.make_error)
      opts.make_error = json_error;
    if (opts.threads == 0)
      opts.threads = 1;
    if (opts.ws_threads == 0)
      opts.ws_threads = std::max(1U, std::thread::hardware_concurrency());
  }

  server_options opts;
  server_handlers handlers;
  std::optional<asio::io_context> ioc;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_retry;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    guard;
  std::vector<std::thread> threads;
  /// The WebSocket threads: one context each, run by that thread alone,
  /// so a connection's handlers and everything posted to it run in order
  /// on one thread without a strand.
  struct ws_lane {
    asio::io_context ioc{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      guard;
    std::thread thread;
  };
  std::vector<std::unique_ptr<ws_lane>> ws_lanes;
  /// The lane of the next WebSocket connection (round robin).
  std::atomic<std::size_t> next_ws_lane{0};
  std::shared_ptr<life_guard> life = std::make_shared<life_guard>();
  std::uint16_t port = 0;
  bool started = false;
  bool stopped = false;
  std::mutex stop_mtx;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> ws_connections{0};
  std::atomic<std::uint64_t> next_ws_id{1};
  std::mutex ws_mtx;
  std::unordered_map<std::uint64_t, std::weak_ptr<ws_session>> ws_sessions;

  void accept();
};

// -- WebSocket
// ------------------------------------------------------------------

/// What a ws_peer refers to. It holds no executor of the server: a peer
/// may outlive the server's io_context (an actor still holds it), and a
/// strand destroyed after its context is a use after free.
struct ws_peer::impl {
  std::uint64_t id = 0;
  std::string remote;
  /// The WebSocket thread of the connection.
  std::size_t lane = 0;
  /// Messages queued and being written; stored by the session alone.
  std::atomic<std::size_t> queued{0};
  std::atomic<bool> closing{false};
  std::weak_ptr<ws_session> session;
  std::shared_ptr<life_guard> life;
};

/// One server WebSocket connection; everything runs on its WebSocket
/// thread (one context per thread: no strand needed). Data
/// messages wait in `queue_`; whatever waits when the socket is free goes
/// out in one gathered write of ready-made frames (`batch_`). The queue
/// holds at most `ws_queue_limit` messages, counting those being written;
/// `on_sent` returns that room to the sender as it is written.
class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  ws_session(http_server::impl& srv, beast::tcp_stream stream,
    std::shared_ptr<ws_peer::impl> peer, ws_handlers h)
      : srv_(srv), ws_(std::move(stream)), peer_(std::move(peer)),
        handlers_(std::move(h)), close_timer_(ws_.get_executor()),
        credit_step_(std::max<std::size_t>(1, srv.opts.ws_queue_limit / 2)) {
    // nop
  }

  ~ws_session() { finish("closed"); }

  ws_session(const ws_session&) = delete;
  ws_session& operator=(const ws_session&) = delete;

  void start(http::request<http::string_body> req) {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = srv_.opts.read_timeout;
    t.idle_timeout = 2 * srv_.opts.ws_ping_interval;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.set_option(
      websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(http::field::server, "csp");
      }));
    ws_.read_message_max(srv_.opts.ws_max_message);
    req_ = std::move(req);
    ws_.async_accept(req_,
      [self = shared_from_this()](error_code ec) { self->on_accept(ec); });
  }

  /// On its thread: messages of one send, in order. More than the queue
  /// limit waiting makes the client a slow consumer: it is closed.
  void enqueue(std::vector<std::shared_ptr<const std::string>> texts) {
    if (finished_ || close_requested_)
      return;
    auto waiting = queue_.size() + in_flight_.size() + texts.size();
    if (waiting > srv_.opts.ws_queue_limit) {
      request_close(1008,
        "slow consumer: " + std::to_string(waiting) + " messages waiting");
      return;
    }
    for (auto& t : texts)
      queue_.push_back(std::move(t));
    publish_queued();
    if (accepted_ && !writing_)
      do_write();
  }

  /// On its thread.
  void request_close(std::uint16_t code, const std::string& reason) {
    if (finished_ || close_requested_)
      return;
    close_requested_ = true;
    peer_->closing.store(true);
    close_text_ = "closed: " + reason;
    close_reason_ = websocket::close_reason{
      static_cast<websocket::close_code>(code), reason};
    // Drop what waits; the batch being written (if any) completes first.
    queue_.clear();
    publish_queued();
    close_timer_.expires_after(srv_.opts.ws_close_timeout);
    close_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec)
        self->cut("close timeout");
    });
    if (accepted_ && !writing_)
      start_close();
  }

  /// The connection's WebSocket thread.
  conn_executor executor() { return ws_.get_executor(); }

  /// Breaks the ownership cycle of a write waiting in the transport (its
  /// handler owns this session); on its thread, or with the threads gone.
  void drop_waiting() noexcept { ws_.next_layer().drop_waiting(); }

private:
  void on_accept(error_code ec) {
    if (ec) {
      finish("handshake_failed: " + ec.message());
      return;
    }
    accepted_ = true;
    srv_.ws_connections.fetch_add(1);
    counted_ = true;
    do_read();
    if (close_requested_)
      start_close();
    else if (!queue_.empty() && !writing_)
      do_write();
  }

  void do_read() {
    ws_.async_read(
      buf_, [self = shared_from_this()](error_code ec, std::size_t) {
        self->on_read(ec);
      });
  }

  void on_read(error_code ec) {
    if (ec) {
      if (close_requested_)
        finish(close_text_); // whatever ended it, the close was ours
      else if (ec == websocket::error::closed)
        finish("closed_by_peer");
      else if (ec == beast::error::timeout)
        finish("timeout");
      else if (ec == websocket::error::message_too_big)
        cut("message_too_big");
      else
        finish(ec == asio::error::operation_aborted ? close_text_
                                                    : "error: " + ec.message());
      return;
    }
    if (handlers_.on_message && !close_requested_) {
      auto data = buf_.cdata();
      handlers_.on_message(
        std::string_view{static_cast<const char*>(data.data()), data.size()});
    }
    buf_.consume(buf_.size());
    do_read();
  }

  /// Writes every waiting message (up to max_batch) as one gathered write,
  /// batch after batch while the socket takes them at once.
  void do_write() {
    error_code ec;
    do {
      // A close frame from the peer ends the data (Beast answers it).
      if (!ws_.is_open())
        return;
      writing_ = true;
      auto n = std::min(queue_.size(), max_batch);
      in_flight_.clear();
      headers_.clear();
      buffers_.clear();
      headers_.reserve(n);
      buffers_.reserve(2 * n);
      for (std::size_t i = 0; i < n; ++i) {
        in_flight_.push_back(std::move(queue_.front()));
        queue_.pop_front();
        const auto& text = *in_flight_.back();
        headers_.push_back(detail::encode_text_header(text.size()));
        buffers_.push_back(headers_.back().buffer());
        buffers_.emplace_back(text.data(), text.size());
      }
      auto written = ws_.next_layer().write_frames(
        buffers_, ec, [self = shared_from_this()](error_code e, std::size_t) {
          if (self->after_write(e))
            self->do_write();
        });
      if (!written)
        return; // after_write runs when the rest is written
    } while (after_write(ec));
  }

  /// The batch in flight is written (or failed); returns whether the next
  /// one should be written now.
  bool after_write(error_code ec) {
    writing_ = false;
    auto written = in_flight_.size();
    in_flight_.clear();
    publish_queued();
    if (ec) {
      finish("write_failed: " + ec.message());
      return false;
    }
    unreported_ += written;
    if (unreported_ >= credit_step_ && handlers_.on_sent) {
      handlers_.on_sent(unreported_);
      unreported_ = 0;
    }
    if (close_requested_) {
      start_close();
      return false;
    }
    return !queue_.empty();
  }

  /// Makes the queue length visible to ws_peer::queued().
  void publish_queued() {
    peer_->queued.store(
      queue_.size() + in_flight_.size(), std::memory_order_relaxed);
  }

  void start_close() {
    if (close_started_ || finished_)
      return;
    close_started_ = true;
    ws_.async_close(close_reason_, [self = shared_from_this()](error_code) {
      self->finish(self->close_text_);
    });
  }

  /// Closes the socket without a handshake.
  void cut(const std::string& why) {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(
      tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
    finish(why);
  }

  void finish(const std::string& reason) {
    if (finished_)
      return;
    finished_ = true;
    peer_->closing.store(true);
    close_timer_.cancel();
    if (counted_)
      srv_.ws_connections.fetch_sub(1);
    {
      std::lock_guard<std::mutex> guard{srv_.ws_mtx};
      srv_.ws_sessions.erase(peer_->id);
    }
    drop_waiting();
    auto h = std::move(handlers_);
    handlers_ = ws_handlers{};
    if (h.on_close)
      h.on_close(reason);
  }

  /// Messages in one gathered write; asio hands at most 64 buffers (32
  /// messages) to one sendmsg, the rest follow within the same write.
  static constexpr std::size_t max_batch = 256;

  http_server::impl& srv_;
  websocket::stream<detail::ws_transport> ws_;
  std::shared_ptr<ws_peer::impl> peer_;
  ws_handlers handlers_;
  asio::steady_timer close_timer_;
  http::request<http::string_body> req_;
  beast::flat_buffer buf_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  /// The batch being written: its messages, their frame headers and the
  /// buffer sequence over both.
  std::vector<std::shared_ptr<const std::string>> in_flight_;
  std::vector<detail::ws_frame_header> headers_;
  std::vector<asio::const_buffer> buffers_;
  /// Messages written and not yet reported through on_sent.
  std::size_t unreported_ = 0;
  std::size_t credit_step_;
  websocket::close_reason close_reason_;
  std::string close_text_ = "closed";
  bool accepted_ = false;
  bool counted_ = false;
  bool writing_ = false;
  bool close_requested_ = false;
  bool close_started_ = false;
  bool finished_ = false;
};

std::uint64_t ws_peer::id() const noexcept {
  return impl_->id;
}

const std::string& ws_peer::remote_address() const noexcept {
  return impl_->remote;
}

std::size_t ws_peer::queued() const noexcept {
  return impl_->queued.load(std::memory_order_relaxed);
}

bool ws_peer::send(std::vector<std::shared_ptr<const std::string>> texts) {
  auto& p = *impl_;
  if (p.closing.load())
    return false;
  if (texts.empty())
    return true;
  return p.life->post_to(p.session,
    [t = std::move(texts)](ws_session& s) mutable { s.enqueue(std::move(t)); });
}

bool ws_peer::send(std::shared_ptr<const std::string> text) {
  std::vector<std::shared_ptr<const std::string>> one;
  one.push_back(std::move(text));
  return send(std::move(one));
}

void ws_peer::close(std::uint16_t code, std::string reason) {
  auto& p = *impl_;
  if (p.closing.exchange(true))
    return;
  p.life->post_to(p.session,
    [code, r = std::move(reason)](ws_session& s) { s.request_close(code, r); });
}

void ws_fanout::add(const std::shared_ptr<ws_peer>& peer,
  std::vector<std::shared_ptr<const std::string>> texts) {
  if (!peer || texts.empty() || peer->impl_->closing.load())
    return;
  entries_.emplace_back(peer->impl_, std::move(texts));
  if (chunk_ > 0 && entries_.size() >= chunk_)
    send();
}

void ws_fanout::send() {
  // One post per server and thread; a connection's messages keep their
  // order, and come after what was sent to it before (one queue per
  // thread).
  while (!entries_.empty()) {
    auto life = entries_.front().first->life;
    auto lane = entries_.front().first->lane;
    std::vector<entry> group;
    std::vector<entry> rest;
    for (auto& e : entries_)
      (e.first->life == life && e.first->lane == lane ? group : rest)
        .push_back(std::move(e));
    entries_ = std::move(rest);
    life->post_lane(lane, [g = std::move(group)]() mutable {
      for (auto& [peer, texts] : g)
        if (auto s = peer->session.lock())
          s->enqueue(std::move(texts));
    });
  }
}

// -- HTTP
// -----------------------------------------------------------------------

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(http_server::impl& srv, tcp::socket socket)
      : srv_(srv), stream_(std::move(socket)), timer_(stream_.get_executor()) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec)
      remote_ = ep.address().to_string();
  }

  ~http_session() { srv_.connections.fetch_sub(1); }

  http_session(const http_session&) = delete;
  http_session& operator=(const http_session&) = delete;

  void run() { wait_for_request(); }

  /// On the strand: the answer to request number `seq`.
  void respond(std::uint64_t seq, server_response res) {
    if (!waiting_ || seq != seq_)
      return;
    waiting_ = false;
    timer_.cancel();
    write(std::move(res));
  }

  conn_executor strand() { return stream_.get_executor(); }
  conn_executor executor() { return strand(); }

private:
  /// Waits up to the idle timeout for the first byte of the next request,
  /// then gives the whole request the read timeout.
  void wait_for_request() {
    if (buf_.size() > 0) {
      read_request();
      return;
    }
    stream_.expires_after(srv_.opts.idle_timeout);
    auto space = buf_.prepare(4096);
    stream_.async_read_some(
      space, [self = shared_from_this()](error_code ec, std::size_t n) {
        if (ec) {
          self->shutdown();
          return;
        }
        self->buf_.commit(n);
        self->read_request();
      });
  }

  void read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
      srv_.opts.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(srv_.opts.max_body_bytes);
    stream_.expires_after(srv_.opts.read_timeout);
    http::async_read(stream_, buf_, *parser_,
      [self = shared_from_this()](
        error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec) {
      if (ec == http::error::end_of_stream || ec == asio::error::eof
        || ec == asio::error::operation_aborted
        || ec == asio::error::connection_reset) {
        shutdown();
      } else if (ec == beast::error::timeout) {
        // The stream closed the socket already.
        shutdown();
      } else if (ec == http::error::body_limit) {
        fail(413, "payload_too_large",
          "request body larger than " + std::to_string(srv_.opts.max_body_bytes)
            + " bytes");
      } else if (ec == http::error::header_limit) {
        fail(431, "headers_too_large",
          "request headers larger than "
            + std::to_string(srv_.opts.max_header_bytes) + " bytes");
      } else {
        fail(400, "bad_request", "malformed HTTP request: " + ec.message());
      }
      return;
    }
    stream_.expires_never();
    auto req = parser_->release();
    server_request sr;
    sr.method = std::string{req.method_string()};
    sr.target = std::string{req.target()};
    for (const auto& f : req)
      sr.headers.emplace_back(
        lower({f.name_string().data(), f.name_string().size()}),
        std::string{f.value()});
    sr.body = std::move(req.body());
    sr.remote_address = remote_;
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    if (websocket::is_upgrade(req)) {
      upgrade(std::move(req), sr);
      return;
    }
    dispatch(std::move(sr));
  }

  void dispatch(server_request sr) {
    ++seq_;
    waiting_ = true;
    timer_.expires_after(srv_.opts.handler_timeout);
    timer_.async_wait([self = shared_from_this(), seq = seq_](error_code ec) {
      if (!ec && self->waiting_ && self->seq_ == seq) {
        self->waiting_ = false;
        auto res
          = self->srv_.opts.make_error(504, "timeout", "no answer in time");
        self->write(std::move(res));
      }
    });
    auto s = std::make_shared<responder::slot>(
      weak_from_this(), seq_, srv_.life, srv_.opts.make_error);
    try {
      if (srv_.handlers.on_request)
        srv_.handlers.on_request(std::move(sr), responder{std::move(s)});
      else
        responder{std::move(s)}(
          srv_.opts.make_error(404, "not_found", "no handler"));
    } catch (const std::exception& e) {
      respond(seq_, srv_.opts.make_error(500, "internal_error", e.what()));
    }
  }

  void upgrade(http::request<http::string_body> req, const server_request& sr) {
    if (req[http::field::sec_websocket_key].empty()
      || req[http::field::sec_websocket_version] != "13") {
      fail(400, "bad_request", "invalid WebSocket upgrade request");
      return;
    }
    if (!srv_.handlers.on_upgrade) {
      fail(404, "not_found", "no WebSocket endpoint here");
      return;
    }
    auto peer = std::make_shared<ws_peer::impl>();
    peer->id = srv_.next_ws_id.fetch_add(1);
    peer->remote = remote_;
    peer->life = srv_.life;
    peer->lane = srv_.next_ws_lane.fetch_add(1) % srv_.ws_lanes.size();
    auto handle = std::make_shared<ws_peer>(peer);
    ws_handlers h;
    std::optional<server_response> refusal;
    try {
      refusal = srv_.handlers.on_upgrade(sr, handle, h);
    } catch (const std::exception& e) {
      refusal = srv_.opts.make_error(500, "internal_error", e.what());
    }
    if (refusal) {
      refusal->close = true;
      write(std::move(*refusal));
      return;
    }
    // The connection moves to its WebSocket thread: the socket is
    // re-registered with that thread's context (nothing is pending on it
    // now that the request is read).
    auto& lane = srv_.ws_lanes[peer->lane]->ioc;
    error_code ec;
    auto protocol = stream_.socket().local_endpoint(ec).protocol();
    tcp::socket moved{lane};
    if (!ec) {
      auto fd = stream_.socket().release(ec);
      if (!ec)
        moved.assign(protocol, fd, ec);
    }
    if (ec) {
      shutdown();
      if (h.on_close)
        h.on_close("error: " + ec.message());
      return;
    }
    auto ws = std::make_shared<ws_session>(
      srv_, beast::tcp_stream{std::move(moved)}, peer, std::move(h));
    peer->session = ws;
    {
      std::lock_guard<std::mutex> guard{srv_.ws_mtx};
      srv_.ws_sessions.emplace(peer->id, ws);
    }
    asio::post(
      lane, [ws, r = std::move(req)]() mutable { ws->start(std::move(r)); });
  }

  void fail(unsigned status, std::string_view code, const std::string& msg) {
    auto res = srv_.opts.make_error(status, code, msg);
    res.close = true;
    version_ = 11;
    write(std::move(res));
  }

  void write(server_response r) {
    // The body is referenced, not copied: a shared one stays shared.
    auto body = r.shared_body
      ? std::move(r.shared_body)
      : std::make_shared<const std::string>(std::move(r.body));
    auto res = std::make_shared<http::response<http::span_body<const char>>>(
      static_cast<http::status>(r.status), version_);
    res->set(http::field::server, "csp");
    res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers)
      res->set(k, v);
    res->body()
      = http::span_body<const char>::value_type{body->data(), body->size()};
    res->keep_alive(keep_alive_ && !r.close);
    res->prepare_payload();
    stream_.expires_after(srv_.opts.read_timeout);
    http::async_write(stream_, *res,
      [self = shared_from_this(), res, body](error_code ec, std::size_t) {
        if (ec || !res->keep_alive()) {
          self->shutdown();
          return;
        }
        self->wait_for_request();
      });
  }

  void shutdown() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  http_server::impl& srv_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  std::uint64_t seq_ = 0;
  bool waiting_ = false;
  unsigned version_ = 11;
  bool keep_alive_ = true;

  friend struct responder::slot;
};

// -- responder
// --------------------------------------------------------------------

struct responder::slot {
  slot(std::weak_ptr<http_session> s, std::uint64_t n,
    std::shared_ptr<life_guard> l, error_formatter f)
      : session(std::move(s)), seq(n), life(std::move(l)),
        make_error(std::move(f)) {}

  ~slot() {
    if (!done.exchange(true))
      deliver(make_error(503, "unavailable", "the request was not answered"));
  }

  slot(const slot&) = delete;
  slot& operator=(const slot&) = delete;

  void deliver(server_response res) {
    if (decorator)
      decorator(res);
    // On the session's strand, not one kept here: a responder may
    // outlive the server's io_context, and a strand must not.
    life->post_to(
      session, [n = seq, r = std::move(res)](http_session& s) mutable {
        s.respond(n, std::move(r));
      });
  }

  std::weak_ptr<http_session> session;
  std::uint64_t seq;
  std::shared_ptr<life_guard> life;
  error_formatter make_error;
  std::function<void(server_response&)> decorator;
  std::atomic<bool> done{false};
};

void responder::decorate(std::function<void(server_response&)> f) const {
  if (slot_)
    slot_->decorator = std::move(f);
}

void responder::operator()(server_response res) const {
  if (slot_ && !slot_->done.exchange(true))
    slot_->deliver(std::move(res));
}

// -- server
// -----------------------------------------------------------------------

void http_server::impl::accept() {
  acceptor->async_accept(
    asio::make_strand(*ioc), [this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open())
        return;
      if (ec) {
        // Out of descriptors or similar: try again shortly.
        accept_retry->expires_after(std::chrono::milliseconds(50));
        accept_retry->async_wait([this](error_code e) {
          if (!e)
            accept();
        });
        return;
      }
      if (connections.load() + ws_connections.load() >= opts.max_connections) {
        error_code ignored;
        socket.close(ignored);
      } else {
        connections.fetch_add(1);
        std::make_shared<http_session>(*this, std::move(socket))->run();
      }
      accept();
    });
}

http_server::http_server(server_options opts, server_handlers handlers)
    : impl_(std::make_shared<impl>(std::move(opts), std::move(handlers))) {
  // Started by start().
}

http_server::~http_server() {
  stop();
}

std::string http_server::start() {
  auto& s = *impl_;
  if (s.started)
    return "already started";
  error_code ec;
  auto addr = asio::ip::make_address(s.opts.bind, ec);
  if (ec)
    return "invalid bind address '" + s.opts.bind + "': " + ec.message();
  s.ioc.emplace(static_cast<int>(s.opts.threads));
  s.acceptor.emplace(*s.ioc);
  s.accept_retry.emplace(*s.ioc);
  tcp::endpoint ep{addr, s.opts.port};
  s.acceptor->open(ep.protocol(), ec);
  if (!ec)
    s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    s.acceptor->bind(ep, ec);
  if (!ec)
    s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    auto where = s.opts.bind + ":" + std::to_string(s.opts.port);
    s.acceptor.reset();
    s.accept_retry.reset();
    s.ioc.reset();
    return "cannot listen on " + where + ": " + ec.message();
  }
  s.port = s.acceptor->local_endpoint().port();
  s.started = true;
  for (std::size_t i = 0; i < s.opts.ws_threads; ++i) {
    auto lane = std::make_unique<impl::ws_lane>();
    lane->guard.emplace(lane->ioc.get_executor());
    s.life->ws_lanes.push_back(lane->ioc.get_executor());
    s.ws_lanes.push_back(std::move(lane));
  }
  for (auto& lane : s.ws_lanes)
    lane->thread = std::thread{[l = lane.get()] { l->ioc.run(); }};
  s.guard.emplace(s.ioc->get_executor());
  s.accept();
  for (std::size_t i = 0; i < s.opts.threads; ++i)
    s.threads.emplace_back([&s] { s.ioc->run(); });
  return {};
}

std::uint16_t http_server::port() const noexcept {
  return impl_->port;
}

server_stats http_server::stats() const noexcept {
  return {impl_->connections.load(), impl_->ws_connections.load()};
}

void http_server::stop() {
  auto& s = *impl_;
  std::lock_guard<std::mutex> once{s.stop_mtx};
  if (!s.started || s.stopped)
    return;
  s.stopped = true;
  // Stop accepting; say goodbye to WebSocket clients and give them a moment.
  asio::post(*s.ioc, [&s] {
    error_code ignored;
    s.acceptor->close(ignored);
    s.accept_retry->cancel();
  });
  std::vector<std::shared_ptr<ws_session>> open;
  {
    std::lock_guard<std::mutex> guard{s.ws_mtx};
    for (auto& [id, w] : s.ws_sessions)
      if (auto p = w.lock())
        open.push_back(std::move(p));
  }
  for (auto& p : open)
    asio::post(
      p->executor(), [p] { p->request_close(1001, "server shutting down"); });
  open.clear();
  // Every session, also one whose handshake answer is still being
  // written (not yet counted in ws_connections), until it finished.
  auto open_sessions = [&s] {
    std::lock_guard<std::mutex> guard{s.ws_mtx};
    return !s.ws_sessions.empty();
  };
  auto deadline = std::chrono::steady_clock::now() + s.opts.ws_close_timeout;
  while (open_sessions() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    std::unique_lock<std::shared_mutex> guard{s.life->mtx};
    s.life->alive = false;
  }
  s.guard.reset();
  s.ioc->stop();
  for (auto& lane : s.ws_lanes) {
    lane->guard.reset();
    lane->ioc.stop();
  }
  for (auto& t : s.threads)
    t.join();
  s.threads.clear();
  for (auto& lane : s.ws_lanes)
    lane->thread.join();
  {
    // Sessions that did not finish may own themselves through a write
    // waiting in their transport; the threads are gone, so no race.
    std::lock_guard<std::mutex> guard{s.ws_mtx};
    for (auto& [id, w] : s.ws_sessions)
      if (auto p = w.lock())
        p->drop_waiting();
  }
  s.acceptor.reset();
  s.accept_retry.reset();
  // Destroys every pending handler and with them the sessions, before the
  // context they use.
  s.ioc.reset();
  s.ws_lanes.clear();
}

} // namespace csp::net
