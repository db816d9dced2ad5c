// serve_command.hpp: `vpo serve`: runs the daemon in the foreground until a signal stops it.
#pragma once

#include "config/loader.hpp"

namespace vpo::cli {

/// Runs the daemon with a validated load (and its inputs, for SIGHUP reloads); returns the
/// process exit code.
int run_serve(const config::loaded_config& loaded, const config::load_input& input);

}  // namespace vpo::cli
