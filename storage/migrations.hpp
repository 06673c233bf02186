#pragma once

// Versioned schema migrations. Every file storage/migrations/NNNN_name.sql
// is one version; NNNN_name.plain.sql and NNNN_name.timescale.sql run only
// in that schema mode. The mode is chosen once, on the first migration
// (TimescaleDB when the extension is available, unless told otherwise), and
// recorded in schema_migrations with every applied version; later runs keep
// it. Each version is applied in its own transaction under an advisory
// lock, so concurrent `csp migrate` runs apply it once.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class connection_base;
} // namespace pqxx

namespace csp::storage {

/// An embedded migration file: its name and SQL text.
struct migration_file {
  const char* name;
  const char* sql;
};

/// The migration files compiled into the binary, sorted by name.
const std::vector<migration_file>& migration_files();

/// How time-series tables are laid out.
enum class schema_mode { plain, timescale };

/// "plain" or "timescale".
std::string_view to_string(schema_mode x) noexcept;

/// One migration step parsed from a file name.
struct migration {
  int version = 0;
  /// The name between the number and the suffix, e.g. "tables".
  std::string name;
  /// Runs only in this mode; nullopt: in both.
  std::optional<schema_mode> only_in;
  std::string sql;
};

/// Parses a file name "NNNN_name[.plain|.timescale].sql"; nullopt if it
/// does not have that form.
std::optional<migration> parse_migration_name(std::string_view file_name);

/// The embedded migrations, parsed and sorted by version (then name).
std::vector<migration> embedded_migrations();

/// The SQL of `m` as run in `mode` (plain keeps it; timescale removes the
/// range partitioning clause).
std::string sql_for(const migration& m, schema_mode mode);

/// What migrate() did.
struct migrate_result {
  schema_mode mode = schema_mode::plain;
  /// Versions applied by this call, as "0001_tables".
  std::vector<std::string> applied;
  /// Highest version now applied.
  int version = 0;
};

/// Brings the connected database to the newest version. `prefer` forces a
/// mode on a fresh database (timescale fails when the extension is
/// missing). Throws std::runtime_error (with the failing version in the
/// text) on any database error; a failed version leaves no trace.
migrate_result migrate(
  pqxx::connection_base& c, std::optional<schema_mode> prefer = std::nullopt);

/// Returns whether the timescaledb extension can be created here.
bool timescale_available(pqxx::connection_base& c);

} // namespace csp::storage
