// connection.cpp: sqlite3 open/exec wrappers with errors that name SQLite's and the OS's reason.
#include "db/connection.hpp"

#include "db/damage.hpp"

#include <cerrno>
#include <cstring>

namespace vpo::db {

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    close();
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

status connection::failure(int rc, const std::string& what) const {
  note_result(db_, rc);  // damage reaches the health probe, whoever met it
  status s;
  s.code = rc & 0xff;
  s.os_errno = db_ ? sqlite3_system_errno(db_) : 0;
  std::string reason = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  if (s.os_errno != 0 && (s.code == SQLITE_CANTOPEN || s.code == SQLITE_IOERR ||
                          s.code == SQLITE_PERM || s.code == SQLITE_READONLY))
    reason += std::string(" (") + std::strerror(s.os_errno) + ")";
  s.error = what + ": " + reason;
  return s;
}

status connection::open(const std::string& path, open_mode mode, int busy_timeout_ms) {
  close();
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (mode == open_mode::create_if_missing) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    status s = failure(rc, "cannot open database " + path);
    close();
    return s;
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  if (sqlite3_db_readonly(db_, "main") == 1) {
    close();
    return {SQLITE_READONLY, EACCES,
            "cannot open database " + path + " for writing: " + std::strerror(EACCES)};
  }
  return {};
}

void connection::close() {
  if (db_) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

status connection::exec(const std::string& sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
  sqlite3_free(msg);
  if (rc != SQLITE_OK) return failure(rc, "statement failed");
  return {};
}

status connection::query_int(const std::string& sql, long long& out) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return failure(rc, "query failed");
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) out = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failure(rc, "query failed");
  if (rc == SQLITE_DONE) return {SQLITE_DONE, 0, "query returned no row"};
  return {};
}

}  // namespace vpo::db
