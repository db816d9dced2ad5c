// parallel_stat.hpp: fstatat() of many names of one folder on two threads (the walk's own and one
// helper): on a re-scan the kernel's stat is most of the work, and a second core halves it.
#pragma once

#include <sys/stat.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vpo::jobs {

/// Owns one helper thread for its lifetime. Not thread-safe (one walk owns it).
class parallel_stat {
 public:
  parallel_stat();
  ~parallel_stat();
  parallel_stat(const parallel_stat&) = delete;
  parallel_stat& operator=(const parallel_stat&) = delete;

  /// Starts out[i] = fstatat(dirfd, names[i], AT_SYMLINK_NOFOLLOW) (ok[i] = 0 when that failed):
  /// the helper takes the last `helper_share` of the list at once; finish() does the rest on the
  /// calling thread and waits. Between the two the caller may do other work (its library
  /// read). The vectors must stay untouched until finish() returns.
  void start(int dirfd, const std::vector<std::string>& names, std::vector<struct stat>& out,
             std::vector<char>& ok, double helper_share);
  void finish();

 private:
  void helper_loop();
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  bool stop_ = false;
  bool has_work_ = false;
  int dirfd_ = -1;
  const std::vector<std::string>* names_ = nullptr;
  std::vector<struct stat>* out_ = nullptr;
  std::vector<char>* ok_ = nullptr;
  std::size_t from_ = 0, to_ = 0;
  std::size_t mine_ = 0;  // the calling thread's part: [0, mine_)
  std::thread helper_;
};

}  // namespace vpo::jobs
