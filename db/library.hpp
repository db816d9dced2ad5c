// library.hpp: opening, verifying and probing the library database file.
#pragma once

#include <chrono>
#include <string>

#include "db/connection.hpp"

namespace vpo::db {

/// Which file a connection has open (device and inode), to notice a removed or replaced file.
struct file_identity {
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  bool operator==(const file_identity& o) const { return dev == o.dev && ino == o.ino; }
  bool operator!=(const file_identity& o) const { return !(*this == o); }
};

/// Process-wide SQLite settings, before the first connection: no memory statistics (they take a
/// global mutex on every allocation, and each actor owns its connection). Idempotent.
void configure_sqlite();

/// Opens `path` and verifies it is a vpo library database. With create_if_missing, creates the
/// folder and the file with its schema (WAL mode) and migrates an older schema; with
/// existing_only (reconnects), requires the file and the current schema and writes nothing.
/// `upgraded_from` (if given) gets the schema version an existing file was migrated from, else 0.
status open_library(const std::string& path, open_mode mode, int busy_timeout_ms, connection& out,
                    file_identity& id, long long* upgraded_from = nullptr);

/// Creates the folder that will hold the database file `path` (if missing).
status ensure_folder(const std::string& path);

/// One health probe: the path still names the open file and a query answers within the busy
/// timeout. Never writes.
status probe_library(connection& c, const std::string& path, const file_identity& id);

/// Whether the database can be written now, without writing: the write lock is free within the
/// connection's busy timeout (taken and released at once), the file is not read-only, and its
/// file system has at least `min_free_bytes` left.
status probe_writable(connection& c, const std::string& path, unsigned long long min_free_bytes);

/// `PRAGMA quick_check` of the whole file, stopped after `budget` (`finished` false then, and no
/// verdict). A damaged file gives errc::corrupt with the first problem SQLite found. Never writes.
status check_integrity(connection& c, const std::string& path, std::chrono::milliseconds budget,
                       bool& finished);

/// `path` made absolute against the working directory (no symlink resolution).
std::string absolute_path(const std::string& path);

/// After every connection of the daemon is closed: moves the WAL into the file and removes it,
/// so a stopped daemon leaves one self-contained file (copies and backups of it are complete).
/// SQLite does this when its last connection closes, but connections closing at the same time
/// can each see another still open and all skip it. Waits at most `busy_timeout_ms` for a lock
/// another process holds; a missing file is left alone.
status finish_wal(const std::string& path, int busy_timeout_ms);

}  // namespace vpo::db
