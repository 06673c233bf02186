#include "config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

namespace csp::config {

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty())
        out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty())
    out.push_back(cur);
  return out;
}

// Declared in config.hpp. Returns an error text if `str` is not a non-empty
// symbol of upper-case
/// letters and digits (plus the characters in `extra`).
std::optional<std::string> check_symbol(
  const std::string& str, std::string_view extra) {
  if (str.empty())
    return "empty symbol";
  for (char c : str) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
      || extra.find(c) != std::string_view::npos;
    if (!ok)
      return "symbol \"" + str
        + "\" must consist of upper-case letters and "
          "digits";
  }
  return std::nullopt;
}

std::optional<std::string> check_cors_origin(std::string_view origin) {
  if (origin == "*")
    return std::nullopt;
  auto quoted = "\"" + std::string{origin} + "\"";
  auto fail = [&](const char* what) -> std::optional<std::string> {
    return quoted + " " + what;
  };
  std::string_view rest;
  std::string_view default_port;
  if (origin.substr(0, 7) == "http://") {
    rest = origin.substr(7);
    default_port = "80";
  } else if (origin.substr(0, 8) == "https://") {
    rest = origin.substr(8);
    default_port = "443";
  } else {
    return fail("must be \"*\" or scheme://host[:port] with the scheme http "
                "or https");
  }
  if (rest.find_first_of("/?#") != std::string_view::npos)
    return fail("must not have a path, query or fragment (not even a "
                "trailing \"/\")");
  if (rest.find('@') != std::string_view::npos)
    return fail("must not contain user information");
  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close == 1)
      return fail("has an unterminated or empty IPv6 address");
    host = rest.substr(1, close - 1);
    for (char c : host)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':'
            || c == '.'))
        return fail("has an invalid character in its IPv6 address (lower-case "
                    "hex digits, ':' and '.' only)");
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return fail("has text after the IPv6 address");
    port = rest.empty() ? rest : rest.substr(1);
    if (!rest.empty() && port.empty())
      return fail("has an empty port");
  } else {
    auto colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty())
        return fail("has an empty port");
    }
    if (host.empty())
      return fail("has no host");
    for (char c : host) {
      if (c >= 'A' && c <= 'Z')
        return fail("must be lower-case, as browsers send it");
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
            || c == '.'))
        return fail("has an invalid character in its host name");
    }
    if (host.front() == '.' || host.back() == '.'
      || host.find("..") != std::string_view::npos)
      return fail("has an empty label in its host name");
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.front() == '0')
      return fail("has an invalid port (1..65535, no leading zero)");
    std::int64_t value = 0;
    for (char c : port) {
      if (c < '0' || c > '9')
        return fail("has an invalid port (1..65535, no leading zero)");
      value = value * 10 + (c - '0');
    }
    if (value > 65535)
      return fail("has an invalid port (1..65535, no leading zero)");
    if (port == default_port)
      return quoted + " must not name the default port " + std::string{port}
      + "; browsers leave it out of the Origin header";
  }
  return std::nullopt;
}

namespace {

using nlohmann::json;
using error_list = std::vector<std::string>;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

std::string join_path(const std::string& path, std::string_view key) {
  if (path.empty())
    return std::string{key};
  std::string result = path;
  result += '.';
  result += key;
  return result;
}

/// Keys that look like credentials are never accepted from the file.
bool is_secret_key(std::string_view key) {
  for (auto word : {"password", "passwd", "secret", "token", "api_key",
         "apikey", "private_key", "credential"})
    if (key.find(word) != std::string_view::npos)
      return true;
  return false;
}

std::optional<std::string> check_url(
  const std::string& str, std::initializer_list<const char*> schemes) {
  for (auto scheme : schemes) {
    std::string_view prefix{scheme};
    if (str.size() > prefix.size()
      && str.compare(0, prefix.size(), prefix) == 0)
      return std::nullopt;
  }
  std::string msg = "\"" + str + "\" must start with";
  const char* sep = " ";
  for (auto scheme : schemes) {
    msg += sep;
    msg += scheme;
    sep = " or ";
  }
  msg += " and name a host";
  return msg;
}

std::optional<std::string> check_non_empty(const std::string& str) {
  if (str.empty())
    return std::string{"must not be empty"};
  return std::nullopt;
}

/// Reads the keys of one JSON object, records every problem, and reports
/// keys nobody asked for.
class section_reader {
public:
  section_reader(const json* obj, std::string path, error_list& errors)
      : obj_(obj), path_(std::move(path)), errors_(errors) {
    if (obj_ != nullptr && !obj_->is_object()) {
      error(path_, std::string{"expected an object, got "} + obj_->type_name());
      obj_ = nullptr;
    }
  }

