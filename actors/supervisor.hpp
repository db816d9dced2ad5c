// supervisor.hpp: spawns config -> db_health -> http_gateway -> shutdown_coordinator in order,
// monitors them, stops them in reverse order, and hands the final report to main.
#pragma once

#include <caf/fwd.hpp>

#include "config/settings.hpp"

namespace vpo::actors {

/// `run_atom` starts everything and replies `shutdown_report` when the daemon has stopped
/// (startup failure: exit_code 1). Signals arrive as `signal_msg`.
caf::actor spawn_supervisor(caf::actor_system& sys, config::settings settings);

}  // namespace vpo::actors
