// health.hpp: the health snapshot the actors publish, and the probe answers rendered from it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "net/http_types.hpp"

namespace vpo::net {

/// The last SIGHUP reloads, as /health shows them (the names VPO uses).
struct reload_status {
  std::string error;       ///< `config_reload_error`: why the last reload failed; empty: null
  std::string last;        ///< `last_config_reload`: RFC 3339 time of the last applied one
  std::int64_t count = 0;  ///< `config_reload_count`: reloads that applied a change
};

/// What /health, /readyz report; pushed by http_gateway whenever a fact changes.
struct health_snapshot {
  bool ready = false;  ///< startup finished (bound, READY=1 sent)
  bool database_connected = false;
  std::string database_reason;  ///< why disconnected (for /readyz)
  bool shutting_down = false;
  std::string drain_phase;  ///< empty when not draining
  std::chrono::steady_clock::time_point drain_deadline{};
  long jobs_in_flight = 0;
  std::string jobs_json;     ///< pre-rendered `{"queued":..}` object; empty: omitted
  std::string jobs_metrics;  ///< pre-rendered `vpo_jobs*` exposition lines (for /metrics)
  reload_status reload;
};

/// The contract's status table: starting / healthy / degraded / unhealthy.
const char* health_status(const health_snapshot& s);

/// /health's answer for one snapshot, in the pieces that do not change from probe to probe:
/// the body is `head`, the uptime, `middle`, then the drain (render_drain). Made when a snapshot
/// is published, so a probe only formats its numbers (no allocation on the probe path).
struct health_parts {
  int status = 503;
  std::string head;    ///< `{"status":…,"uptime_seconds":`
  std::string middle;  ///< `,"version":…,"config_reload_count":N`
};
health_parts render_health_parts(const health_snapshot& s);

/// The uptime as /health shows it (seconds, 3 decimals) into `out`; returns the length.
std::size_t render_uptime(char* out, std::size_t size, double uptime_seconds);

/// Room render_drain needs (the phase is a short word of vpo's own).
constexpr std::size_t health_drain_max = 256;
/// The end of /health's body: `,"drain":null}` or the drain object, into `out`; returns the length.
std::size_t render_drain(char* out, std::size_t size, const health_snapshot& s,
                         std::size_t requests_in_flight, std::chrono::steady_clock::time_point now);

/// GET /health: status code and JSON body (five seed fields, then extras).
http_response render_health(const health_snapshot& s, double uptime_seconds,
                            std::size_t requests_in_flight,
                            std::chrono::steady_clock::time_point now);

/// GET /readyz: 200 `ok`, or 503 with the reason, text/plain.
http_response render_readyz(const health_snapshot& s);

}  // namespace vpo::net
