// router.hpp: maps method and path to a route; static rules, no I/O.
#pragma once

#include <string>
#include <string_view>

namespace vpo::net {

enum class route_kind { health, livez, readyz, api, not_found, method_not_allowed };

struct route {
  route_kind kind = route_kind::not_found;
  std::string allow;  ///< the Allow header for method_not_allowed
};

/// Classifies a request. Probes accept GET and HEAD; `/api/...` goes to the actors.
route match(std::string_view method, std::string_view path);

}  // namespace vpo::net
