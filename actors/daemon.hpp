// daemon.hpp: runs `vpo serve`: actor system, supervisor, signal thread, final summary.
#pragma once

#include "config/loader.hpp"

namespace vpo::actors {

/// Runs the daemon until it stops; returns the process exit code. Expects the daemon's
/// signals to be blocked already (net::block_daemon_signals) and logging to be set up.
/// `input` and `file_loaded` are what the start-up load used: a SIGHUP reload loads again with
/// them.
int run_daemon(const config::settings& settings, const config::load_input& input, bool file_loaded);

}  // namespace vpo::actors
