// instance_lock.hpp: one `vpo serve` per database, enforced with flock on `<database>.lock`.
#pragma once

#include <string>

namespace vpo::db {

/// Holds an exclusive flock on a lock file beside the database until destroyed.
/// The database file itself is never opened outside SQLite (POSIX locks are per process).
class instance_lock {
 public:
  instance_lock() = default;
  ~instance_lock();
  instance_lock(instance_lock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  instance_lock& operator=(instance_lock&&) = delete;
  instance_lock(const instance_lock&) = delete;

  /// Takes the lock for `database_path`; returns an empty string or a complete error message.
  std::string acquire(const std::string& database_path);
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace vpo::db
