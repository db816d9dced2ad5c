// systemd_notify.cpp: thin wrappers over libsystemd's sd_notify.
#include "net/systemd_notify.hpp"

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>

#include <time.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace vpo::net::systemd {

void ready() {
  sd_notify(0, "READY=1");  // STATUS= (serving, with counts) comes from the gateway
}
void reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
              static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  sd_notify(0, ("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec)).c_str());
}
void stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=draining");
}
void status(const std::string& text) {
  sd_notify(0, ("STATUS=" + text).c_str());
}
std::chrono::microseconds watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(usec / 2);
}
void watchdog() {
  sd_notify(0, "WATCHDOG=1");
}
std::optional<std::chrono::microseconds> unit_stop_timeout() {
  if (!std::getenv("INVOCATION_ID")) return std::nullopt;  // not started by systemd
  char* unit = nullptr;
  if (sd_pid_get_unit(0, &unit) < 0 || !unit) return std::nullopt;
  std::unique_ptr<char, decltype(&std::free)> unit_guard(unit, &std::free);
  sd_bus* bus = nullptr;
  if (sd_bus_open_system(&bus) < 0) return std::nullopt;
  std::unique_ptr<sd_bus, decltype(&sd_bus_flush_close_unref)> bus_guard(bus,
                                                                         &sd_bus_flush_close_unref);
  sd_bus_set_method_call_timeout(bus, 500000);
  char* path = nullptr;
  if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path) < 0) return std::nullopt;
  std::unique_ptr<char, decltype(&std::free)> path_guard(path, &std::free);
  sd_bus_error error = SD_BUS_ERROR_NULL;
  std::uint64_t usec = 0;
  int r = sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path,
                                      "org.freedesktop.systemd1.Service", "TimeoutStopUSec", &error,
                                      't', &usec);
  sd_bus_error_free(&error);
  if (r < 0) return std::nullopt;
  if (usec == UINT64_MAX) return std::chrono::microseconds::max();
  return std::chrono::microseconds(static_cast<std::int64_t>(usec));
}

std::vector<int> listen_fds() {
  std::vector<int> fds;
  int n = sd_listen_fds(0);
  for (int i = 0; i < n; ++i) fds.push_back(SD_LISTEN_FDS_START + i);
  return fds;
}
void extend_timeout(std::chrono::microseconds by) {
  sd_notify(0, ("EXTEND_TIMEOUT_USEC=" + std::to_string(by.count())).c_str());
}

}  // namespace vpo::net::systemd
