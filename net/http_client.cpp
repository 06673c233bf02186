#include "net/http_client.hpp"

#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "net/detail/asio.hpp"
#include "net/detail/tls_start.hpp"

namespace csp::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

template <class Stream>
class http_session : public std::enable_shared_from_this<http_session<Stream>> {
public:
  template <class... Args>
  http_session(asio::io_context& ctx, url target, client_options o,
    std::function<void(http_response)> done, Args&&... stream_args)
      : resolver_(ctx), stream_(std::forward<Args>(stream_args)...),
        u_(std::move(target)), opts_(std::move(o)), done_(std::move(done)) {}

  void start() {
    beast::get_lowest_layer(stream_).expires_after(opts_.request_timeout);
    resolver_.async_resolve(u_.host, std::to_string(u_.port),
      [self = this->shared_from_this()](
        const error_code& ec, tcp::resolver::results_type r) {
        if (ec)
          return self->fail("resolve_failed", ec);
        beast::get_lowest_layer(self->stream_)
          .async_connect(
            r, [self](const error_code& ec2, const tcp::endpoint&) {
              self->on_connect(ec2);
            });
      });
  }

private:
  void fail(std::string_view stage, const error_code& ec) {
    http_response res;
    res.error = detail::describe_failure(stage, ec);
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    deliver(std::move(res));
  }

  void deliver(http_response res) {
    if (auto f = std::move(done_)) {
      done_ = nullptr;
      f(std::move(res));
    }
  }

  void on_connect(const error_code& ec) {
    if (ec)
      return fail("connect_failed", ec);
    detail::start_tls(stream_, u_.host, opts_.verify_peer,
      [self = this->shared_from_this()](const error_code& ec2) {
        if (ec2)
          return self->fail("tls_failed", ec2);
        self->write_request();
      });
  }

  void write_request() {
    req_.version(11);
    req_.method(http::verb::get);
    req_.target(u_.target);
    req_.set(http::field::host, u_.host_header());
    req_.set(http::field::user_agent, "csp/0.1");
    req_.set(http::field::accept, "application/json");
    req_.set(http::field::connection, "close");
    http::async_write(stream_, req_,
      [self = this->shared_from_this()](const error_code& ec, std::size_t) {
        if (ec)
          return self->fail("write_failed", ec);
        self->parser_.emplace();
        self->parser_->body_limit(self->opts_.max_message_size);
        http::async_read(self->stream_, self->buffer_, *self->parser_,
          [self](const error_code& ec2, std::size_t) { self->on_read(ec2); });
      });
  }

  void on_read(const error_code& ec) {
    if (ec)
      return fail("read_failed", ec);
    auto msg = parser_->release();
    http_response res;
    res.status = static_cast<int>(msg.result_int());
    res.body = std::move(msg.body());
    if (auto it = msg.find(http::field::retry_after); it != msg.end())
      res.retry_after = std::string{it->value()};
    if (auto it = msg.find("x-mbx-used-weight-1m"); it != msg.end())
      res.used_weight = std::string{it->value()};
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(
      tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).socket().close(ignored);
    deliver(std::move(res));
  }

  tcp::resolver resolver_;
  Stream stream_;
  url u_;
  client_options opts_;
  std::function<void(http_response)> done_;
  http::request<http::empty_body> req_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

} // namespace

void http_get(io_thread& io, const url& u, const client_options& opts,
  std::function<void(http_response)> done) {
  auto& ctx = io.get().ctx;
  if (u.tls()) {
    asio::ssl::context ssl_ctx{asio::ssl::context::tls_client};
    auto err = detail::make_client_context(ssl_ctx, opts);
    if (!err.empty()) {
      asio::post(ctx, [done = std::move(done), err] {
        http_response res;
        res.error = "tls_failed: " + err;
        done(std::move(res));
      });
      return;
    }
    auto s
      = std::make_shared<http_session<beast::ssl_stream<beast::tcp_stream>>>(
        ctx, u, opts, std::move(done), ctx, ssl_ctx);
    asio::post(ctx, [s] { s->start(); });
  } else {
    auto s = std::make_shared<http_session<beast::tcp_stream>>(
      ctx, u, opts, std::move(done), ctx);
    asio::post(ctx, [s] { s->start(); });
  }
}

long long parse_retry_after_seconds(const std::string& value) {
  if (value.empty() || value.size() > 9)
    return -1;
  long long result = 0;
  for (char c : value) {
    if (c < '0' || c > '9')
      return -1;
    result = result * 10 + (c - '0');
  }
  return result;
}

} // namespace csp::net
