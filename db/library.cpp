// library.cpp: open/verify/create the library database, and the cheap periodic probe.
#include "db/library.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "db/schema.hpp"

namespace vpo::db {
namespace {

status os_failure(int err, const std::string& what) {
  return sqlite_error(SQLITE_CANTOPEN, err, what + ": " + std::strerror(err));
}

status make_folder(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) return {};
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return os_failure(ec.value(), "cannot create the database folder " + folder.string());
  return {};
}

status identity_of(const std::string& path, file_identity& id) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return os_failure(errno, "database file " + path);
  if (S_ISDIR(st.st_mode)) return os_failure(EISDIR, "database path " + path);
  id = {static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino)};
  return {};
}

// Reads the main file's header through SQLite's own file handle: a plain open()/close() of the
// database elsewhere in this process would drop SQLite's POSIX locks. This sees the file itself,
// where queries may be answered from the WAL or the page cache.
status check_header(connection& c, const std::string& path) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(c.handle(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
      !file || !file->pMethods)
    return sqlite_error(SQLITE_CANTOPEN, 0, "database " + path + ": cannot access the open file");
  char header[16] = {};
  int rc = file->pMethods->xRead(file, header, sizeof header, 0);
  if (rc == SQLITE_IOERR_SHORT_READ) {
    sqlite3_int64 size = 0;
    if (file->pMethods->xFileSize(file, &size) == SQLITE_OK && size == 0) return {};  // new file
    return sqlite_error(SQLITE_NOTADB, 0,
                        "database " + path + ": file is not a database (truncated header)");
  }
  if (rc != SQLITE_OK)
    return sqlite_error(SQLITE_IOERR, 0, "database " + path + ": cannot read the header");
  if (std::memcmp(header, "SQLite format 3", 16) != 0)
    return sqlite_error(SQLITE_NOTADB, 0, "database " + path + ": file is not a database");
  return {};
}

}  // namespace

status ensure_folder(const std::string& path) {
  return make_folder(path);
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

void configure_sqlite() {
  static const bool done = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)done;
}

status open_library(const std::string& path, open_mode mode, int busy_timeout_ms, connection& out,
                    file_identity& id, long long* upgraded_from) {
  if (upgraded_from) *upgraded_from = 0;
  struct stat st {};
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) return os_failure(EISDIR, "database path " + path);
  if (!exists && mode == open_mode::existing_only)
    return os_failure(ENOENT, "database file " + path);
  if (!exists) {
    if (status s = make_folder(path); !s.ok()) return s;
  }
  connection c;
  if (status s = c.open(path, mode, busy_timeout_ms); !s.ok()) return s;
  if (status s = check_header(c, path); !s.ok()) return s;
  // Reading the schema is the first access to the file: garbage fails here with SQLITE_NOTADB.
  long long version = 0;
  if (status s = read_schema_version(c, version); !s.ok()) {
    s.message = "database " + path + ": " + s.message;
    if (s.is(errc::busy)) s.message += " (locked beyond the probe timeout)";
    return s;
  }
  if (mode == open_mode::create_if_missing && version == current_schema_version()) {
    // The usual start: nothing to create or migrate, so no write transaction and no checkpoint
    // (each a disk flush). WAL mode is persistent; a file another tool left in rollback mode
    // is switched.
    if (status s = c.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !s.ok()) {
      s.message = "database " + path + ": " + s.message;
      return s;
    }
  } else if (mode == open_mode::create_if_missing) {
    // 16 KiB pages (only a new, empty file takes them): a scan's inserts touch fewer pages and
    // write fewer WAL frames than with 4 KiB (~10 % faster first scans here).
    if (status s = c.exec("PRAGMA page_size=16384; PRAGMA journal_mode=WAL; "
                          "PRAGMA synchronous=NORMAL;");
        !s.ok()) {
      s.message = "database " + path + ": " + s.message;
      return s;
    }
    if (status s = migrate(c); !s.ok()) {
      s.message = "database " + path + ": " + s.message;
      return s;
    }
    if (upgraded_from && version > 0 && version < current_schema_version())
      *upgraded_from = version;
    // Move the schema from the WAL into the file, so the file alone is a complete database
    // (copies and backups of it are valid, and a stale WAL never hides a replaced file).
    c.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } else if (version != current_schema_version()) {
    return sqlite_error(SQLITE_ERROR, 0,
                        "database " + path + " has schema version " + std::to_string(version) +
                            ", expected " + std::to_string(current_schema_version()));
  }
  if (status s = identity_of(path, id); !s.ok()) return s;
  out = std::move(c);
  return {};
}