  section_reader(const section_reader&) = delete;
  section_reader& operator=(const section_reader&) = delete;

  ~section_reader() {
    if (obj_ == nullptr)
      return;
    for (auto& [key, value] : obj_->items()) {
      if (used_.count(key) != 0)
        continue;
      auto path = join_path(path_, key);
      if (is_secret_key(key))
        error(path,
          "secrets are not read from the config file; set the "
          "environment variable instead (DB_PASSWORD, JWT_SECRET, "
          "REDIS_URL)");
      else
        error(path, "unknown key");
    }
  }

  /// A nested object; absent sections read as defaults.
  section_reader sub(std::string_view key) {
    return section_reader{take(key), join_path(path_, key), errors_};
  }

  void read(std::string_view key, bool& out) {
    if (auto v = take(key)) {
      if (v->is_boolean())
        out = v->get<bool>();
      else
        type_error(key, "a boolean", *v);
    }
  }

  void read(std::string_view key, std::int64_t& out, std::int64_t min,
    std::int64_t max = int64_max) {
    auto v = take(key);
    if (v == nullptr)
      return;
    if (!v->is_number_integer()) {
      type_error(key, "an integer", *v);
      return;
    }
    std::int64_t x = 0;
    if (v->is_number_unsigned()) {
      auto u = v->get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(int64_max)) {
        range_error(key, std::to_string(u), min, max);
        return;
      }
      x = static_cast<std::int64_t>(u);
    } else {
      x = v->get<std::int64_t>();
    }
    if (x < min || x > max) {
      range_error(key, std::to_string(x), min, max);
      return;
    }
    out = x;
  }

  void read_port(std::string_view key, std::uint16_t& out, std::int64_t min) {
    std::int64_t tmp = out;
    auto before = errors_.size();
    read(key, tmp, min, 65535);
    if (errors_.size() == before)
      out = static_cast<std::uint16_t>(tmp);
  }

  void read_positive(std::string_view key, double& out, double min_exclusive) {
    auto v = take(key);
    if (v == nullptr)
      return;
    if (!v->is_number()) {
      type_error(key, "a number", *v);
      return;
    }
    auto x = v->get<double>();
    if (!(x > min_exclusive)) {
      std::ostringstream msg;
      msg << "must be greater than " << min_exclusive << ", got " << x;
      error(join_path(path_, key), msg.str());
      return;
    }
    out = x;
  }

  template <class Check>
  void read(std::string_view key, std::string& out, Check check) {
    auto v = take(key);
    if (v == nullptr)
      return;
    if (!v->is_string()) {
      type_error(key, "a string", *v);
      return;
    }
    auto str = v->get<std::string>();
    if (auto err = check(str)) {
      error(join_path(path_, key), *err);
      return;
    }
    out = std::move(str);
  }

  /// A list of strings; each item is checked, duplicates are errors.
  template <class Check>
  void read_list(
    std::string_view key, std::vector<std::string>& out, Check check) {
    auto v = take(key);
    if (v == nullptr)
      return;
    if (!v->is_array()) {
      type_error(key, "an array of strings", *v);
      return;
    }
    auto path = join_path(path_, key);
    auto before = errors_.size();
    std::vector<std::string> result;
    std::set<std::string> seen;
    for (size_t i = 0; i < v->size(); ++i) {
      auto& item = (*v)[i];
      auto item_path = path + "[" + std::to_string(i) + "]";
      if (!item.is_string()) {
        error(
          item_path, std::string{"expected a string, got "} + item.type_name());
        continue;
      }
      auto str = item.get<std::string>();
      if (auto err = check(str)) {
        error(item_path, *err);
        continue;
      }
      if (!seen.insert(str).second) {
        error(item_path, "duplicate \"" + str + "\"");
        continue;
      }
      result.push_back(std::move(str));
    }
    if (errors_.size() == before)
      out = std::move(result);
  }

