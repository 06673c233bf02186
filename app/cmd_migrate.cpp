// `csp migrate`: brings the PostgreSQL schema to the newest version.

#include <iostream>
#include <string>

#include <pqxx/pqxx>

#include "app/cli.hpp"
#include "app/commands.hpp"
#include "storage/migrations.hpp"
#include "storage/pg_settings.hpp"

namespace csp::app {

namespace {

constexpr const char* migrate_usage = R"(usage: csp migrate [options]

Applies the pending schema migrations to the configured PostgreSQL database
(DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD override the config file).
On a fresh database the schema mode is TimescaleDB when the extension is
available, else plain PostgreSQL with range partitions.

options:
  --config FILE        JSON config file (see config/csp.example.json)
  --mode MODE          auto (default), plain or timescale (fresh database)
  --help               this text

exit status: 0 done, 1 database error, 2 bad usage or configuration
)";

} // namespace

int run_migrate(const arg_list& args) {
  std::string config_path;
  std::optional<storage::schema_mode> mode;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << migrate_usage;
      return 0;
    }
    if (i + 1 >= args.size()) {
      std::cerr << "csp migrate: unknown option or missing value: " << a << '\n'
                << migrate_usage;
      return 2;
    }
    const auto& v = args[++i];
    if (a == "--config") {
      config_path = v;
    } else if (a == "--mode") {
      if (v == "plain")
        mode = storage::schema_mode::plain;
      else if (v == "timescale")
        mode = storage::schema_mode::timescale;
      else if (v != "auto") {
        std::cerr << "csp migrate: --mode must be auto, plain or timescale, "
                     "got '"
                  << v << "'\n";
        return 2;
      }
    } else {
      std::cerr << "csp migrate: unknown option '" << a << "'\n"
                << migrate_usage;
      return 2;
    }
  }
  auto cfg = load_platform_config(config_path, "migrate");
  if (!cfg)
    return 2;
  auto db = storage::pg_settings_from(cfg->database);
  auto where = db.dbname + " at " + db.host + ":" + std::to_string(db.port);
  try {
    pqxx::connection c{db.conninfo()};
    auto result = storage::migrate(c, mode);
    std::cout << "csp migrate: database " << where << ", schema mode "
              << storage::to_string(result.mode) << ", version "
              << result.version;
    if (result.applied.empty()) {
      std::cout << " (up to date)\n";
    } else {
      std::cout << "; applied:";
      for (const auto& m : result.applied)
        std::cout << ' ' << m;
      std::cout << '\n';
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "csp migrate: database " << where << ": " << e.what() << '\n';
    return 1;
  }
}

} // namespace csp::app
