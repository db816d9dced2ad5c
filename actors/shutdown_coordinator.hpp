// shutdown_coordinator.hpp: signal -> drain(deadline) to every participant -> drained replies ->
// exit 0; or deadline/SIGQUIT -> force -> exit 128 + signo. Reports to `report_to`.
#pragma once

#include <caf/fwd.hpp>
#include <chrono>

namespace vpo::actors {

/// Participants register with `register_atom, actor`; they must answer `drain_atom, int64 ms`
/// with `drained_atom, participant_report` and `force_atom` with `forced_atom,
/// participant_report` (within 1 s). The coordinator sends one `shutdown_report` to
/// `report_to` and then waits to be stopped.
/// A SIGHUP goes on to `config` (the reload) unless a drain has begun; `config` may be invalid.
caf::actor spawn_shutdown_coordinator(caf::actor_system& sys, const caf::actor& report_to,
                                      const caf::actor& config,
                                      std::chrono::milliseconds shutdown_timeout);

}  // namespace vpo::actors
