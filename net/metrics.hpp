// metrics.hpp: lock-free HTTP counters and the Prometheus text exposition (format 0.0.4).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/health.hpp"

namespace vpo::net {

/// The `route` label: the route's template, never the raw path (`/api/jobs/{id}`).
enum class metric_route {
  health,
  livez,
  readyz,
  metrics,
  api_jobs,        ///< /api/jobs
  api_job,         ///< /api/jobs/{id}
  api_job_cancel,  ///< /api/jobs/{id}/cancel
  api_job_retry,   ///< /api/jobs/{id}/retry
  api_files,       ///< /api/files
  api_library,     ///< /api/library
  other,           ///< anything else (404s, unknown /api paths)
  count_
};
/// The template a route label stands for (`/api/jobs/{id}`, `other`).
const char* route_template(metric_route r);

/// The `method` label: GET, HEAD, POST; anything else is `other`.
enum class metric_method { get, head, post, other, count_ };
metric_method method_label(std::string_view method);

/// Counters updated on io threads with relaxed atomics; read when /metrics renders.
class http_metrics {
 public:
  static constexpr std::array<double, 14> bucket_bounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  static constexpr std::array<int, 12> known_codes = {200, 201, 202, 400, 401, 404,
                                                      405, 409, 413, 431, 500, 503};

  /// One answered request: its method, route, status code and duration in seconds.
  void record(metric_method method, metric_route route, int status, double seconds);
  /// The `vpo_http_*` families as exposition text.
  std::string render() const;

 private:
  static constexpr std::size_t routes = static_cast<std::size_t>(metric_route::count_);
  static constexpr std::size_t methods = static_cast<std::size_t>(metric_method::count_);
  static constexpr std::size_t codes = known_codes.size() + 1;  // + "other"
  std::array<std::array<std::array<std::atomic<std::uint64_t>, codes>, methods>, routes>
      requests_{};
  std::array<std::array<std::atomic<std::uint64_t>, bucket_bounds.size()>, routes> buckets_{};
  std::array<std::atomic<std::uint64_t>, routes> count_{};
  std::array<std::atomic<std::uint64_t>, routes> sum_us_{};
};

/// The standard `process_*` families (CPU seconds, resident and virtual memory, open and
/// maximum file descriptors, start time), read from the kernel when rendered.
std::string render_process_metrics();

/// The whole /metrics body: build info, up, uptime, database, shutdown, HTTP, the process, then
/// the jobs and library families the actors pre-rendered into the snapshot.
http_response render_metrics(const health_snapshot& s, double uptime_seconds,
                             const http_metrics& http);

}  // namespace vpo::net
