// config_actor.hpp: owns the effective settings, answers for them (`get_atom` -> settings) and
// reloads them on SIGHUP (`signal_msg`), publishing what changed.
#pragma once

#include <caf/fwd.hpp>

#include "config/loader.hpp"
#include "config/settings.hpp"

namespace vpo::actors {

/// `input` is what the start-up load read (the CLI values and the environment lookup): a reload
/// re-applies every layer with it, so command-line flags still win.
caf::actor spawn_config_actor(caf::actor_system& sys, config::settings settings,
                              config::load_input input, bool file_loaded);

}  // namespace vpo::actors
