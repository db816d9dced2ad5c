// unexpected.hpp: routes CAF's "unexpected message" reports through vpo's logger.
#pragma once

#include <caf/scheduled_actor.hpp>

#include "logging/log.hpp"

namespace vpo::actors {

/// Replaces CAF's default handler (which prints to stdout with `aout`) by a WARNING record; the
/// message is dropped as before.
inline void log_unexpected_messages(caf::scheduled_actor* self, const char* actor_name) {
  self->set_default_handler(
      [actor_name](caf::scheduled_actor* s, caf::message_view& x) -> caf::result<caf::message> {
        logging::logger("vpo.actors")
            .warn(std::string("unexpected message dropped by ") + actor_name + ": " +
                      caf::to_string(x.content()),
                  {{"actor", actor_name}});
        return caf::drop(s, x);
      });
}

}  // namespace vpo::actors
