#pragma once

// Private to net/: the Asio side of io_thread and the TLS context setup.

#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "net/io_thread.hpp"

namespace csp::net {

/// The io_context of an io_thread and the thread running it.
struct io_thread::impl {
  boost::asio::io_context ctx{1};
  std::optional<
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
    guard;
  std::thread thread;
};

namespace detail {

/// Returns whether `host` is an IPv4 or IPv6 literal (no SNI for those).
bool is_ip_literal(const std::string& host);

/// Sets the TLS SNI host name on an OpenSSL `SSL*` (passed as void* to
/// keep OpenSSL out of this header); skipped for IP literals. Returns
/// false when OpenSSL refuses the name.
bool set_sni(void* ssl, const std::string& host);

/// The client error text of a failed step: "stage: what", with Beast's
/// timeout spelled "timeout", e.g. "connect_failed: Connection refused".
std::string describe_failure(
  std::string_view stage, const boost::system::error_code& ec);

/// Creates a TLS 1.2+ client context that trusts `opts.ca_file`, or the
/// system store when it is empty, and verifies peers when asked to.
/// Returns an error description on failure.
std::string make_client_context(
  boost::asio::ssl::context& ctx, const client_options& opts);

} // namespace detail

} // namespace csp::net
