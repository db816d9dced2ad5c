// config_actor.cpp: the settings' single owner (SIGHUP reload will live here).
#include "actors/config_actor.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/unexpected.hpp"

namespace vpo::actors {
namespace {

struct config_state {
  config::settings settings;
  static inline const char* name = "vpo.config";
};

caf::behavior config_impl(caf::stateful_actor<config_state>* self, config::settings settings) {
  log_unexpected_messages(self, "config");
  self->state.settings = std::move(settings);
  return {
      [=](caf::get_atom) { return self->state.settings; },
  };
}

}  // namespace

caf::actor spawn_config_actor(caf::actor_system& sys, config::settings settings) {
  return sys.spawn(config_impl, std::move(settings));
}

}  // namespace vpo::actors
