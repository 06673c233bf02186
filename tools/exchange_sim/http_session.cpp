#include <memory>
#include <optional>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "tools/exchange_sim/sessions.hpp"
#include "tools/exchange_sim/wire_format.hpp"

namespace csp::tools {

namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

/// Serves HTTP/1.1 requests on one connection until it closes or upgrades.
template <class Stream>
class http_session : public std::enable_shared_from_this<http_session<Stream>> {
public:
  http_session(sim_core& core, Stream stream)
      : core_(core), stream_(std::move(stream)),
        timer_(stream_.get_executor()) {
    // nop
  }

  void run() { read(); }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(1 << 20);
    http::async_read(stream_, buf_, *parser_,
      [self = this->shared_from_this()](
        error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec) {
      close_lowest_layer(stream_);
      return;
    }
    auto req = parser_->release();
    if (boost::beast::websocket::is_upgrade(req)) {
      auto target = std::string{req.target()};
      bool known = target == "/ws" || target.rfind("/ws/", 0) == 0
        || target.rfind("/stream", 0) == 0;
      if (known && req[http::field::sec_websocket_key].size() > 0
        && req[http::field::sec_websocket_version] == "13") {
        auto leftover = boost::beast::buffers_to_string(buf_.data());
        start_ws_session(core_, std::move(stream_), req, std::move(leftover));
        return;
      }
      res_ = http_response{
        known ? http::status::bad_request : http::status::not_found,
        req.version()};
      res_.body() = binance_error(-1000, "Bad WebSocket request.");
      res_.prepare_payload();
      res_.keep_alive(false);
      write();
      return;
    }
    res_ = route_request(core_, req);
    auto latency = core_.faults.settings().latency_ms;
    if (latency > 0) {
      ++core_.faults.counters.delayed;
      timer_.expires_after(std::chrono::milliseconds(latency));
      timer_.async_wait(
        [self = this->shared_from_this()](error_code) { self->write(); });
      return;
    }
    write();
  }

  void write() {
    http::async_write(stream_, res_,
      [self = this->shared_from_this()](error_code ec, std::size_t) {
        if (ec || !self->res_.keep_alive()) {
          close_lowest_layer(self->stream_);
          return;
        }
        self->read();
      });
  }

  sim_core& core_;
  Stream stream_;
  boost::asio::steady_timer timer_;
  boost::beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http_response res_;
};

} // namespace

template <class Stream>
void start_http_session(sim_core& core, Stream stream) {
  std::make_shared<http_session<Stream>>(core, std::move(stream))->run();
}

template void start_http_session<plain_stream>(sim_core&, plain_stream);
template void start_http_session<tls_stream>(sim_core&, tls_stream);

} // namespace csp::tools
