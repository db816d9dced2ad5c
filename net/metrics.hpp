// metrics.hpp: lock-free HTTP counters and the Prometheus text exposition (format 0.0.4).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "net/health.hpp"

namespace vpo::net {

/// Route labels of `vpo_http_requests_total{route=...}`.
enum class metric_route { health, livez, readyz, metrics, api_jobs, other, count_ };

/// Counters updated on io threads with relaxed atomics; read when /metrics renders.
class http_metrics {
 public:
  static constexpr std::array<double, 14> bucket_bounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  static constexpr std::array<int, 12> known_codes = {200, 201, 202, 400, 401, 404,
                                                      405, 409, 413, 431, 500, 503};

  /// One answered request: its route, status code and duration in seconds.
  void record(metric_route route, int status, double seconds);
  /// The `vpo_http_*` families as exposition text.
  std::string render() const;

 private:
  static constexpr std::size_t routes = static_cast<std::size_t>(metric_route::count_);
  static constexpr std::size_t codes = known_codes.size() + 1;  // + "other"
  std::array<std::array<std::atomic<std::uint64_t>, codes>, routes> requests_{};
  std::array<std::atomic<std::uint64_t>, bucket_bounds.size()> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_us_{0};
};

/// The whole /metrics body: build info, up, uptime, database, shutdown, HTTP, then the jobs
/// families the actors pre-rendered into the snapshot.
http_response render_metrics(const health_snapshot& s, double uptime_seconds,
                             const http_metrics& http);

}  // namespace vpo::net
