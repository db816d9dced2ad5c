// damage.hpp: SQLite's reports that a database file is damaged, from whichever connection met
// them (the store, the reader, a worker), for the health probe to act on.
#pragma once

#include <sqlite3.h>

#include <optional>
#include <string>

#include "db/connection.hpp"

namespace vpo::db {

/// True for SQLite's answers that mean the file's content is damaged (SQLITE_CORRUPT,
/// SQLITE_NOTADB; extended codes included).
inline bool is_damage(int rc) {
  return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/// Records `rc` when it reports damage on connection `db` (thread-safe, cheap otherwise).
void note_result(sqlite3* db, int rc);

/// The last damage reported since the previous call for the database file that `db` has open,
/// in words (SQLite's message); nullopt when none.
std::optional<std::string> take_damage(sqlite3* db);

/// A damaged-file failure (errc::corrupt, with the fix) carrying `message`.
inline status damaged(std::string message) {
  return sqlite_error(SQLITE_CORRUPT, 0, std::move(message));
}

}  // namespace vpo::db
