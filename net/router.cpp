// router.cpp: the static route table.
#include "net/router.hpp"

namespace vpo::net {
namespace {

// The route template of an /api path: /api/jobs, /api/jobs/{id}, /api/jobs/{id}/cancel and
// /retry, /api/files, /api/library; any
// other path (a typo, a path the API does not know) is `other`, so labels stay few.
metric_route api_label(std::string_view path) {
  if (path == "/api/jobs") return metric_route::api_jobs;
  if (path == "/api/files") return metric_route::api_files;
  if (path == "/api/library") return metric_route::api_library;
  std::string_view prefix = "/api/jobs/";
  if (path.substr(0, prefix.size()) != prefix) return metric_route::other;
  auto rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  if (rest.empty() || slash == 0) return metric_route::other;
  if (slash == std::string_view::npos) return metric_route::api_job;
  if (rest.substr(slash) == "/cancel") return metric_route::api_job_cancel;
  return rest.substr(slash) == "/retry" ? metric_route::api_job_retry : metric_route::other;
}

}  // namespace

route match(std::string_view method, std::string_view path) {
  route_kind probe = route_kind::not_found;
  metric_route label = metric_route::other;
  if (path == "/health") {
    probe = route_kind::health;
    label = metric_route::health;
  } else if (path == "/livez") {
    probe = route_kind::livez;
    label = metric_route::livez;
  } else if (path == "/readyz") {
    probe = route_kind::readyz;
    label = metric_route::readyz;
  } else if (path == "/metrics") {
    probe = route_kind::metrics;
    label = metric_route::metrics;
  }
  if (probe != route_kind::not_found) {
    if (method == "GET" || method == "HEAD") return {probe, {}, label};
    return {route_kind::method_not_allowed, "GET, HEAD", label};
  }
  if (path == "/api" || path.substr(0, 5) == "/api/") return {route_kind::api, {}, api_label(path)};
  return {route_kind::not_found, {}, metric_route::other};
}

http_response unrouted_answer(const route& rt, const http_request& r) {
  if (rt.kind == route_kind::method_not_allowed) {
    auto res = json_error(405, "METHOD_NOT_ALLOWED",
                          "method " + r.method + " is not allowed on " + r.path);
    res.headers.emplace_back("Allow", rt.allow);
    return res;
  }
  return json_error(404, "NOT_FOUND", "no such endpoint: " + r.path);
}

}  // namespace vpo::net
