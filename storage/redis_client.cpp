#include "storage/redis_client.hpp"

#include <charconv>
#include <csignal>
#include <memory>
#include <mutex>
#include <sys/time.h>
#include <utility>

#include <hiredis/hiredis.h>

namespace csp::storage {

// -- URL parsing --------------------------------------------------------------

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size())
      return false;
    auto hi = hex_value(in[i + 1]);
    auto lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0)
      return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

template <class T>
bool parse_number(std::string_view s, T& out) noexcept {
  if (s.empty())
    return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

timeval to_timeval(std::chrono::milliseconds ms) noexcept {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

redis_reply copy_reply(const redisReply& r) {
  redis_reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = redis_reply::kind::string;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = redis_reply::kind::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = redis_reply::kind::error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = redis_reply::kind::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i)
        out.elements.push_back(copy_reply(*r.element[i]));
      break;
    default:
      out.type = redis_reply::kind::nil;
      break;
  }
  return out;
}

/// hiredis writes with write(2): a write to a connection the server has
/// closed raises SIGPIPE, whose default action ends the process. Ignores
/// SIGPIPE once unless the process installed its own handler.
void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0
      && current.sa_handler == SIG_DFL) // NOLINT
      std::signal(SIGPIPE, SIG_IGN);    // NOLINT
  });
}

struct reply_deleter {
  void operator()(void* p) const noexcept { freeReplyObject(p); }
};

using reply_ptr = std::unique_ptr<void, reply_deleter>;

} // namespace

std::optional<redis_endpoint> parse_redis_url(
  std::string_view url, std::string& error) {
  constexpr std::string_view scheme = "redis://";
  auto bad = [&](const std::string& why) -> std::optional<redis_endpoint> {
    error = "invalid Redis URL '" + std::string{url} + "': " + why;
    return std::nullopt;
  };
  if (url.substr(0, 9) == "rediss://")
    return bad("TLS (rediss://) is not supported");
  if (url.substr(0, scheme.size()) != scheme)
    return bad("expected redis://[:password@]host[:port][/db]");
  auto rest = url.substr(scheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos)
    return bad("query strings and fragments are not supported");
  redis_endpoint ep;
  // The authority ends at the first '/' after the last '@' (a password
  // may hold a '/').
  auto last_at = rest.rfind('@');
  auto slash = rest.find('/', last_at == std::string_view::npos ? 0 : last_at);
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view{}
                                              : rest.substr(slash + 1);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    auto userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (userinfo.empty() || userinfo.front() != ':')
      return bad("user names are not supported, write redis://:password@...");
    if (!percent_decode(userinfo.substr(1), ep.password))
      return bad("bad percent-encoding in the password");
    if (ep.password.empty())
      return bad("empty password");
  }
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return bad("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return bad("unexpected characters after the IPv6 address");
      port = after.substr(1);
      if (port.empty())
        return bad("empty port");
    }
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty())
        return bad("empty port");
    }
  }
  if (host.empty())
    return bad("missing host");
  if (host.find_first_of(" /\\@[]") != std::string_view::npos)
    return bad("invalid host");
  ep.host = std::string{host};
  if (!port.empty()) {
    unsigned value = 0;
    if (!parse_number(port, value) || value == 0 || value > 65535)
      return bad("port must be a number in 1..65535");
    ep.port = static_cast<std::uint16_t>(value);
  }
  if (!path.empty()) {
    int db = 0;
    if (!parse_number(path, db) || db < 0)
      return bad("the path must be a database index (a number >= 0)");
    ep.db = db;
  }
  return ep;
}

std::optional<redis_options> redis_options_from_url(
  std::string_view url, std::string& error) {
  auto ep = parse_redis_url(url, error);
  if (!ep)
    return std::nullopt;
  redis_options opts;
  opts.endpoint = std::move(*ep);
  return opts;
}

// -- redis_reply
// ---------------------------------------------------------------

bool redis_reply::contains_error() const noexcept {
  if (type == kind::error)
    return true;
  for (const auto& e : elements)
    if (e.contains_error())
      return true;
  return false;
}

// -- redis_pipeline
// ------------------------------------------------------------

redis_pipeline& redis_pipeline::cmd(std::string_view name) {
  commands_.push_back(ends_.size());
  return arg(name);
}

redis_pipeline& redis_pipeline::arg(std::string_view value) {
  buf_.append(value.data(), value.size());
  ends_.push_back(buf_.size());
  return *this;
}

redis_pipeline& redis_pipeline::arg(std::int64_t value) {
  char tmp[24];
  auto res = std::to_chars(tmp, tmp + sizeof(tmp), value);
  return arg(std::string_view{tmp, static_cast<std::size_t>(res.ptr - tmp)});
}

void redis_pipeline::clear() noexcept {
  buf_.clear();
  ends_.clear();
  commands_.clear();
}

