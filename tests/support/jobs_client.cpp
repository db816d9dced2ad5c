// jobs_client.cpp: the jobs API helpers of the integration tests.
#include "tests/support/jobs_client.hpp"

#include "tests/support/http_client.hpp"

namespace vpo::test {

std::optional<nlohmann::json> post_scan(std::uint16_t port, const std::string& path,
                                        const std::string& headers) {
  http_connection c(port);
  nlohmann::json body = {{"type", "scan"}, {"path", path}};
  auto r = c.request("POST", "/api/jobs", body.dump(), headers);
  if (!r || r->status != 201) return std::nullopt;
  return nlohmann::json::parse(r->body);
}

std::optional<nlohmann::json> get_job(std::uint16_t port, const std::string& id) {
  auto r = http_get(port, "/api/jobs/" + id);
  if (!r || r->status != 200) return std::nullopt;
  return nlohmann::json::parse(r->body);
}

bool job_reaches(std::uint16_t port, const std::string& id, const std::string& status,
                 std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        auto j = get_job(port, id);
        return j && (*j)["status"] == status;
      },
      timeout);
}

bool scan_under_way(std::uint16_t port, const std::string& id, std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        auto j = get_job(port, id);
        return j && (*j)["status"] == "running" && (*j)["summary"].is_object();
      },
      timeout);
}

}  // namespace vpo::test
