// file_read.cpp: a bounded, non-blocking, regular-file-only read.
#include "config/file_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <memory>
#include <thread>

namespace vpo::config {
namespace {

bounded_read read_now(const std::string& path, std::size_t max_bytes) {
  bounded_read out;
  // O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting for one.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    out.err = errno;
    return out;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    out.err = errno;
  } else if (S_ISDIR(st.st_mode)) {
    out.err = EISDIR;
  } else if (!S_ISREG(st.st_mode)) {
    out.problem = std::string("it is ") + file_kind(st.st_mode) + ", not a regular file";
    out.fix = "Point it at a regular file (a symlink to one is fine)";
  } else if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
    out.problem = "it is " + std::to_string(st.st_size) + " bytes, more than the " +
                  std::to_string(max_bytes / 1024) + " KiB a config file may have";
    out.fix = "Is it the right file?";
  }
  if (out.err != 0 || !out.problem.empty()) {
    ::close(fd);
    return out;
  }
  std::string content;
  content.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      out.err = errno;
      break;
    }
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
    if (content.size() > max_bytes) {  // it grew while being read
      out.problem = "it grew past the " + std::to_string(max_bytes / 1024) +
                    " KiB a config file may have while it was read";
      out.fix = "Is it the right file?";
      break;
    }
  }
  ::close(fd);
  if (out.err == 0 && out.problem.empty()) out.content = std::move(content);
  return out;
}

}  // namespace

const char* file_kind(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}

bounded_read read_bounded_file(const std::string& path, std::size_t max_bytes,
                               std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<bounded_read>>();
  auto result = done->get_future();
  std::thread([done, path, max_bytes] { done->set_value(read_now(path, max_bytes)); }).detach();
  if (result.wait_for(timeout) == std::future_status::ready) return result.get();
  bounded_read late;
  late.problem = "reading it took more than " + std::to_string(timeout.count() / 1000) +
                 " s (a hung network mount?)";
  late.fix = "Check the file system it is on";
  return late;
}

}  // namespace vpo::config
