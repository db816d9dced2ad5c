// daemon.hpp: runs `vpo serve`: actor system, supervisor, signal thread, final summary.
#pragma once

#include "config/settings.hpp"

namespace vpo::actors {

/// Runs the daemon until it stops; returns the process exit code. Expects the daemon's
/// signals to be blocked already (net::block_daemon_signals) and logging to be set up.
int run_daemon(const config::settings& settings);

}  // namespace vpo::actors
