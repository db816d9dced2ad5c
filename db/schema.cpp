// schema.cpp: migrations, applied in order; each one moves the schema up by one version.
#include "db/schema.hpp"

#include <string>
#include <vector>

namespace vpo::db {
namespace {

// migrations[i] takes the schema from version i to version i + 1. Never edit a shipped entry:
// append a new one.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> list = {
      // 0 -> 1: the version table itself.
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);",
  };
  return list;
}

}  // namespace

int current_schema_version() {
  return static_cast<int>(migrations().size());
}

status read_schema_version(connection& c, long long& version) {
  long long tables = 0;
  status s = c.query_int(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
      tables);
  if (!s.ok()) return s;
  version = 0;
  if (tables == 0) return {};
  s = c.query_int("SELECT max(version) FROM schema_version", version);
  if (s.code == SQLITE_DONE) return {};
  return s;
}

status migrate(connection& c) {
  status s = c.exec("BEGIN IMMEDIATE");
  if (!s.ok()) return s;
  long long version = 0;
  s = read_schema_version(c, version);
  if (s.ok() && version > current_schema_version()) {
    s = {SQLITE_ERROR, 0,
         "database schema version " + std::to_string(version) +
             " is newer than this vpo supports (" + std::to_string(current_schema_version()) +
             "); upgrade vpo"};
  }
  for (auto v = version; s.ok() && v < current_schema_version(); ++v) {
    s = c.exec(migrations()[static_cast<std::size_t>(v)]);
    if (s.ok())
      s = c.exec("DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (" +
                 std::to_string(v + 1) + ");");
  }
  if (!s.ok()) {
    c.exec("ROLLBACK");
    return s;
  }
  return c.exec("COMMIT");
}

}  // namespace vpo::db