// -- redis_client
// --------------------------------------------------------------

redis_client::redis_client(redis_options opts) : opts_(std::move(opts)) {
  // nop
}

redis_client::~redis_client() {
  disconnect();
}

redis_client::redis_client(redis_client&& other) noexcept
    : opts_(std::move(other.opts_)), ctx_(std::exchange(other.ctx_, nullptr)),
      error_(std::move(other.error_)) {
  // nop
}

redis_client& redis_client::operator=(redis_client&& other) noexcept {
  if (this != &other) {
    disconnect();
    opts_ = std::move(other.opts_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    error_ = std::move(other.error_);
  }
  return *this;
}

void redis_client::disconnect() noexcept {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
}

bool redis_client::fail(std::string what) {
  error_ = std::move(what);
  disconnect();
  return false;
}

bool redis_client::connect() {
  ignore_sigpipe();
  disconnect();
  const auto& ep = opts_.endpoint;
  auto where = ep.host + ":" + std::to_string(ep.port);
  ctx_ = redisConnectWithTimeout(
    ep.host.c_str(), ep.port, to_timeval(opts_.connect_timeout));
  if (ctx_ == nullptr)
    return fail("cannot connect to Redis at " + where + ": out of memory");
  if (ctx_->err != 0)
    return fail("cannot connect to Redis at " + where + ": " + ctx_->errstr);
  // AUTH and SELECT run under the connect timeout, then commands get theirs.
  if (redisSetTimeout(ctx_, to_timeval(opts_.connect_timeout)) != REDIS_OK)
    return fail("cannot set the Redis timeout: " + std::string{ctx_->errstr});
  auto check = [&](std::optional<redis_reply> r, const char* what) {
    if (!r)
      return fail(std::string{what} + " failed at " + where + ": " + error_);
    if (r->is_error())
      return fail(std::string{what} + " refused by " + where + ": " + r->str);
    return true;
  };
  if (!ep.password.empty()
    && !check(command({"AUTH", ep.password}), "Redis AUTH"))
    return false;
  if (ep.db != 0
    && !check(command({"SELECT", std::to_string(ep.db)}), "Redis SELECT"))
    return false;
  if (redisSetTimeout(ctx_, to_timeval(opts_.command_timeout)) != REDIS_OK)
    return fail("cannot set the Redis timeout: " + std::string{ctx_->errstr});
  error_.clear();
  return true;
}

std::optional<redis_reply> redis_client::run(
  int argc, const char** argv, const std::size_t* lens) {
  if (ctx_ == nullptr) {
    if (error_.empty())
      error_ = "not connected to Redis";
    return std::nullopt;
  }
  reply_ptr reply{redisCommandArgv(ctx_, argc, argv, lens)};
  if (!reply) {
    fail("Redis connection error: " + std::string{ctx_->errstr});
    return std::nullopt;
  }
  return copy_reply(*static_cast<redisReply*>(reply.get()));
}

std::optional<redis_reply> redis_client::command(
  std::initializer_list<std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return run(static_cast<int>(argv.size()), argv.data(), lens.data());
}

std::optional<redis_reply> redis_client::command(
  const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return run(static_cast<int>(argv.size()), argv.data(), lens.data());
}

std::optional<std::vector<redis_reply>> redis_client::execute(
  const redis_pipeline& p) {
  if (ctx_ == nullptr) {
    if (error_.empty())
      error_ = "not connected to Redis";
    return std::nullopt;
  }
  std::vector<redis_reply> replies;
  if (p.empty())
    return replies;
  bool appended = true;
  p.for_each([&](int argc, const char** argv, const std::size_t* lens) {
    if (appended && redisAppendCommandArgv(ctx_, argc, argv, lens) != REDIS_OK)
      appended = false;
  });
  if (!appended) {
    fail("cannot queue a Redis command: " + std::string{ctx_->errstr});
    return std::nullopt;
  }
  replies.reserve(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    void* raw = nullptr;
    auto rc = redisGetReply(ctx_, &raw);
    reply_ptr reply{raw};
    if (rc != REDIS_OK || !reply) {
      fail("Redis connection error: " + std::string{ctx_->errstr});
      return std::nullopt;
    }
    replies.push_back(copy_reply(*static_cast<redisReply*>(reply.get())));
  }
  return replies;
}

std::optional<redis_reply> redis_client::read_reply() {
  if (ctx_ == nullptr) {
    if (error_.empty())
      error_ = "not connected to Redis";
    return std::nullopt;
  }
  void* raw = nullptr;
  auto rc = redisGetReply(ctx_, &raw);
  reply_ptr reply{raw};
  if (rc != REDIS_OK || !reply) {
    fail("Redis connection error: " + std::string{ctx_->errstr});
    return std::nullopt;
  }
  return copy_reply(*static_cast<redisReply*>(reply.get()));
}

} // namespace csp::storage
