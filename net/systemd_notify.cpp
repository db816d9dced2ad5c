// systemd_notify.cpp: thin wrappers over libsystemd's sd_notify.
#include "net/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <time.h>

#include <cstdint>

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
void extend_timeout(std::chrono::microseconds by) {
  sd_notify(0, ("EXTEND_TIMEOUT_USEC=" + std::to_string(by.count())).c_str());
}

}  // namespace vpo::net::systemd
