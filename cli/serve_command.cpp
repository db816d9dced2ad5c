// serve_command.cpp: `vpo serve` (the daemon itself arrives with the actor core).
#include "cli/serve_command.hpp"

#include "cli/exit_codes.hpp"
#include "logging/log.hpp"

namespace vpo::cli {

int run_serve(const config::settings& settings) {
  (void)settings;
  logging::logger("vpo.serve")
      .error(
          "vpo serve is not implemented yet: configuration is valid, but the daemon does not "
          "exist in this build. Use 'vpo serve --check' to validate configuration.");
  return exit_code::startup_failure;
}

}  // namespace vpo::cli
