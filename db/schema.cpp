// schema.cpp: migrations, applied in order; each one moves the schema up by one version.
#include "db/schema.hpp"

#include <string>
#include <vector>

namespace vpo::db {
namespace {

using migration = status (*)(connection&);

bool has_column(connection& c, const std::string& table, const std::string& column) {
  long long n = 0;
  c.query_int(
      "SELECT count(*) FROM pragma_table_info('" + table + "') WHERE name = '" + column + "'", n);
  return n > 0;
}

// 0 -> 1: the version table itself.
status to_v1(connection& c) {
  return c.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);");
}

// 1 -> 2: jobs (VPO's column names where they apply, plus attempts) and files found by scans.
// A VPO library.db may already hold a jobs table: keep it and add the columns vpo needs.
status to_v2(connection& c) {
  status s = c.exec(R"(
    CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY,
      job_type TEXT NOT NULL,
      status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
      priority INTEGER NOT NULL DEFAULT 100 CHECK (priority BETWEEN 0 AND 1000),
      file_path TEXT,
      progress_percent REAL NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      started_at TEXT,
      completed_at TEXT,
      worker_pid INTEGER,
      worker_heartbeat TEXT,
      error_message TEXT,
      summary_json TEXT,
      origin TEXT,
      attempts INTEGER NOT NULL DEFAULT 0
    );)");
  const char* added[][2] = {{"attempts", "INTEGER NOT NULL DEFAULT 0"},
                            {"origin", "TEXT"},
                            {"worker_pid", "INTEGER"},
                            {"worker_heartbeat", "TEXT"},
                            {"summary_json", "TEXT"}};
  for (auto& [name, type] : added)
    if (s.ok() && !has_column(c, "jobs", name))
      s = c.exec(std::string("ALTER TABLE jobs ADD COLUMN ") + name + " " + type);
  if (!s.ok()) return s;
  return c.exec(R"(
    CREATE INDEX IF NOT EXISTS jobs_claim_order ON jobs (status, priority, created_at);
    CREATE TABLE IF NOT EXISTS files (
      id INTEGER PRIMARY KEY,
      path TEXT NOT NULL UNIQUE,
      size INTEGER NOT NULL,
      mtime TEXT NOT NULL,
      extension TEXT NOT NULL,
      scanned_at TEXT NOT NULL,
      missing INTEGER NOT NULL DEFAULT 0,
      missing_since TEXT,
      last_scan_job TEXT
    );)");
}

// 2 -> 3: files get `dir` (the parent folder, indexed: a scan compares one folder at a time),
// `modified_at` (RFC 3339 UTC, as VPO's library stores it) and `mtime_ns` (exact, for change
// detection); the old text `mtime` ("1600000000.000000000") and `last_scan_job` go. Existing rows
// are converted in place.
status to_v3(connection& c) {
  status s = c.exec(R"(
    ALTER TABLE files ADD COLUMN dir TEXT NOT NULL DEFAULT '';
    ALTER TABLE files ADD COLUMN modified_at TEXT NOT NULL DEFAULT '';
    ALTER TABLE files ADD COLUMN mtime_ns INTEGER NOT NULL DEFAULT 0;)");
  if (!s.ok()) return s;
  if (has_column(c, "files", "mtime")) {
    s = c.exec(R"(
      UPDATE files SET mtime_ns =
        CASE WHEN instr(mtime, '.') > 0
          THEN CAST(substr(mtime, 1, instr(mtime, '.') - 1) AS INTEGER) * 1000000000
               + CAST(substr(substr(mtime, instr(mtime, '.') + 1) || '000000000', 1, 9) AS INTEGER)
          ELSE CAST(mtime AS INTEGER) * 1000000000 END;
      ALTER TABLE files DROP COLUMN mtime;)");
    if (!s.ok()) return s;
  }
  if (has_column(c, "files", "last_scan_job")) {
    s = c.exec("ALTER TABLE files DROP COLUMN last_scan_job");
    if (!s.ok()) return s;
  }
  // rtrim(path, <every character of path but '/'>) leaves the path up to its last '/'.
  return c.exec(R"(
    UPDATE files SET
      modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', (mtime_ns / 1000000) / 1000.0, 'unixepoch'),
      dir = CASE WHEN rtrim(path, replace(path, '/', '')) IN ('', '/') THEN '/'
                 ELSE substr(rtrim(path, replace(path, '/', '')), 1,
                             length(rtrim(path, replace(path, '/', ''))) - 1) END;
    CREATE INDEX IF NOT EXISTS files_dir ON files (dir);)");
}

// 3 -> 4: files become one B-tree keyed by path (WITHOUT ROWID) and lose `dir` and its index. A
// scan reads a folder's rows as a range of paths (skipping its subfolders' ranges), so the rows
// need no second key, and each new file costs one B-tree insert instead of three: about a third
// less work per row for the store on a first scan. Existing rows are copied in path order.
status to_v4(connection& c) {
  return c.exec(R"(
    CREATE TABLE files_v4 (
      path TEXT NOT NULL PRIMARY KEY,
      size INTEGER NOT NULL,
      modified_at TEXT NOT NULL,
      mtime_ns INTEGER NOT NULL,
      extension TEXT NOT NULL,
      scanned_at TEXT NOT NULL,
      missing INTEGER NOT NULL DEFAULT 0,
      missing_since TEXT
    ) WITHOUT ROWID;
    INSERT INTO files_v4 (path, size, modified_at, mtime_ns, extension, scanned_at, missing,
                          missing_since)
      SELECT path, size, modified_at, mtime_ns, extension, scanned_at, missing, missing_since
      FROM files ORDER BY path;
    DROP TABLE files;
    ALTER TABLE files_v4 RENAME TO files;)");
}

// migrations[i] takes the schema from version i to version i + 1. Never edit a shipped entry:
// append a new one.
const std::vector<migration>& migrations() {
  static const std::vector<migration> list = {to_v1, to_v2, to_v3, to_v4};
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
  if (s.is(errc::not_found)) return {};  // an empty table: version 0
  return s;
}

status migrate(connection& c) {
  status s = c.exec("BEGIN IMMEDIATE");
  if (!s.ok()) return s;
  long long version = 0;
  s = read_schema_version(c, version);
  if (s.ok() && version > current_schema_version()) {
    s = sqlite_error(SQLITE_ERROR, 0,
                     "database schema version " + std::to_string(version) +
                         " is newer than this vpo supports (" +
                         std::to_string(current_schema_version()) + "); upgrade vpo");
  }
  for (auto v = version; s.ok() && v < current_schema_version(); ++v) {
    s = migrations()[static_cast<std::size_t>(v)](c);
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
