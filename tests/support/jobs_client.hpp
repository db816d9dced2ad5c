// jobs_client.hpp: the jobs API as the integration tests use it (submit, read, wait for a status).
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vpo::test {

/// POST /api/jobs {"type":"scan","path":path}; the job when the answer is 201.
std::optional<nlohmann::json> post_scan(std::uint16_t port, const std::string& path,
                                        const std::string& headers = "");
/// GET /api/jobs/{id}; the job when the answer is 200.
std::optional<nlohmann::json> get_job(std::uint16_t port, const std::string& id);
/// True once the job has `status` (polled: a status can only be observed by asking).
bool job_reaches(std::uint16_t port, const std::string& id, const std::string& status,
                 std::chrono::milliseconds timeout);
/// True once the job is running and its first batch is in (it has a summary): the walk is well
/// under way.
bool scan_under_way(std::uint16_t port, const std::string& id, std::chrono::milliseconds timeout);

}  // namespace vpo::test
