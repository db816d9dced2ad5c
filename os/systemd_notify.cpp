// systemd_notify.cpp: the notify, socket-activation and watchdog protocols of sd_notify(3),
// sd_listen_fds(3) and sd_watchdog_enabled(3), written out (a datagram, a few environment
// variables): linking libsystemd for them loaded seven shared libraries at every start (~1 ms,
// and their pages). Only the unit's stop timeout is asked over D-Bus, through libsystemd loaded
// at that moment (dlopen), and only under systemd (where the .deb's systemd dependency brings
// it).
#include "os/systemd_notify.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>    // the D-Bus call's types; the functions come from dlopen
#include <systemd/sd-login.h>  // sd_pid_get_unit's type
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace vpo::os::systemd {
namespace {

template <class T>
bool parse_env(const char* name, T& out) {
  const char* v = std::getenv(name);
  if (!v || !*v) return false;
  std::string_view s(v);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// One datagram to NOTIFY_SOCKET (a path, or an abstract socket written with a leading '@').
bool notify(const std::string& message) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (!env || !*env) return false;
  std::string_view path(env);
  sockaddr_un addr{};
  if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
  auto len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '/'));
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t n = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&addr), len);
  ::close(fd);
  return n == static_cast<ssize_t>(message.size());
}

}  // namespace

void ready() {
  notify("READY=1");  // STATUS= (serving, with counts) comes from the gateway
}
void reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
              static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}
void stopping() {
  notify("STOPPING=1\nSTATUS=draining");
}
void status(const std::string& text) {
  notify("STATUS=" + text);
}
std::chrono::microseconds watchdog_interval() {
  // WATCHDOG_USEC, for this process when WATCHDOG_PID is set (sd_watchdog_enabled(3)).
  std::uint64_t usec = 0;
  if (!parse_env("WATCHDOG_USEC", usec) || usec == 0) return std::chrono::microseconds(0);
  if (std::getenv("WATCHDOG_PID")) {
    pid_t pid = 0;
    if (!parse_env("WATCHDOG_PID", pid) || pid != ::getpid()) return std::chrono::microseconds(0);
  }
  return std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
}
void watchdog() {
  notify("WATCHDOG=1");
}

std::optional<std::chrono::microseconds> unit_stop_timeout() {
  if (!std::getenv("INVOCATION_ID")) return std::nullopt;  // not started by systemd
  // Kept loaded once opened (libsystemd is not made to be unloaded).
  void* lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return std::nullopt;
  auto pid_get_unit = reinterpret_cast<decltype(&sd_pid_get_unit)>(dlsym(lib, "sd_pid_get_unit"));
  auto open_system =
      reinterpret_cast<decltype(&sd_bus_open_system)>(dlsym(lib, "sd_bus_open_system"));
  auto close_unref =
      reinterpret_cast<decltype(&sd_bus_flush_close_unref)>(dlsym(lib, "sd_bus_flush_close_unref"));
  auto set_timeout = reinterpret_cast<decltype(&sd_bus_set_method_call_timeout)>(
      dlsym(lib, "sd_bus_set_method_call_timeout"));
  auto path_encode =
      reinterpret_cast<decltype(&sd_bus_path_encode)>(dlsym(lib, "sd_bus_path_encode"));
  auto get_property = reinterpret_cast<decltype(&sd_bus_get_property_trivial)>(
      dlsym(lib, "sd_bus_get_property_trivial"));
  auto error_free = reinterpret_cast<decltype(&sd_bus_error_free)>(dlsym(lib, "sd_bus_error_free"));
  if (!pid_get_unit || !open_system || !close_unref || !set_timeout || !path_encode ||
      !get_property || !error_free)
    return std::nullopt;

  char* unit = nullptr;
  if (pid_get_unit(0, &unit) < 0 || !unit) return std::nullopt;
  std::unique_ptr<char, decltype(&std::free)> unit_guard(unit, &std::free);
  sd_bus* bus = nullptr;
  if (open_system(&bus) < 0) return std::nullopt;
  std::unique_ptr<sd_bus, decltype(close_unref)> bus_guard(bus, close_unref);
  set_timeout(bus, 500000);
  char* path = nullptr;
  if (path_encode("/org/freedesktop/systemd1/unit", unit, &path) < 0) return std::nullopt;
  std::unique_ptr<char, decltype(&std::free)> path_guard(path, &std::free);
  sd_bus_error error = SD_BUS_ERROR_NULL;
  std::uint64_t usec = 0;
  int r = get_property(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Service",
                       "TimeoutStopUSec", &error, 't', &usec);
  error_free(&error);
  if (r < 0) return std::nullopt;
  if (usec == UINT64_MAX) return std::chrono::microseconds::max();
  return std::chrono::microseconds(static_cast<std::int64_t>(usec));
}

std::vector<int> listen_fds() {
  // LISTEN_FDS sockets from fd 3 on, when LISTEN_PID is this process (sd_listen_fds(3)); they
  // are made close-on-exec as sd_listen_fds does.
  constexpr int first = 3;
  std::vector<int> fds;
  pid_t pid = 0;
  int n = 0;
  if (!parse_env("LISTEN_PID", pid) || pid != ::getpid()) return fds;
  if (!parse_env("LISTEN_FDS", n) || n <= 0 || n > 4096) return fds;
  for (int fd = first; fd < first + n; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
      return {};  // not open: the environment lies (sd_listen_fds fails too)
    fds.push_back(fd);
  }
  return fds;
}
void extend_timeout(std::chrono::microseconds by) {
  notify("EXTEND_TIMEOUT_USEC=" + std::to_string(by.count()));
}

}  // namespace vpo::os::systemd
