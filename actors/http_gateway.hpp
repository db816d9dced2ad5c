// http_gateway.hpp: owns net::server; the bridge where HTTP requests become messages.
#pragma once

#include <caf/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "config/settings.hpp"

namespace vpo::actors {

struct http_gateway_options {
  std::string bind;
  std::uint16_t port = 0;
  std::optional<std::string> auth_token;   ///< when set, /api/* needs `Bearer <token>`
  bool allow_unauthenticated = false;      ///< permits a non-loopback bind without a token
  config::rate_limit_settings rate_limit;  ///< per client address, on /api/* only
};

/// `init_atom` binds and starts serving (health says `starting`), replying `init_result`;
/// `ready_atom` flips health to ready; `db_status` updates it; `drain_atom, int64` replies
/// `drained_atom, participant_report` once no request is in flight; `force_atom` closes all.
/// `config_update` (a SIGHUP reload) replies "" once the token and the reload state apply, or
/// why it refuses; `net::reload_status` updates /health's reload fields.
/// `job_counts` updates the health snapshot's jobs; `/api/jobs...` requests go to `jobs`
/// (a job_queue) as `job_query` with a 5 s timeout.
caf::actor spawn_http_gateway(caf::actor_system& sys, http_gateway_options options,
                              const caf::actor& jobs);

}  // namespace vpo::actors
