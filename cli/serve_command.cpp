// serve_command.cpp: `vpo serve`: hands validated settings to the actor core.
#include "cli/serve_command.hpp"

#include "actors/daemon.hpp"

namespace vpo::cli {

int run_serve(const config::loaded_config& loaded, const config::load_input& input) {
  return actors::run_daemon(loaded.values, input, loaded.config_file_loaded);
}

}  // namespace vpo::cli
