// folder_lister.cpp: helper threads take folders from a shared list, list them in chunks, and
// add their subfolders to the list.
#include "jobs/folder_lister.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "jobs/scan.hpp"

namespace vpo::jobs {
namespace {

constexpr std::size_t chunk_files = 2048;     // video files per chunk at most
constexpr std::size_t chunk_entries = 16384;  // entries read per chunk at most

std::string join(const std::string& dir, const char* name) {
  return dir == "/" ? "/" + std::string(name) : dir + "/" + name;
}

}  // namespace

folder_lister::folder_lister(std::string root, int threads, std::size_t buffered_files)
    : cap_(buffered_files), root_(std::move(root)) {
  todo_.push_back({root_, 1.0});
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { run(); });
}

folder_lister::~folder_lister() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  for_work_.notify_all();
  for (auto& t : threads_) t.join();
}

folder_lister::result folder_lister::next(std::chrono::steady_clock::time_point deadline,
                                          listed_chunk& out) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto have = [&] { return !ready_.empty() || (todo_.empty() && busy_ == 0); };
  if (!for_chunks_.wait_until(lock, deadline, have)) return result::timeout;
  if (ready_.empty()) return result::done;
  out = std::move(ready_.front());
  ready_.pop_front();
  bool was_full = buffered_ >= cap_;
  buffered_ -= out.names.size();
  lock.unlock();
  if (was_full) for_work_.notify_all();
  return result::chunk;
}

void folder_lister::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    for_work_.wait(lock, [&] { return stop_ || !todo_.empty() || busy_ == 0; });
    if (stop_) return;
    if (todo_.empty()) {  // nothing left and nobody listing: the tree is done
      for_chunks_.notify_all();
      for_work_.notify_all();
      return;
    }
    task t = std::move(todo_.back());  // depth first: the walk's memory stays small
    todo_.pop_back();
    ++busy_;
    lock.unlock();
    list(std::move(t));
    lock.lock();
    --busy_;
    for_work_.notify_all();  // new folders, or the end
    if (todo_.empty() && busy_ == 0) for_chunks_.notify_all();
  }
}

bool folder_lister::push(listed_chunk&& c) {
  std::unique_lock<std::mutex> lock(mutex_);
  for_work_.wait(lock, [&] { return stop_ || buffered_ < cap_; });
  if (stop_) return false;
  buffered_ += c.names.size();
  ready_.push_back(std::move(c));
  lock.unlock();
  for_chunks_.notify_one();
  return true;
}

void folder_lister::list(task t) {
  listed_chunk c;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    c.folder = next_folder_++;
  }
  c.path = t.path;
  auto fail = [&](int e) {
    c.unreadable = c.last = true;
    c.error = std::strerror(e);
    c.share = t.share;  // nothing below it is listed
    push(std::move(c));
  };
  int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (t.path == root_ ? 0 : O_NOFOLLOW);
  int fd = ::open(t.path.c_str(), flags);
  if (fd < 0) return fail(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return fail(e);
  }
  bool fresh;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fresh = visited_.insert({st.st_dev, st.st_ino}).second;
  }
  if (!fresh) {
    ::close(fd);
    c.walked_already = c.last = true;
    c.share = t.share;
    push(std::move(c));
    return;
  }
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int e = errno;
    ::close(fd);
    return fail(e);
  }
  std::vector<std::string> subdirs;
  std::size_t read = 0;
  for (;;) {
    if ((read & 63) == 0 && stopping_.load(std::memory_order_relaxed)) {
      ::closedir(d);
      return;
    }
    errno = 0;
    const dirent* e = ::readdir(d);
    if (!e) {
      c.end_errno = errno;
      break;
    }
    const char* name = e->d_name;
    if (name[0] != '.') {  // ".", ".." and hidden entries
      unsigned char type = e->d_type;
      struct stat fst {};
      bool have_stat = false;
      if (type == DT_UNKNOWN) {  // some file systems do not say: ask
        if (::fstatat(dirfd(d), name, &fst, AT_SYMLINK_NOFOLLOW) != 0) continue;
        have_stat = true;
        type = S_ISDIR(fst.st_mode) ? DT_DIR : S_ISREG(fst.st_mode) ? DT_REG : DT_UNKNOWN;
      }
      if (type == DT_DIR) {
        subdirs.emplace_back(name);
      } else if (type == DT_REG && is_video_name(name, std::strlen(name))) {
        file_stat fs;
        if (have_stat || ::fstatat(dirfd(d), name, &fst, AT_SYMLINK_NOFOLLOW) == 0) {
          fs.ok = S_ISREG(fst.st_mode);
          fs.size = static_cast<long long>(fst.st_size);
          fs.mtime_ns = static_cast<long long>(fst.st_mtim.tv_sec) * 1000000000LL +
                        static_cast<long long>(fst.st_mtim.tv_nsec);
        }
        c.names.emplace_back(name);
        c.stats.push_back(fs);
      }
    }
    if (c.names.size() >= chunk_files || ++read >= chunk_entries) {
      read = 0;
      listed_chunk next;
      next.folder = c.folder;
      next.path = c.path;
      if (!push(std::move(c))) {
        ::closedir(d);
        return;
      }
      c = std::move(next);
    }
  }
  ::closedir(d);
  double part = t.share / static_cast<double>(subdirs.size() + 1);
  c.last = true;
  c.share = part;
  std::sort(subdirs.begin(), subdirs.end());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it)
      todo_.push_back({join(t.path, it->c_str()), part});
  }
  c.subdirs = std::move(subdirs);
  push(std::move(c));
}

}  // namespace vpo::jobs
