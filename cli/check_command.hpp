// check_command.hpp: `vpo serve --check`: the effective configuration and the shutdown timeline.
#pragma once

#include <string>

#include "config/loader.hpp"

namespace vpo::cli {

/// The report `--check` prints for a valid configuration (values, origins, shutdown timeline).
std::string check_report(const config::loaded_config& loaded);

/// Prints the report to stdout; returns the exit code (0: valid).
int run_check(const config::loaded_config& loaded);

}  // namespace vpo::cli
