#pragma once

// How to reach PostgreSQL: built from the `database` config section (which
// already holds the DB_* environment overrides and DB_PASSWORD).

#include <cstdint>
#include <string>

#include "config/config.hpp"

namespace csp::storage {

/// How long time-series rows are kept: partitions (TimescaleDB: chunks)
/// wholly older than this are dropped by writer 0 every hour.
inline constexpr std::int64_t retention_period_ms
  = std::int64_t{365} * 86'400'000;

/// Connection parameters of one PostgreSQL database.
struct pg_settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 5432;
  std::string dbname = "csp";
  std::string user = "csp";
  std::string password;
  /// Seconds libpq waits for a connection before giving up.
  int connect_timeout_s = 5;
  /// Name reported as application_name (pg_stat_activity).
  std::string application = "csp";

  /// A libpq keyword/value connection string, every value quoted.
  std::string conninfo() const;

  /// The same database on the same server under another name.
  pg_settings with_dbname(std::string name) const;
};

/// Settings from the `database` config section.
pg_settings pg_settings_from(const config::database_config& db);

} // namespace csp::storage
