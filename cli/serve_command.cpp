// serve_command.cpp: `vpo serve`: hands validated settings to the actor core.
#include "cli/serve_command.hpp"

#include "actors/daemon.hpp"

namespace vpo::cli {

int run_serve(const config::settings& settings) {
  return actors::run_daemon(settings);
}

}  // namespace vpo::cli
