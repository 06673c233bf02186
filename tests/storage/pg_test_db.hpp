#pragma once

// A throw-away database for one test suite on the server that
// scripts/services.sh started (settings from DB_HOST, DB_PORT, DB_USER,
// DB_PASSWORD). Created fresh, dropped at the end.

#include <string>
#include <unistd.h>

#include <pqxx/pqxx>

#include "config/config.hpp"
#include "storage/migrations.hpp"
#include "storage/pg_settings.hpp"

namespace csp::test {

/// Returns whether `f()` throws an exception of type E.
template <class E, class F>
bool throws(F&& f) {
  try {
    f();
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

/// The server's settings from the environment.
inline storage::pg_settings server_settings() {
  auto loaded = config::parse_config("{}", config::process_environment());
  if (!loaded.ok())
    throw std::runtime_error{"bad DB_* environment: " + loaded.errors.front()};
  return storage::pg_settings_from(loaded.config->database);
}

/// Creates database `csp_test_<name>_<pid>` (dropping a leftover first) and
/// drops it when destroyed. With `migrated`, runs the migrations.
class test_database {
public:
  explicit test_database(const std::string& name, bool migrated = true)
      : admin_(server_settings()) {
    settings_ = admin_.with_dbname(
      "csp_test_" + name + "_" + std::to_string(::getpid()));
    pqxx::connection c{admin_.with_dbname("postgres").conninfo()};
    pqxx::nontransaction tx{c};
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(settings_.dbname));
    tx.exec("CREATE DATABASE " + tx.quote_name(settings_.dbname));
    if (migrated) {
      pqxx::connection m{settings_.conninfo()};
      storage::migrate(m);
    }
  }

  ~test_database() {
    try {
      pqxx::connection c{admin_.with_dbname("postgres").conninfo()};
      pqxx::nontransaction tx{c};
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(settings_.dbname)
        + " WITH (FORCE)");
    } catch (const std::exception&) {
      // Left for the next run's DROP ... IF EXISTS.
    }
  }

  test_database(const test_database&) = delete;
  test_database& operator=(const test_database&) = delete;

  const storage::pg_settings& settings() const { return settings_; }

  /// Runs a query returning one value as text ("" for NULL).
  std::string scalar(const std::string& sql) const {
    pqxx::connection c{settings_.conninfo()};
    pqxx::nontransaction tx{c};
    auto r = tx.exec(sql);
    if (r.empty() || r[0][0].is_null())
      return {};
    return r[0][0].c_str();
  }

private:
  storage::pg_settings admin_;
  storage::pg_settings settings_;
};

} // namespace csp::test
