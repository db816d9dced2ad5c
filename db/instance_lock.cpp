// instance_lock.cpp: flock-based single-instance lock that records the holder's pid.
#include "db/instance_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vpo::db {

instance_lock::~instance_lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock; the file stays (harmless)
}

std::string instance_lock::acquire(const std::string& database_path) {
  path_ = database_path + ".lock";
  int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return "cannot create the instance lock file " + path_ + ": " + std::strerror(errno) +
           ". Check the permissions of the database folder.";
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    if (err == EWOULDBLOCK)
      return "another vpo serve" + (holder.empty() ? "" : " (pid " + holder + ")") +
             " is already using database " + database_path + " (lock " + path_ +
             "). Stop it first, or give this instance its own --db.";
    return "cannot lock " + path_ + ": " + std::strerror(err);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
  fd_ = fd;
  return {};
}

}  // namespace vpo::db