  void error(const std::string& path, const std::string& what) {
    errors_.push_back(
      (path.empty() ? std::string{"(root)"} : path) + ": " + what);
  }

  const std::string& path() const noexcept { return path_; }

private:
  const json* take(std::string_view key) {
    if (obj_ == nullptr)
      return nullptr;
    auto i = obj_->find(key);
    if (i == obj_->end())
      return nullptr;
    used_.emplace(key);
    return &*i;
  }

  void type_error(std::string_view key, const char* expected, const json& v) {
    error(join_path(path_, key),
      std::string{"expected "} + expected + ", got " + v.type_name());
  }

  void range_error(std::string_view key, const std::string& value,
    std::int64_t min, std::int64_t max) {
    std::string msg = "must be ";
    if (max == int64_max)
      msg += ">= " + std::to_string(min);
    else
      msg += "between " + std::to_string(min) + " and " + std::to_string(max);
    msg += ", got " + value;
    error(join_path(path_, key), msg);
  }

  const json* obj_;
  std::string path_;
  error_list& errors_;
  std::set<std::string, std::less<>> used_;
};

template <class Enum, size_t N>
void read_enum(section_reader& r, std::string_view key, Enum& out,
  const std::pair<const char*, Enum> (&names)[N]) {
  std::string str;
  bool found = true;
  r.read(key, str, [&](const std::string& s) -> std::optional<std::string> {
    for (auto& [name, value] : names)
      if (s == name)
        return std::nullopt;
    std::string msg = "unknown value \"" + s + "\"; expected one of";
    const char* sep = " ";
    for (auto& entry : names) {
      msg += sep;
      msg += entry.first;
      sep = ", ";
    }
    found = false;
    return msg;
  });
  if (found && !str.empty())
    for (auto& [name, value] : names)
      if (str == name)
        out = value;
}

const std::pair<const char*, node_role> role_names[] = {
  {"all", node_role::all},
  {"collector", node_role::collector},
  {"processor", node_role::processor},
  {"api", node_role::api},
};

const std::pair<const char*, log_level> level_names[] = {
  {"debug", log_level::debug},
  {"info", log_level::info},
  {"warning", log_level::warning},
  {"error", log_level::error},
  {"critical", log_level::critical},
};

std::optional<std::string> check_timeframe(const std::string& str) {
  for (auto tf : {"1m", "5m", "15m", "1h", "4h", "1d"})
    if (str == tf)
      return std::nullopt;
  return "unknown timeframe \"" + str
    + "\"; expected 1m, 5m, 15m, 1h, 4h "
      "or 1d";
}

