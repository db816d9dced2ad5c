// big_tree.cpp: the shared 200,000-file tree (created once, under a lock) and a SQL helper.
#include "tests/support/big_tree.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace vpo::test {
namespace {

void touch(const std::string& path) {
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  ::close(fd);
}

void build(const std::string& root, int files) {
  namespace fs = std::filesystem;
  std::string tmp = root + ".partial";
  fs::remove_all(tmp);
  for (int d = 0; d < files / 1000; ++d) {
    std::string dir = tmp + "/show " + std::to_string(d / 20) + "/season " + std::to_string(d % 20);
    fs::create_directories(dir);
    for (int i = 0; i < 1000; ++i)
      touch(dir + "/episode " + std::to_string(i) + (i % 2 ? ".mkv" : ".mp4"));
    touch(dir + "/notes.txt");
  }
  fs::rename(tmp, root);  // a tree is complete once it has its name
}

}  // namespace

std::string ensure_tree(const std::string& root, int files) {
  std::filesystem::create_directories(std::filesystem::path(root).parent_path());
  int lock = ::open((root + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) throw std::runtime_error("tree: no lock");
  if (!std::filesystem::exists(root)) build(root, files);
  ::close(lock);
  return root;
}

const std::string& shared_big_tree() {
  static const std::string root = ensure_tree(
      std::string(VPO_TEST_TREES_DIR) + "/big-" + std::to_string(big_tree_files), big_tree_files);
  return root;
}

std::string query_db(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  std::string out;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    auto* text = sqlite3_column_text(st, 0);
    out = text ? reinterpret_cast<const char*>(text) : "";
  }
  std::string err = sqlite3_errmsg(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw std::runtime_error(sql + ": " + err);
  return out;
}

write_lock_holder::write_lock_holder(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path);
  }
  sqlite3_busy_timeout(db, 5000);
  if (sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string err = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("cannot lock " + path + ": " + err);
  }
  db_ = db;
}

write_lock_holder::~write_lock_holder() {
  auto* db = static_cast<sqlite3*>(db_);
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

void exec_db(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path);
  }
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error(sql + ": " + message);
}

std::string shared_big_tree_part(int i) {
  return shared_big_tree() + "/show " + std::to_string(i);
}

}  // namespace vpo::test
