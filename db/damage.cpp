// damage.cpp: a small registry of damage reports by database file name.
#include "db/damage.hpp"

#include <map>
#include <mutex>

namespace vpo::db {
namespace {

std::mutex reports_mutex;
std::map<std::string, std::string> reports;  // file name → SQLite's message

std::string file_of(sqlite3* db) {
  const char* name = db ? sqlite3_db_filename(db, "main") : nullptr;
  return name ? name : "";
}

}  // namespace

void note_result(sqlite3* db, int rc) {
  if (!is_damage(rc) || !db) return;
  std::string message = sqlite3_errmsg(db);
  std::string file = file_of(db);
  std::lock_guard<std::mutex> lock(reports_mutex);
  reports[file] = std::move(message);
}

std::optional<std::string> take_damage(sqlite3* db) {
  std::string file = file_of(db);
  std::lock_guard<std::mutex> lock(reports_mutex);
  auto it = reports.find(file);
  if (it == reports.end()) return std::nullopt;
  std::string message = std::move(it->second);
  reports.erase(it);
  return message;
}

}  // namespace vpo::db
