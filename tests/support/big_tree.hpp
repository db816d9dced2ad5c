// big_tree.hpp: a real-sized library for tests that need a long scan, built once and shared.
#pragma once

#include <string>

namespace vpo::test {

/// How many video files the shared tree holds.
constexpr int big_tree_files = 200000;

/// The path of a tree of big_tree_files empty video files (10 x 20 folders of 1,000, plus a
/// little noise), created on first use under the build folder and shared by every test and
/// every test process (a lock file serializes the creation). Tests must not modify it.
const std::string& shared_big_tree();
/// One of the shared tree's ten top folders ("show 0" .. "show 9", 20,000 files each): a scan of
/// a different directory (a second scan of the same one would return the first job), over the
/// same files.
std::string shared_big_tree_part(int i);

/// Makes sure `root` holds a tree of `files` empty video files (folders of 1,000, 20 per parent)
/// and returns it; built once (under a lock file beside it), then reused. `files` % 1000 == 0.
std::string ensure_tree(const std::string& root, int files);

/// Runs `sql` on the SQLite database at `path` (read-only) and returns the first column of the
/// first row as text ("" when there is no row); throws std::runtime_error on an error.
std::string query_db(const std::string& path, const std::string& sql);

/// Runs the statements in `sql` on the SQLite database at `path` (created if missing); throws
/// std::runtime_error on an error. For tests that build a database by hand (e.g. an old schema).
void exec_db(const std::string& path, const std::string& sql);

/// Another process's view of a database: holds its write lock (BEGIN EXCLUSIVE) until
/// destroyed, as a backup tool or a second program would.
class write_lock_holder {
 public:
  explicit write_lock_holder(const std::string& path);
  ~write_lock_holder();
  write_lock_holder(const write_lock_holder&) = delete;
  write_lock_holder& operator=(const write_lock_holder&) = delete;

 private:
  void* db_ = nullptr;
};

}  // namespace vpo::test
