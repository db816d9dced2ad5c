// supervisor.hpp: spawns config -> db_health -> job_queue (with the store, the reader and the
// workers) and http_gateway -> shutdown_coordinator in order, monitors and links them, stops them
// in reverse order, and hands the final report to main.
#pragma once

#include <caf/fwd.hpp>

#include "config/loader.hpp"

namespace vpo::actors {

/// `run_atom` starts everything and replies `shutdown_report` when the daemon has stopped
/// (startup failure: exit_code 1). Signals arrive as `signal_msg`.
/// `input` and `file_loaded` go to the config actor for SIGHUP reloads.
caf::actor spawn_supervisor(caf::actor_system& sys, config::settings settings,
                            config::load_input input, bool file_loaded);

}  // namespace vpo::actors
