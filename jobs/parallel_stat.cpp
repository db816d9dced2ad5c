// parallel_stat.cpp: the helper thread takes the second half of each list.
#include "jobs/parallel_stat.hpp"

#include <fcntl.h>

namespace vpo::jobs {
namespace {

void stat_range(int dirfd, const std::vector<std::string>& names, std::vector<struct stat>& out,
                std::vector<char>& ok, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i)
    ok[i] = ::fstatat(dirfd, names[i].c_str(), &out[i], AT_SYMLINK_NOFOLLOW) == 0 ? 1 : 0;
}

}  // namespace

parallel_stat::parallel_stat() : helper_([this] { helper_loop(); }) {}

parallel_stat::~parallel_stat() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  helper_.join();
}

void parallel_stat::helper_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || has_work_; });
    if (stop_) return;
    lock.unlock();
    stat_range(dirfd_, *names_, *out_, *ok_, from_, to_);
    lock.lock();
    has_work_ = false;
    done_.notify_one();
  }
}

void parallel_stat::start(int dirfd, const std::vector<std::string>& names,
                          std::vector<struct stat>& out, std::vector<char>& ok,
                          double helper_share) {
  out.resize(names.size());
  ok.assign(names.size(), 0);
  dirfd_ = dirfd;
  names_ = &names;
  out_ = &out;
  ok_ = &ok;
  // Small lists are not worth a wake-up of the helper.
  mine_ = names.size() < 64
              ? names.size()
              : names.size() -
                    static_cast<std::size_t>(static_cast<double>(names.size()) * helper_share);
  if (mine_ == names.size()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    from_ = mine_;
    to_ = names.size();
    has_work_ = true;
  }
  wake_.notify_one();
}

void parallel_stat::finish() {
  if (!names_) return;
  stat_range(dirfd_, *names_, *out_, *ok_, 0, mine_);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return !has_work_; });
  names_ = nullptr;
}

}  // namespace vpo::jobs
