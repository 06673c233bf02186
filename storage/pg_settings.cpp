#include "storage/pg_settings.hpp"

namespace csp::storage {

namespace {

// libpq quoting: single quotes around the value, backslash before ' and \.
void append_kv(std::string& out, const char* key, const std::string& value) {
  if (!out.empty())
    out += ' ';
  out += key;
  out += "='";
  for (char c : value) {
    if (c == '\'' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '\'';
}

} // namespace

std::string pg_settings::conninfo() const {
  std::string out;
  append_kv(out, "host", host);
  append_kv(out, "port", std::to_string(port));
  append_kv(out, "dbname", dbname);
  append_kv(out, "user", user);
  if (!password.empty())
    append_kv(out, "password", password);
  append_kv(out, "connect_timeout", std::to_string(connect_timeout_s));
  append_kv(out, "application_name", application);
  // A server that vanishes without closing the socket is noticed in
  // seconds, not after the kernel's two-hour default.
  append_kv(out, "keepalives", "1");
  append_kv(out, "keepalives_idle", "5");
  append_kv(out, "keepalives_interval", "2");
  append_kv(out, "keepalives_count", "3");
  return out;
}

pg_settings pg_settings::with_dbname(std::string name) const {
  auto out = *this;
  out.dbname = std::move(name);
  return out;
}

pg_settings pg_settings_from(const config::database_config& db) {
  pg_settings out;
  out.host = db.host;
  out.port = db.port;
  out.dbname = db.name;
  out.user = db.user;
  out.password = db.password;
  return out;
}

} // namespace csp::storage
