#include "sim_client.hpp"

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace csp::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

constexpr auto io_timeout = std::chrono::seconds(5);

/// Runs `ioc` until `done` or `timeout` passed.
bool run_until(
  asio::io_context& ioc, const bool& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  ioc.restart();
  while (!done && std::chrono::steady_clock::now() < deadline)
    ioc.run_one_until(deadline);
  return done;
}

std::unique_ptr<asio::ssl::context> client_tls(const std::string& ca_file) {
  auto ctx
    = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->load_verify_file(ca_file);
  ctx->set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

template <class Stream>
void prepare_tls(Stream& s) {
  static char host[] = "localhost";
  // SSL_set_tlsext_host_name without its old-style cast.
  SSL_ctrl(s.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
    TLSEXT_NAMETYPE_host_name, host);
  s.set_verify_callback(asio::ssl::host_name_verification("localhost"));
}

} // namespace

struct ws_client::impl {
  asio::io_context ioc;
  std::unique_ptr<asio::ssl::context> tls;
  std::optional<websocket::stream<beast::tcp_stream>> plain;
  std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> secure;
  beast::flat_buffer buf;
  bool pending = false;
  bool done = false;
  error_code ec;
  int pings = 0;

  template <class F>
  auto with_stream(F f) {
    return plain ? f(*plain) : f(*secure);
  }

  ~impl() {
    error_code ignored;
    if (plain)
      beast::get_lowest_layer(*plain).socket().close(ignored);
    if (secure)
      beast::get_lowest_layer(*secure).socket().close(ignored);
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(200));
  }
};

ws_client::ws_client() : impl_(std::make_unique<impl>()) {
  // nop
}

ws_client::~ws_client() = default;

std::string ws_client::connect(
  std::uint16_t port, const std::string& target, const std::string& ca_file) {
  auto& d = *impl_;
  tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), port};
  try {
    if (ca_file.empty())
      d.plain.emplace(d.ioc);
    else {
      d.tls = client_tls(ca_file);
      d.secure.emplace(d.ioc, *d.tls);
      prepare_tls(d.secure->next_layer());
    }
    return d.with_stream([&](auto& ws) -> std::string {
      auto& tcp_layer = beast::get_lowest_layer(ws);
      tcp_layer.expires_after(io_timeout);
      tcp_layer.connect(ep);
      if constexpr (!std::is_same_v<std::decay_t<decltype(ws)>,
                      websocket::stream<beast::tcp_stream>>)
        ws.next_layer().handshake(asio::ssl::stream_base::client);
      ws.handshake("localhost", target);
      tcp_layer.expires_never();
      ws.control_callback(
        [this](websocket::frame_type kind, beast::string_view) {
          if (kind == websocket::frame_type::ping)
            ++impl_->pings;
        });
      return {};
    });
  } catch (const std::exception& e) {
    return e.what();
  }
}

ws_client::read_status ws_client::read(
  std::string& out, std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  if (!d.pending) {
    d.pending = true;
    d.done = false;
    d.buf.clear();
    d.with_stream([&d](auto& ws) {
      ws.async_read(d.buf, [&d](error_code ec, std::size_t) {
        d.done = true;
        d.ec = ec;
      });
      return 0;
    });
  }
  if (!run_until(d.ioc, d.done, timeout))
    return read_status::timeout;
  d.pending = false;
  if (d.ec)
    return read_status::closed;
  out = beast::buffers_to_string(d.buf.data());
  return read_status::ok;
}

bool ws_client::write(const std::string& text) {
  auto& d = *impl_;
  bool done = false;
  error_code result;
  d.with_stream([&](auto& ws) {
    ws.async_write(asio::buffer(text), [&](error_code ec, std::size_t) {
      done = true;
      result = ec;
    });
    return 0;
  });
  // A read may be pending: run until the write completes.
  return run_until(d.ioc, done, io_timeout) && !result;
}

int ws_client::pings() const noexcept {
  return impl_->pings;
}

http_reply http_request(std::uint16_t port, const std::string& method,
  const std::string& target, const std::string& body,
  const std::string& ca_file) {
  asio::io_context ioc;
  http_reply reply;
  http::request<http::string_body> req{
    http::string_to_verb(method), target, 11};
  req.set(http::field::host, "localhost");
  req.body() = body;
  req.prepare_payload();
  tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), port};
  // Asynchronous steps under tcp_stream's deadline, so every wait is
  // bounded even if the server never answers.
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  auto exchange = [&](auto& stream) {
    http::async_write(stream, req, [&](error_code ec, std::size_t) {
      if (!ec)
        http::async_read(stream, buf, res, [&](error_code rec, std::size_t) {
          if (!rec)
            reply.status = static_cast<int>(res.result_int());
        });
    });
  };
  std::unique_ptr<asio::ssl::context> ctx;
  if (ca_file.empty()) {
    beast::tcp_stream s{ioc};
    s.expires_after(io_timeout);
    s.async_connect(ep, [&](error_code ec) {
      if (!ec)
        exchange(s);
    });
    ioc.run();
  } else {
    ctx = client_tls(ca_file);
    beast::ssl_stream<beast::tcp_stream> s{ioc, *ctx};
    prepare_tls(s);
    beast::get_lowest_layer(s).expires_after(io_timeout);
    beast::get_lowest_layer(s).async_connect(ep, [&](error_code ec) {
      if (!ec)
        s.async_handshake(asio::ssl::stream_base::client, [&](error_code hec) {
          if (!hec)
            exchange(s);
        });
    });
    ioc.run();
  }
  if (reply.status != 0) {
    reply.body = res.body();
    reply.retry_after = std::string{res[http::field::retry_after]};
  }
  return reply;
}

} // namespace csp::test
