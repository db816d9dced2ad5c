// systemd_notify.hpp: sd_notify messages (READY, STOPPING, STATUS, WATCHDOG); no-ops without
// NOTIFY_SOCKET.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace vpo::os::systemd {

void ready();
/// RELOADING=1 (with MONOTONIC_USEC): a SIGHUP reload begins; `ready()` ends it.
void reloading();
void stopping();
void status(const std::string& text);
/// Half of WATCHDOG_USEC when systemd's watchdog is on for this process (WatchdogSec=), else 0.
std::chrono::microseconds watchdog_interval();
/// WATCHDOG=1: the daemon is alive.
void watchdog();
/// The sockets systemd passed (socket activation: LISTEN_FDS/LISTEN_PID for this process), in
/// order; empty when none. The environment is left as it is (no thread races with unsetenv).
std::vector<int> listen_fds();
/// The stop timeout (TimeoutStopSec=) of the systemd service this process runs in, asked from
/// systemd over D-Bus (at most 0.5 s); nullopt when not under systemd or when it cannot be read
/// (no system bus). `infinity` reads as microseconds::max().
std::optional<std::chrono::microseconds> unit_stop_timeout();
/// EXTEND_TIMEOUT_USEC: a drain makes progress; systemd waits at least `by` from now.
void extend_timeout(std::chrono::microseconds by);

}  // namespace vpo::os::systemd
