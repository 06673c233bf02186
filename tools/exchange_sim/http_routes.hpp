#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "tools/exchange_sim/sim_core.hpp"

namespace csp::tools {

/// An HTTP request as the sessions read it.
using http_request
  = boost::beast::http::request<boost::beast::http::string_body>;

/// An HTTP response as the sessions write it.
using http_response
  = boost::beast::http::response<boost::beast::http::string_body>;

/// Answers one REST, chart or control request (never a WebSocket upgrade),
/// applying HTTP fault injection to the REST and chart endpoints.
http_response route_request(sim_core& core, const http_request& req);

} // namespace csp::tools
