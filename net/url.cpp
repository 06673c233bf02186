#include "net/url.hpp"

#include <cstddef>

namespace csp::net {

namespace {

std::uint16_t default_port(scheme x) noexcept {
  return x == scheme::wss || x == scheme::https ? 443 : 80;
}

bool is_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
    || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

url_result fail(std::string msg) {
  return url_result{std::nullopt, std::move(msg)};
}

} // namespace

std::string_view to_string(scheme x) noexcept {
  switch (x) {
    case scheme::ws:
      return "ws";
    case scheme::wss:
      return "wss";
    case scheme::http:
      return "http";
    case scheme::https:
      return "https";
  }
  return "?";
}

std::string url::host_header() const {
  std::string result;
  if (host.find(':') != std::string::npos) {
    result += '[';
    result += host;
    result += ']';
  } else {
    result = host;
  }
  if (port != default_port(kind)) {
    result += ':';
    result += std::to_string(port);
  }
  return result;
}

std::string url::to_string() const {
  std::string result{net::to_string(kind)};
  result += "://";
  result += host_header();
  result += target;
  return result;
}

url_result parse_url(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return fail("whitespace or control character");
  auto sep = text.find("://");
  if (sep == std::string_view::npos)
    return fail("missing scheme");
  url result;
  auto sch = text.substr(0, sep);
  if (sch == "ws")
    result.kind = scheme::ws;
  else if (sch == "wss")
    result.kind = scheme::wss;
  else if (sch == "http")
    result.kind = scheme::http;
  else if (sch == "https")
    result.kind = scheme::https;
  else
    return fail("unsupported scheme");
  result.port = default_port(result.kind);
  auto rest = text.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos)
    return fail("fragment not allowed");
  auto authority_end = rest.find_first_of("/?");
  auto authority = rest.substr(0, authority_end);
  if (authority_end == std::string_view::npos)
    result.target = "/";
  else if (rest[authority_end] == '?')
    result.target = "/" + std::string{rest.substr(authority_end)};
  else
    result.target = std::string{rest.substr(authority_end)};
  if (authority.find('@') != std::string_view::npos)
    return fail("user info not allowed");
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail("unterminated IPv6 literal");
    auto inner = authority.substr(1, close - 1);
    if (inner.empty())
      return fail("empty host");
    for (char c : inner)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
            || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
        return fail("invalid IPv6 literal");
    result.host = std::string{inner};
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail("garbage after IPv6 literal");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    auto host = authority.substr(0, colon);
    if (host.empty())
      return fail("empty host");
    for (char c : host)
      if (!is_host_char(c))
        return fail("invalid character in host");
    result.host = std::string{host};
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
  }
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5)
      return fail("invalid port");
    std::uint32_t value = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9')
        return fail("invalid port");
      value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (value == 0 || value > 65535)
      return fail("port out of range");
    result.port = static_cast<std::uint16_t>(value);
  }
  return url_result{std::move(result), std::string{}};
}

url with_target(const url& base, std::string_view path_and_query) {
  url result = base;
  std::string_view path = base.target;
  auto query = path.find('?');
  if (query != std::string_view::npos)
    path = path.substr(0, query);
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  result.target = std::string{path};
  if (path_and_query.empty() || path_and_query.front() != '/')
    result.target += '/';
  result.target += path_and_query;
  return result;
}

std::string local_http_base(std::string_view bind_address, std::uint16_t port) {
  std::string host{bind_address};
  if (host.empty() || host == "0.0.0.0")
    host = "127.0.0.1";
  else if (host == "::" || host == "[::]")
    host = "::1";
  std::string result = "http://";
  if (host.find(':') != std::string::npos && host.front() != '[')
    result += '[' + host + ']';
  else
    result += host;
  result += ':';
  result += std::to_string(port);
  return result;
}

} // namespace csp::net
