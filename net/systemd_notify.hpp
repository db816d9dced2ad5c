// systemd_notify.hpp: sd_notify messages (READY, STOPPING, STATUS, WATCHDOG); no-ops without
// NOTIFY_SOCKET.
#pragma once

#include <chrono>
#include <string>

namespace vpo::net::systemd {

void ready();
/// RELOADING=1 (with MONOTONIC_USEC): a SIGHUP reload begins; `ready()` ends it.
void reloading();
void stopping();
void status(const std::string& text);
/// Half of WATCHDOG_USEC when systemd's watchdog is on for this process (WatchdogSec=), else 0.
std::chrono::microseconds watchdog_interval();
/// WATCHDOG=1: the daemon is alive.
void watchdog();
/// EXTEND_TIMEOUT_USEC: a drain makes progress; systemd waits at least `by` from now.
void extend_timeout(std::chrono::microseconds by);

}  // namespace vpo::net::systemd