status probe_library(connection& c, const std::string& path, const file_identity& id) {
  file_identity now;
  if (status s = identity_of(path, now); !s.ok()) return s;
  if (now != id) return sqlite_error(SQLITE_CANTOPEN, 0, "database file " + path + " was replaced");
  if (status s = check_header(c, path); !s.ok()) return s;
  long long version = 0;
  if (status s = c.query_int("SELECT max(version) FROM schema_version", version); !s.ok()) {
    if (s.is(errc::busy)) s.message += " (locked beyond the probe timeout)";
    return s;
  }
  return {};
}

status probe_writable(connection& c, const std::string& path, unsigned long long min_free_bytes) {
  struct statvfs fs {};
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (::statvfs(folder.empty() ? "." : folder.c_str(), &fs) == 0) {
    auto free_bytes = static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize;
    if (free_bytes < min_free_bytes)
      return sqlite_error(SQLITE_FULL, ENOSPC,
                          "database " + path +
                              " cannot be written: no space left on its file system (" +
                              std::to_string(free_bytes / 1024) + " KiB free)");
  }
  status s = c.exec("BEGIN IMMEDIATE");
  if (!s.ok()) {
    if (s.is(errc::busy))
      s.message = "database " + path +
                  " cannot be written: another process holds its write lock beyond the probe "
                  "timeout";
    else
      s.message = "database " + path + " cannot be written: " + s.message;
    return s;
  }
  c.exec("ROLLBACK");
  return {};
}

status check_integrity(connection& c, const std::string& path, std::chrono::milliseconds budget,
                       bool& finished) {
  auto deadline = std::chrono::steady_clock::now() + budget;
  // Called every 10,000 virtual-machine steps: a non-zero answer interrupts the check.
  sqlite3_progress_handler(
      c.handle(), 10000,
      [](void* d) -> int {
        return std::chrono::steady_clock::now() >
               *static_cast<std::chrono::steady_clock::time_point*>(d);
      },
      &deadline);
  sqlite3_stmt* stmt = nullptr;
  std::string first_problem;
  int rc = sqlite3_prepare_v2(c.handle(), "PRAGMA quick_check(1)", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      first_problem = text ? reinterpret_cast<const char*>(text) : "";
      rc = SQLITE_DONE;
    }
  }
  std::string message = rc == SQLITE_DONE ? "" : sqlite3_errmsg(c.handle());
  sqlite3_finalize(stmt);
  sqlite3_progress_handler(c.handle(), 0, nullptr, nullptr);
  finished = rc != SQLITE_INTERRUPT;
  if (!finished) return {};
  if (rc != SQLITE_DONE)
    return sqlite_error(rc, 0, "database " + path + " failed its integrity check: " + message);
  if (first_problem != "ok")
    return sqlite_error(SQLITE_CORRUPT, 0, "database " + path + " is damaged: " + first_problem);
  return {};
}

status finish_wal(const std::string& path, int busy_timeout_ms) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  connection c;
  if (status s = c.open(path, open_mode::existing_only, busy_timeout_ms); !s.ok()) return s;
  return c.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}  // ~connection: the last connection closes and removes the WAL

}  // namespace vpo::db
