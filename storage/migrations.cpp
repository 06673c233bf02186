#include "storage/migrations.hpp"

#include <algorithm>
#include <stdexcept>

#include <pqxx/pqxx>

namespace csp::storage {

namespace {

// Key of the advisory lock that serialises migrations ("csp-migr").
constexpr long long migration_lock_key = 0x6373702d6d696772LL;

constexpr std::string_view partition_clause = " PARTITION BY RANGE (time)";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size()
    && s.substr(s.size() - suffix.size()) == suffix;
}

} // namespace

std::string_view to_string(schema_mode x) noexcept {
  return x == schema_mode::timescale ? "timescale" : "plain";
}

std::optional<migration> parse_migration_name(std::string_view file_name) {
  if (!ends_with(file_name, ".sql"))
    return std::nullopt;
  auto stem = file_name.substr(0, file_name.size() - 4);
  migration out;
  if (ends_with(stem, ".plain")) {
    out.only_in = schema_mode::plain;
    stem.remove_suffix(6);
  } else if (ends_with(stem, ".timescale")) {
    out.only_in = schema_mode::timescale;
    stem.remove_suffix(10);
  }
  if (stem.size() < 6 || stem[4] != '_')
    return std::nullopt;
  for (std::size_t i = 0; i < 4; ++i) {
    if (stem[i] < '0' || stem[i] > '9')
      return std::nullopt;
    out.version = out.version * 10 + (stem[i] - '0');
  }
  out.name = std::string{stem.substr(5)};
  for (char ch : out.name)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
      return std::nullopt;
  if (out.version == 0)
    return std::nullopt;
  return out;
}

std::vector<migration> embedded_migrations() {
  std::vector<migration> out;
  for (const auto& f : migration_files()) {
    auto m = parse_migration_name(f.name);
    if (!m)
      throw std::logic_error{
        std::string{"badly named migration file: "} + f.name};
    m->sql = f.sql;
    out.push_back(std::move(*m));
  }
  std::stable_sort(
    out.begin(), out.end(), [](const migration& x, const migration& y) {
      return x.version < y.version;
    });
  return out;
}

std::string sql_for(const migration& m, schema_mode mode) {
  if (mode == schema_mode::plain)
    return m.sql;
  std::string out = m.sql;
  for (auto pos = out.find(partition_clause); pos != std::string::npos;
       pos = out.find(partition_clause, pos))
    out.erase(pos, partition_clause.size());
  return out;
}

bool timescale_available(pqxx::connection_base& c) {
  pqxx::nontransaction tx{c};
  auto r = tx.exec(
    "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'");
  return !r.empty();
}

migrate_result migrate(
  pqxx::connection_base& c, std::optional<schema_mode> prefer) {
  migrate_result result;
  {
    pqxx::nontransaction tx{c};
    tx.exec(
      "SELECT pg_advisory_lock(" + std::to_string(migration_lock_key) + ")");
    tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY,"
            " name text NOT NULL,"
            " mode text NOT NULL CHECK (mode IN ('plain', 'timescale')),"
            " applied_at timestamptz NOT NULL DEFAULT now())");
  }
  auto unlock = [&c] {
    try {
      pqxx::nontransaction tx{c};
      tx.exec("SELECT pg_advisory_unlock(" + std::to_string(migration_lock_key)
        + ")");
    } catch (const std::exception&) {
      // The lock ends with the session anyway.
    }
  };
  try {
    std::vector<int> done;
    std::optional<schema_mode> mode;
    {
      pqxx::nontransaction tx{c};
      for (const auto& row :
        tx.exec("SELECT version, mode FROM schema_migrations")) {
        done.push_back(row[0].as<int>());
        mode = row[1].as<std::string>() == "timescale" ? schema_mode::timescale
                                                       : schema_mode::plain;
      }
    }
    if (!mode) {
      if (prefer)
        mode = prefer;
      else
        mode = timescale_available(c) ? schema_mode::timescale
                                      : schema_mode::plain;
    } else if (prefer && *prefer != *mode) {
      throw std::runtime_error{"the database uses schema mode "
        + std::string{to_string(*mode)} + ", not "
        + std::string{to_string(*prefer)}};
    }
    result.mode = *mode;
    for (const auto& m : embedded_migrations()) {
      if (m.only_in && *m.only_in != *mode)
        continue;
      auto label = std::to_string(10000 + m.version).substr(1) + "_" + m.name;
      if (std::find(done.begin(), done.end(), m.version) != done.end()) {
        result.version = std::max(result.version, m.version);
        continue;
      }
      try {
        pqxx::work tx{c};
        tx.exec(sql_for(m, *mode));
        tx.exec_params("INSERT INTO schema_migrations (version, name, mode) "
                       "VALUES ($1, $2, $3)",
          m.version, m.name, std::string{to_string(*mode)});
        tx.commit();
      } catch (const std::exception& e) {
        throw std::runtime_error{"migration " + label + " failed: " + e.what()};
      }
      result.applied.push_back(label);
      result.version = std::max(result.version, m.version);
    }
  } catch (...) {
    unlock();
    throw;
  }
  unlock();
  return result;
}

} // namespace csp::storage
