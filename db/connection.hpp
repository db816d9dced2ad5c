// connection.hpp: an owned SQLite connection (RAII) with the few helpers vpo needs.
#pragma once

#include <sqlite3.h>

#include <string>

#include "util/error.hpp"

namespace vpo::db {

/// The outcome of a database operation (util/error.hpp): ok(), or a kind (`vpo::errc`), a
/// sentence fragment (what failed and SQLite's/the OS's reason) and the operator's fix. SQLite's
/// codes stay in this room: sqlite_error() maps them.
using status = vpo::error;

/// A failure from SQLite's result code `rc` (extended codes too) and, for open and I/O failures,
/// the OS's errno (0: none): the kind and the fix follow from them.
status sqlite_error(int rc, int os_errno, std::string message);

/// How to open: create a missing file (startup) or require an existing one (reconnect).
enum class open_mode { create_if_missing, existing_only };

/// One sqlite3 handle, owned by exactly one actor. Not thread-safe; movable, not copyable.
class connection {
 public:
  connection() = default;
  ~connection() { close(); }
  connection(connection&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Opens `path` with a busy timeout; a write-protected file is reported as an error.
  status open(const std::string& path, open_mode mode, int busy_timeout_ms);
  void close();
  bool is_open() const { return db_ != nullptr; }
  sqlite3* handle() const { return db_; }

  /// Runs one or more statements that return no rows.
  status exec(const std::string& sql);
  /// Runs a query whose first row's first column is an integer; `out` receives it.
  status query_int(const std::string& sql, long long& out);

 private:
  status failure(int rc, const std::string& what) const;
  sqlite3* db_ = nullptr;
};

}  // namespace vpo::db
