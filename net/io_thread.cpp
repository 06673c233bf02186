#include "net/io_thread.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <openssl/ssl.h>

#include "net/detail/asio.hpp"

namespace csp::net {

io_thread::io_thread() : impl_(std::make_unique<impl>()) {
  impl_->guard.emplace(impl_->ctx.get_executor());
  impl_->thread = std::thread{[ptr = impl_.get()] {
    for (;;) {
      try {
        ptr->ctx.run();
        return;
      } catch (...) {
        // A throwing handler must not take the process down; keep serving.
      }
    }
  }};
}

io_thread::~io_thread() {
  impl_->guard.reset();
  impl_->ctx.stop();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

void io_thread::post(std::function<void()> f) {
  boost::asio::post(impl_->ctx, std::move(f));
}

namespace detail {

std::string describe_failure(
  std::string_view stage, const boost::system::error_code& ec) {
  std::string result{stage};
  result += ": ";
  result += ec == boost::beast::error::timeout ? std::string{"timeout"}
                                               : ec.message();
  return result;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

bool set_sni(void* ssl, const std::string& host) {
  if (is_ip_literal(host))
    return true;
  // SSL_set_tlsext_host_name is a macro with a C cast; call what it expands
  // to.
  return SSL_ctrl(static_cast<SSL*>(ssl), SSL_CTRL_SET_TLSEXT_HOSTNAME,
           TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()))
    == 1;
}

std::string make_client_context(
  boost::asio::ssl::context& ctx, const client_options& opts) {
  boost::system::error_code ec;
  ctx.set_options(boost::asio::ssl::context::default_workarounds
      | boost::asio::ssl::context::no_sslv2
      | boost::asio::ssl::context::no_sslv3
      | boost::asio::ssl::context::no_tlsv1
      | boost::asio::ssl::context::no_tlsv1_1,
    ec);
  if (ec)
    return "tls options: " + ec.message();
  if (opts.ca_file.empty())
    ctx.set_default_verify_paths(ec);
  else
    ctx.load_verify_file(opts.ca_file, ec);
  if (ec)
    return "tls trust store: " + ec.message();
  ctx.set_verify_mode(opts.verify_peer ? boost::asio::ssl::verify_peer
                                       : boost::asio::ssl::verify_none,
    ec);
  if (ec)
    return "tls verify mode: " + ec.message();
  return {};
}

} // namespace detail

} // namespace csp::net
