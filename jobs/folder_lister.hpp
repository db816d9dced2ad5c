// folder_lister.hpp: the kernel's part of a scan (open, readdir, fstatat) on helper threads, ahead
// of the walk, which only compares listings with the library. On a re-scan the kernel's stat is
// most of the work: two listers keep both cores on it while the walk reads the library.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace vpo::jobs {

/// What fstatat() said of one video file.
struct file_stat {
  long long size = 0;
  long long mtime_ns = 0;
  bool ok = false;  ///< false: it vanished between readdir and stat
};

/// A piece of one folder's listing. A folder's chunks arrive in order, the last one with
/// `last` set; chunks of different folders may interleave.
struct listed_chunk {
  std::size_t folder = 0;  ///< the folder's number in this walk (the key of its chunks)
  std::string path;
  bool last = false;
  /// Set (with `last`) when the folder could not be opened: `error` says why, nothing else is set.
  bool unreadable = false;
  /// Set (with `last`) when the folder was walked already under another path (same device and
  /// inode: a bind mount or a loop).
  bool walked_already = false;
  std::string error;
  int end_errno = 0;  ///< readdir stopped early with this error: the listing is incomplete
  /// This folder's own part of the tree (for the progress of a first scan); in the last chunk.
  double share = 0;
  std::vector<std::string> names;    ///< video files (names, not paths)
  std::vector<file_stat> stats;      ///< one per name
  std::vector<std::string> subdirs;  ///< every subfolder's name, in the last chunk
};

/// Lists the tree under `root` on `threads` threads (started at once, joined by the destructor).
/// Does not follow symlinks (but the root may be one), skips names starting with '.', lists a
/// folder (device, inode) once. At most `buffered_files` names wait in chunks: the listers wait
/// for the walk, never the other way round. Threads inherit the creating thread's nice value.
class folder_lister {
 public:
  folder_lister(std::string root, int threads, std::size_t buffered_files = 32768);
  ~folder_lister();
  folder_lister(const folder_lister&) = delete;
  folder_lister& operator=(const folder_lister&) = delete;

  enum class result { chunk, timeout, done };
  /// The next chunk; waits until `deadline` at most. `done`: every folder is listed and handed
  /// over.
  result next(std::chrono::steady_clock::time_point deadline, listed_chunk& out);

 private:
  struct task {
    std::string path;
    double share = 0;
  };
  void run();
  void list(task t);
  bool push(listed_chunk&& c);  // false when stopping

  std::mutex mutex_;
  std::condition_variable for_work_, for_chunks_;
  std::deque<task> todo_;
  std::deque<listed_chunk> ready_;
  std::set<std::pair<dev_t, ino_t>> visited_;
  std::size_t buffered_ = 0;  // names in ready_
  std::size_t cap_;
  std::size_t next_folder_ = 0;
  int busy_ = 0;  // threads listing a folder
  bool stop_ = false;
  std::atomic<bool> stopping_{false};  // read while listing: a dropped walk does not finish folders
  std::string root_;
  std::vector<std::thread> threads_;
};

}  // namespace vpo::jobs
