// router.cpp: the static route table.
#include "net/router.hpp"

namespace vpo::net {

route match(std::string_view method, std::string_view path) {
  route_kind probe = route_kind::not_found;
  if (path == "/health")
    probe = route_kind::health;
  else if (path == "/livez")
    probe = route_kind::livez;
  else if (path == "/readyz")
    probe = route_kind::readyz;
  if (probe != route_kind::not_found) {
    if (method == "GET" || method == "HEAD") return {probe, {}};
    return {route_kind::method_not_allowed, "GET, HEAD"};
  }
  if (path == "/api" || path.substr(0, 5) == "/api/") return {route_kind::api, {}};
  return {route_kind::not_found, {}};
}

}  // namespace vpo::net
