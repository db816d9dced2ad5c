// temp_dir.hpp: a private temporary folder for one test, removed with everything in it.
#pragma once

#include <string>

namespace vpo::test {

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  /// path() + "/" + name
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  /// Writes `content` to `name` inside the folder and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

/// A small file system of its own (tmpfs, needs root) in a temp folder, unmounted at the end;
/// for filling a disk. ok() is false where it cannot be mounted (not root, no permission).
class tmpfs_mount {
 public:
  explicit tmpfs_mount(const std::string& size);
  ~tmpfs_mount();
  tmpfs_mount(const tmpfs_mount&) = delete;
  tmpfs_mount& operator=(const tmpfs_mount&) = delete;
  bool ok() const { return mounted_; }
  const std::string& path() const { return path_; }

 private:
  temp_dir dir_;
  std::string path_;
  bool mounted_ = false;
};

/// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::string& path);

}  // namespace vpo::test
