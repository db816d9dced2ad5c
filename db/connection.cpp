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

namespace {

errc kind_of(int primary, int os_errno) {
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return errc::busy;
    case SQLITE_FULL:
      return errc::full;
    case SQLITE_READONLY:
      return os_errno == EACCES || os_errno == EPERM ? errc::permission_denied : errc::read_only;
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return errc::permission_denied;
    case SQLITE_CANTOPEN:
      if (os_errno == EACCES || os_errno == EPERM) return errc::permission_denied;
      if (os_errno == ENOENT || os_errno == ENOTDIR) return errc::not_found;
      if (os_errno == EISDIR) return errc::invalid;
      return errc::unavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return errc::corrupt;
    case SQLITE_IOERR:
      return errc::io;
    case SQLITE_CONSTRAINT:
      return errc::constraint;
    case SQLITE_INTERRUPT:
      return errc::cancelled;
    default:
      return errc::internal;
  }
}

std::string fix_of(int primary, int os_errno) {
  switch (primary) {
    case SQLITE_NOTADB:
      return "The file is not a SQLite database: move it away or point --db at a vpo library "
             "database.";
    case SQLITE_CORRUPT:
      return "The database is corrupt: restore it from a backup.";
    case SQLITE_IOERR:
      return "An I/O error occurred: check the disk (dmesg) and free space.";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "Another process holds a lock on the database: stop it or wait, then retry.";
    case SQLITE_FULL:
      return "The disk is full: free some space.";
    default:
      break;
  }
  if (os_errno == EACCES || os_errno == EPERM || os_errno == EROFS)
    return "Check the owner and permissions of the file and its folder (the daemon's user needs "
           "read and write access), or choose another --db.";
  if (os_errno == EISDIR) return "Point --db at a file, not a folder.";
  if (os_errno == ENOTDIR || os_errno == ENOENT)
    return "A part of the path is not a folder or does not exist: fix --db/database_path.";
  return "Check the path given by --db/database_path.";
}

}  // namespace

status sqlite_error(int rc, int os_errno, std::string message) {
  int primary = rc & 0xff;
  return status(kind_of(primary, os_errno), std::move(message), fix_of(primary, os_errno));
}

status connection::failure(int rc, const std::string& what) const {
  note_result(db_, rc);  // damage reaches the health probe, whoever met it
  int primary = rc & 0xff;
  int os_errno = db_ ? sqlite3_system_errno(db_) : 0;
  std::string reason = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  if (os_errno != 0 && (primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR ||
                        primary == SQLITE_PERM || primary == SQLITE_READONLY))
    reason += std::string(" (") + std::strerror(os_errno) + ")";
  else if (primary != SQLITE_CANTOPEN && primary != SQLITE_IOERR && primary != SQLITE_PERM &&
           primary != SQLITE_READONLY)
    os_errno = 0;  // a stale errno from an earlier call says nothing about this failure
  return sqlite_error(rc, os_errno, what + ": " + reason);
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
    return sqlite_error(SQLITE_READONLY, EACCES,
                        "cannot open database " + path + " for writing: " + std::strerror(EACCES));
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
  if (rc == SQLITE_DONE) return status(errc::not_found, "query returned no row");
  return {};
}

}  // namespace vpo::db