void read_all(const json& root, platform_config& cfg, error_list& errors) {
  section_reader top{&root, "", errors};
  {
    auto r = top.sub("node");
    read_enum(r, "role", cfg.node.role, role_names);
    r.read("name", cfg.node.name, check_non_empty);
  }
  {
    auto r = top.sub("log");
    read_enum(r, "level", cfg.log.level, level_names);
    r.read("dir", cfg.log.dir, check_non_empty);
    r.read("json", cfg.log.json);
    r.read("retention_days", cfg.log.retention_days, 0, 36'500);
  }
  {
    auto r = top.sub("metrics");
    r.read_port("port", cfg.metrics.port, 0);
    r.read("bind", cfg.metrics.bind, check_non_empty);
  }
  {
    auto ex = top.sub("exchanges");
    {
      auto r = ex.sub("binance");
      auto& b = cfg.exchanges.binance;
      r.read("enabled", b.enabled);
      r.read("ws_url", b.ws_url, [](const std::string& s) {
        return check_url(s, {"ws://", "wss://"});
      });
      r.read("rest_url", b.rest_url, [](const std::string& s) {
        return check_url(s, {"http://", "https://"});
      });
      r.read_list("symbols", b.symbols,
        [](const std::string& s) { return check_symbol(s, ""); });
      r.read("streams_per_connection", b.streams_per_connection, 1, 1024);
      r.read("reconnect_before_ms", b.reconnect_before_ms, 1, 86'400'000);
      r.read("batch_max_trades", b.batch_max_trades, 1);
      r.read("batch_max_age_ms", b.batch_max_age_ms, 0);
      r.read("max_pause_ms", b.max_pause_ms, 1, 600'000);
      r.read("resume_window_ms", b.resume_window_ms, 1, 600'000);
    }
    {
      auto r = ex.sub("yahoo");
      auto& y = cfg.exchanges.yahoo;
      r.read("enabled", y.enabled);
      r.read("base_url", y.base_url, [](const std::string& s) {
        return check_url(s, {"http://", "https://"});
      });
      r.read_list("symbols", y.symbols,
        [](const std::string& s) { return check_symbol(s, ".-^="); });
      r.read("poll_interval_ms", y.poll_interval_ms, 1);
    }
  }
  {
    auto r = top.sub("bars");
    r.read("grace_ms", cfg.bars.grace_ms, 0);
    r.read("allowed_lateness_ms", cfg.bars.allowed_lateness_ms, 0);
    r.read_list("timeframes", cfg.bars.timeframes, check_timeframe);
    r.read("shards", cfg.bars.shards, 1, 256);
    if (cfg.bars.allowed_lateness_ms < cfg.bars.grace_ms)
      r.error(join_path(r.path(), "allowed_lateness_ms"),
        "must be >= grace_ms (" + std::to_string(cfg.bars.grace_ms) + ")");
  }
  {
    auto r = top.sub("quality");
    auto& q = cfg.quality;
    r.read("window_ms", q.window_ms, 1);
    r.read("stale_after_ms", q.stale_after_ms, 1);
    r.read_positive("price_anomaly_pct", q.price_anomaly_pct, 0.0);
    r.read_positive("volume_anomaly_factor", q.volume_anomaly_factor, 1.0);
    r.read("max_timestamp_skew_ms", q.max_timestamp_skew_ms, 0);
    r.read("max_recent_issues", q.max_recent_issues, 0, 10'000);
  }
  {
    auto r = top.sub("circuit_breaker");
    auto& c = cfg.circuit_breaker;
    r.read("failure_threshold", c.failure_threshold, 1);
    r.read("open_timeout_ms", c.open_timeout_ms, 1);
    r.read("success_threshold", c.success_threshold, 1);
    r.read("max_open_timeout_ms", c.max_open_timeout_ms, 1);
    if (c.max_open_timeout_ms < c.open_timeout_ms)
      r.error(join_path(r.path(), "max_open_timeout_ms"),
        "must be >= open_timeout_ms (" + std::to_string(c.open_timeout_ms)
          + ")");
  }
  {
    auto r = top.sub("database");
    auto& d = cfg.database;
    r.read("host", d.host, check_non_empty);
    r.read_port("port", d.port, 1);
    r.read("name", d.name, check_non_empty);
    r.read("user", d.user, check_non_empty);
    r.read("pool_size", d.pool_size, 1, 64);
    r.read("enabled", d.enabled);
    r.read("migrate_on_start", d.migrate_on_start);
    r.read("archive_trades", d.archive_trades);
    r.read("spool_dir", d.spool_dir, check_non_empty);
    r.read("flush_rows", d.flush_rows, 1, 10'000'000);
    r.read("flush_age_ms", d.flush_age_ms, 1, 3'600'000);
    r.read("max_inflight_rows", d.max_inflight_rows, 0, 1'000'000'000);
  }
  {
    auto r = top.sub("redis");
    r.read("enabled", cfg.redis.enabled);
    r.read("url", cfg.redis.url,
      [](const std::string& s) { return check_url(s, {"redis://"}); });
  }
  {
    auto r = top.sub("api");
    auto& a = cfg.api;
    r.read_port("port", a.port, 0);
    r.read("bind", a.bind, check_non_empty);
    r.read("threads", a.threads, 1, 64);
    r.read("ws_threads", a.ws_threads, 0, 64);
    r.read("max_body_bytes", a.max_body_bytes, 0, 1'073'741'824);
    r.read("max_header_bytes", a.max_header_bytes, 1'024, 1'048'576);
    r.read("read_timeout_ms", a.read_timeout_ms, 1, 3'600'000);
    r.read("idle_timeout_ms", a.idle_timeout_ms, 1, 86'400'000);
    r.read("reads_require_auth", a.reads_require_auth);
    r.read_list("cors_origins", a.cors_origins,
      [](const std::string& s) { return check_cors_origin(s); });
    if (a.cors_origins.size() > 1
      && std::find(a.cors_origins.begin(), a.cors_origins.end(), "*")
        != a.cors_origins.end())
      r.error(join_path(r.path(), "cors_origins"),
        "\"*\" allows every origin and must be the only entry");
    r.read_positive("rate_limit_per_second", a.rate_limit_per_second, 0.0);
    if (a.rate_limit_per_second < 0.001 || a.rate_limit_per_second > 1e9)
      r.error(join_path(r.path(), "rate_limit_per_second"),
        "must be between 0.001 and 1e9");
    r.read("rate_limit_burst", a.rate_limit_burst, 1, 1'000'000'000);
    r.read("rate_limit_clients", a.rate_limit_clients, 1, 100'000'000);
    r.read("ws_forming_interval_ms", a.ws_forming_interval_ms, 1, 3'600'000);
    r.read("ws_queue_limit", a.ws_queue_limit, 1, 1'000'000);
    r.read("ws_ping_interval_ms", a.ws_ping_interval_ms, 1, 3'600'000);
    r.read("ws_max_subscriptions", a.ws_max_subscriptions, 1, 100'000);
    r.read("ws_snapshot_bars", a.ws_snapshot_bars, 0, 100'000);
  }
}

void apply_environment(
  const env_lookup& env, platform_config& cfg, error_list& errors) {
  auto get = [&](const char* name) -> std::optional<std::string> {
    return env ? env(name) : std::nullopt;
  };
  auto env_error = [&](const char* name, const std::string& what) {
    errors.push_back(std::string{"env "} + name + ": " + what);
  };
  auto non_empty = [&](const char* name, std::string& out) {
    if (auto v = get(name)) {
      if (v->empty())
        env_error(name, "must not be empty");
      else
        out = std::move(*v);
    }
  };
  non_empty("DB_HOST", cfg.database.host);
  non_empty("DB_NAME", cfg.database.name);
  non_empty("DB_USER", cfg.database.user);
  if (auto v = get("DB_PORT")) {
    char* end = nullptr;
    errno = 0;
    auto x = std::strtol(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || errno != 0 || x < 1 || x > 65535)
      env_error("DB_PORT",
        "must be a port number between 1 and 65535, got \"" + *v + "\"");
    else
      cfg.database.port = static_cast<std::uint16_t>(x);
  }
  if (auto v = get("DB_PASSWORD"))
    cfg.database.password = std::move(*v);
  if (auto v = get("REDIS_URL")) {
    if (auto err = check_url(*v, {"redis://"}))
      env_error("REDIS_URL", *err);
    else
      cfg.redis.url = std::move(*v);
  }
  if (auto v = get("JWT_SECRET"))
    cfg.api.jwt_secret = std::move(*v);
}

} // namespace

std::string_view to_string(node_role x) noexcept {
  for (auto& [name, value] : role_names)
    if (value == x)
      return name;
  return "?";
}

std::string_view to_string(log_level x) noexcept {
  for (auto& [name, value] : level_names)
    if (value == x)
      return name;
  return "?";
}

std::optional<log_level> parse_log_level(std::string_view str) noexcept {
  for (auto& [name, value] : level_names)
    if (str == name)
      return value;
  return std::nullopt;
}

env_lookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    std::string key{name};
    if (auto value = std::getenv(key.c_str()))
      return std::string{value};
    return std::nullopt;
  };
}

env_lookup empty_environment() {
  return
    [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

load_result parse_config(std::string_view json_text, const env_lookup& env) {
  load_result result;
  json root;
  try {
    root = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& ex) {
    result.errors.push_back(std::string{"invalid JSON: "} + ex.what());
    return result;
  }
  platform_config cfg;
  read_all(root, cfg, result.errors);
  apply_environment(env, cfg, result.errors);
  if (result.errors.empty())
    result.config = std::move(cfg);
  return result;
}

load_result load_config_file(const std::string& path, const env_lookup& env) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    load_result result;
    result.errors.push_back(path + ": cannot open the config file");
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), env);
}

} // namespace csp::config
