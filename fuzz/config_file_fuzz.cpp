// config_file_fuzz.cpp: the config loader pointed at any kind of file: the first input byte
// chooses what the path is (a regular file of the rest of the input, a file over the size limit,
// a FIFO with or without a writer, a symlink to /dev/zero or /dev/null, a dangling or looping
// symlink, a directory, a socket); the load returns at once (never reads a non-regular file,
// never waits), refuses everything but a regular file of at most 1 MiB with a message naming the
// path, and never crashes.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "config/file_read.hpp"
#include "config/loader.hpp"
#include "fuzz/fuzz_check.hpp"

using namespace vpo;

namespace {

const std::string& work_dir() {
  static const std::string dir = [] {
    char name[] = "/tmp/vpo-config-file-fuzz-XXXXXX";
    return std::string(::mkdtemp(name) ? name : "/tmp");
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string content(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string path = work_dir() + "/config.toml";
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  int kind = data[0] % 10;
  int writer = -1, sock = -1;
  bool regular = false;
  switch (kind) {
    case 0: {  // a regular file of the input
      if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(content.data(), 1, content.size(), f);
        std::fclose(f);
      }
      regular = true;
      break;
    }
    case 1:  // a sparse file just over the limit
      if (int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, 0600); fd >= 0) {
        if (::ftruncate(fd, static_cast<off_t>(config::max_config_bytes) + 1 + content.size()) !=
            0) {
        }
        ::close(fd);
      }
      break;
    case 2:  // a FIFO nobody writes to
      ::mkfifo(path.c_str(), 0600);
      break;
    case 3:  // a FIFO with a writer holding it open
      ::mkfifo(path.c_str(), 0600);
      writer = ::open(path.c_str(), O_RDWR | O_NONBLOCK);
      if (writer >= 0 && ::write(writer, content.data(), content.size()) < 0) {
      }
      break;
    case 4:
      ::symlink("/dev/zero", path.c_str());
      break;
    case 5:
      ::symlink("/dev/null", path.c_str());
      break;
    case 6:
      ::symlink((work_dir() + "/nowhere").c_str(), path.c_str());
      break;
    case 7:
      ::symlink(path.c_str(), path.c_str());  // a loop
      break;
    case 8:
      ::mkdir(path.c_str(), 0700);
      break;
    case 9: {
      sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
      if (sock >= 0 && ::bind(sock, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      }
      break;
    }
  }
  config::load_input in;
  in.cli["config"] = path;
  in.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto started = std::chrono::steady_clock::now();
  auto loaded = config::load(in);
  auto took = std::chrono::steady_clock::now() - started;
  if (writer >= 0) ::close(writer);
  if (sock >= 0) ::close(sock);
  if (took > std::chrono::seconds(2)) fuzz::violated("the load waited", std::to_string(kind));
  if (!regular) {
    if (loaded.errors.empty())
      fuzz::violated("a file that is not regular was accepted", std::to_string(kind));
    if (loaded.errors[0].message.find(path) == std::string::npos)
      fuzz::violated("the error does not name the path", loaded.errors[0].message);
  }
  for (const auto* list : {&loaded.errors, &loaded.warnings})
    for (const auto& p : *list)
      if (p.message.empty()) fuzz::violated("a problem without a message", p.key);
  return 0;
}
