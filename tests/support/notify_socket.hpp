// notify_socket.hpp: a stand-in for systemd's notify socket (NOTIFY_SOCKET): collects what the
// daemon sends with sd_notify.
#pragma once

#include <chrono>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace vpo::test {

class notify_socket {
 public:
  notify_socket();
  ~notify_socket();
  notify_socket(const notify_socket&) = delete;
  notify_socket& operator=(const notify_socket&) = delete;
  /// The socket's path: pass it as NOTIFY_SOCKET.
  const std::string& path() const { return path_; }
  /// The next datagram within `timeout`, or "" (none came).
  std::string next(std::chrono::milliseconds timeout);
  /// Waits until a datagram contains `needle`; what came before it is dropped.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout);
  /// How many datagrams containing `needle` come within `window`.
  int count(const std::string& needle, std::chrono::milliseconds window);

 private:
  temp_dir dir_;
  std::string path_;
  int fd_ = -1;
};

}  // namespace vpo::test
