// serve_command.hpp: `vpo serve`: runs the daemon in the foreground until a signal stops it.
#pragma once

#include "config/settings.hpp"

namespace vpo::cli {

/// Runs the daemon with validated settings; returns the process exit code.
int run_serve(const config::settings& settings);

}  // namespace vpo::cli
