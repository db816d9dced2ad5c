// temp_dir.cpp: mkdtemp-based temporary folders for tests.
#include "tests/support/temp_dir.hpp"

#include <cstdlib>

#include <unistd.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vpo::test {

temp_dir::temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "vpo-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  // Tests may remove permissions; restore them so cleanup cannot fail half way.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::write(const std::string& name, const std::string& content) const {
  std::string p = file(name);
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

tmpfs_mount::tmpfs_mount(const std::string& size) : path_(dir_.file("fs")) {
  std::filesystem::create_directories(path_);
  mounted_ =
      ::geteuid() == 0 &&
      std::system(
          ("mount -t tmpfs -o size=" + size + " tmpfs '" + path_ + "' 2>/dev/null").c_str()) == 0;
}

tmpfs_mount::~tmpfs_mount() {
  if (mounted_) (void)std::system(("umount -l '" + path_ + "'").c_str());
}

}  // namespace vpo::test
