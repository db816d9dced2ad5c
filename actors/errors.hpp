// errors.hpp: vpo's errors at the actor edge: a vpo::error (util/error.hpp) travels between
// actors as a caf::error of the registered category "vpo" (code = the errc value, context = the
// message), and back. CAF's own errors (a request timeout, a dead receiver) read as vpo kinds.
#pragma once

#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "util/error.hpp"

namespace vpo::actors {

/// The category atom of vpo's errors in CAF.
caf::atom_value error_category();

/// `e` as a caf::error ("vpo" category); a success gives an empty caf::error.
caf::error to_caf(const vpo::error& e);
/// A caf::error as a vpo::error: vpo's own with their kind and message; CAF's request timeout
/// as errc::timeout; a receiver that is gone as errc::unavailable; anything else errc::internal,
/// with `sys.render(e)` as the message.
vpo::error from_caf(const caf::actor_system& sys, const caf::error& e);

/// Registers the "vpo" category's renderer ("vpo: busy (the message)"), so `render()` and the
/// logs name vpo errors in words. Call on every actor_system_config vpo creates.
void register_errors(caf::actor_system_config& cfg);

}  // namespace vpo::actors
