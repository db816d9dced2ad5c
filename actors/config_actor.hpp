// config_actor.hpp: owns the effective settings and answers for them (`get_atom` -> settings).
#pragma once

#include <caf/fwd.hpp>

#include "config/settings.hpp"

namespace vpo::actors {

caf::actor spawn_config_actor(caf::actor_system& sys, config::settings settings);

}  // namespace vpo::actors
