#pragma once

// A small RAII client over hiredis 0.14's synchronous API. Commands are
// always built as argument vectors (redisCommandArgv /
// redisAppendCommandArgv), never as formatted strings, so keys and values
// may contain any byte. Replies are copied out of hiredis into owning
// values at once, so nothing leaks whatever path the caller takes. No CAF.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;

namespace csp::storage {

/// Where a Redis server is: parsed from `redis://[:password@]host[:port][/db]`.
struct redis_endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /// Empty: no AUTH.
  std::string password;
  /// Database index selected after connecting (SELECT).
  int db = 0;
};

/// Parses a redis:// URL. Accepts `redis://host`, `redis://host:port`,
/// `redis://:password@host:port/db` and IPv6 hosts in brackets; the
/// password may be percent-encoded. Rejects every other form (other
/// schemes including rediss://, user names, paths other than a db index,
/// queries, bad ports) with a message in `error`.
std::optional<redis_endpoint> parse_redis_url(
  std::string_view url, std::string& error);

/// How a redis_client connects.
struct redis_options {
  redis_endpoint endpoint;
  /// Limit of one connection attempt (TCP connect, AUTH and SELECT).
  std::chrono::milliseconds connect_timeout{500};
  /// Limit of one command round trip (send and receive).
  std::chrono::milliseconds command_timeout{1000};
};

/// Settings for `url` with the default timeouts; std::nullopt (and
/// `error`) when the URL is not accepted.
std::optional<redis_options> redis_options_from_url(
  std::string_view url, std::string& error);

/// One reply of Redis, owning all its data.
struct redis_reply {
  enum class kind : std::uint8_t { nil, status, error, integer, string, array };

  kind type = kind::nil;
  std::int64_t integer = 0;
  /// The payload of status, error and string replies.
  std::string str;
  std::vector<redis_reply> elements;

  bool is_nil() const noexcept { return type == kind::nil; }
  bool is_error() const noexcept { return type == kind::error; }
  bool is_string() const noexcept { return type == kind::string; }
  bool is_array() const noexcept { return type == kind::array; }
  bool is_integer() const noexcept { return type == kind::integer; }
  /// True for a status reply such as "OK".
  bool is_status(std::string_view s) const noexcept {
    return type == kind::status && str == s;
  }
  /// True when this reply or any nested element is an error.
  bool contains_error() const noexcept;
};

/// Commands queued for one round trip. Arguments are copied into one
/// buffer; clear() keeps the capacity, so a reused pipeline stops
/// allocating after its first uses.
class redis_pipeline {
public:
  /// Starts a new command with its name (or first argument).
  redis_pipeline& cmd(std::string_view name);

  /// Appends an argument to the current command.
  redis_pipeline& arg(std::string_view value);

  /// Appends an integer argument in decimal.
  redis_pipeline& arg(std::int64_t value);

  /// Number of queued commands.
  std::size_t size() const noexcept { return commands_.size(); }

  bool empty() const noexcept { return commands_.empty(); }

  /// Removes every queued command.
  void clear() noexcept;

  /// Calls `f(argc, argv, argvlen)` for every queued command in order.
  template <class F>
  void for_each(F&& f) const {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (std::size_t i = 0; i < commands_.size(); ++i) {
      auto first = commands_[i];
      auto last = i + 1 < commands_.size() ? commands_[i + 1] : ends_.size();
      argv.clear();
      lens.clear();
      for (auto a = first; a < last; ++a) {
        auto begin = a == 0 ? 0 : ends_[a - 1];
        argv.push_back(buf_.data() + begin);
        lens.push_back(ends_[a] - begin);
      }
      f(static_cast<int>(argv.size()), argv.data(), lens.data());
    }
  }

private:
  std::string buf_;
  /// End offset in buf_ of every argument.
  std::vector<std::size_t> ends_;
  /// Index in ends_ of the first argument of every command.
  std::vector<std::size_t> commands_;
};

/// A connection to one Redis server. Not thread-safe. A connection error
/// (refused, reset, timeout, protocol error) closes the connection and
/// leaves the reason in last_error(); connect() opens a new one. An error
/// *reply* of Redis (e.g. WRONGTYPE) is a normal reply and keeps the
/// connection. The first connect() sets SIGPIPE to ignored when the
/// process left it at its default (which would end the process when a
/// write hits a connection the server closed).
class redis_client {
public:
  explicit redis_client(redis_options opts);
  ~redis_client();

  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;
  redis_client(redis_client&& other) noexcept;
  redis_client& operator=(redis_client&& other) noexcept;

  /// Closes any open connection and connects (AUTH and SELECT when set).
  /// Returns false with last_error() on failure.
  bool connect();

  /// Closes the connection (if any).
  void disconnect() noexcept;

  /// True while a connection is open (it may still turn out broken on the
  /// next command when the server went away).
  bool connected() const noexcept { return ctx_ != nullptr; }

  /// The reason of the last failure.
  const std::string& last_error() const noexcept { return error_; }

  /// Runs one command; std::nullopt on a connection error.
  std::optional<redis_reply> command(
    std::initializer_list<std::string_view> args);

  /// Runs one command given as an argument vector.
  std::optional<redis_reply> command(const std::vector<std::string>& args);

  /// Sends every queued command in one write and reads all replies (one
  /// round trip). Returns the replies in order, or std::nullopt on a
  /// connection error (then none of the replies is known).
  std::optional<std::vector<redis_reply>> execute(const redis_pipeline& p);

  /// Waits for the next reply pushed by the server (pub/sub messages on a
  /// subscribed connection) for at most the command timeout. A timeout is
  /// a connection error in hiredis 0.14: the connection is closed.
  std::optional<redis_reply> read_reply();

  const redis_options& options() const noexcept { return opts_; }

private:
  bool fail(std::string what);
  std::optional<redis_reply> run(
    int argc, const char** argv, const std::size_t* lens);

  redis_options opts_;
  redisContext* ctx_ = nullptr;
  std::string error_;
};

} // namespace csp::storage
