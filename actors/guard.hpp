// guard.hpp: what every actor installs first: unexpected messages and exceptions go through
// vpo's logger, and an exception ends the actor with a vpo error (never std::terminate), which its
// supervisor (or the actor it is linked to) turns into a clean stop of the daemon with exit 1.
#pragma once

#include <caf/scheduled_actor.hpp>

namespace vpo::actors {

/// Replaces CAF's default handler for unexpected messages (which prints to stdout with `aout`)
/// by a WARNING record (the message is dropped as before), and CAF's exception handler (which
/// prints to stdout too) by an ERROR record naming the actor and the exception; the actor then
/// ends with `errc::internal` (actors/errors.hpp), and a monitoring supervisor stops the daemon.
void install_guards(caf::scheduled_actor* self, const char* actor_name);

}  // namespace vpo::actors
