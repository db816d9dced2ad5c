// router.hpp: maps method and path to a route; static rules, no I/O.
#pragma once

#include <string>
#include <string_view>

#include "net/http_types.hpp"
#include "net/metrics.hpp"

namespace vpo::net {

enum class route_kind { health, livez, readyz, metrics, api, not_found, method_not_allowed };

struct route {
  route_kind kind = route_kind::not_found;
  std::string allow;                         ///< the Allow header for method_not_allowed
  metric_route label = metric_route::other;  ///< for vpo_http_requests_total
};

/// Classifies a request. Probes and /metrics accept GET and HEAD; `/api/...` goes to the actors.
route match(std::string_view method, std::string_view path);

/// The answer for a request no handler takes: 404 (`not_found`) or 405 with `Allow`
/// (`method_not_allowed`).
http_response unrouted_answer(const route& rt, const http_request& r);

}  // namespace vpo::net
