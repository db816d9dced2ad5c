// metrics.cpp: Prometheus text exposition of vpo's metrics.
#include "net/metrics.hpp"

#include <cstdio>

#include "version.hpp"

namespace vpo::net {
namespace {

const char* route_label(std::size_t i) {
  static const char* labels[] = {"/health", "/livez", "/readyz", "/metrics", "/api/jobs", "other"};
  return labels[i];
}

std::size_t code_index(int status) {
  for (std::size_t i = 0; i < http_metrics::known_codes.size(); ++i)
    if (http_metrics::known_codes[i] == status) return i;
  return http_metrics::known_codes.size();
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

void http_metrics::record(metric_route route, int status, double seconds) {
  requests_[static_cast<std::size_t>(route)][code_index(status)].fetch_add(
      1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < bucket_bounds.size(); ++i)
    if (seconds <= bucket_bounds[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string http_metrics::render() const {
  std::string out;
  family(out, "vpo_http_requests_total", "counter", "HTTP requests answered, by route and code.");
  for (std::size_t r = 0; r < routes; ++r)
    for (std::size_t c = 0; c < codes; ++c) {
      auto n = requests_[r][c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::string code = c < known_codes.size() ? std::to_string(known_codes[c]) : "other";
      out += "vpo_http_requests_total{route=\"" + std::string(route_label(r)) + "\",code=\"" +
             code + "\"} " + std::to_string(n) + "\n";
    }
  family(out, "vpo_http_request_duration_seconds", "histogram",
         "Time from a complete request header to the response written.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bucket_bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += "vpo_http_request_duration_seconds_bucket{le=\"" + number(bucket_bounds[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  auto count = count_.load(std::memory_order_relaxed);
  out += "vpo_http_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
  out += "vpo_http_request_duration_seconds_sum " +
         number(static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6) + "\n";
  out += "vpo_http_request_duration_seconds_count " + std::to_string(count) + "\n";
  return out;
}

http_response render_metrics(const health_snapshot& s, double uptime_seconds,
                             const http_metrics& http) {
  http_response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  std::string& out = r.body;
  family(out, "vpo_build_info", "gauge", "Build information; always 1.");
  out += std::string("vpo_build_info{version=\"") + VPO_VERSION + "\"} 1\n";
  family(out, "vpo_up", "gauge", "1 while the daemon serves.");
  out += "vpo_up 1\n";
  family(out, "vpo_uptime_seconds", "gauge", "Seconds since the daemon started.");
  out += "vpo_uptime_seconds " + number(uptime_seconds) + "\n";
  family(out, "vpo_database_up", "gauge", "1 when the library database is connected.");
  out += std::string("vpo_database_up ") + (s.database_connected ? "1" : "0") + "\n";
  family(out, "vpo_shutting_down", "gauge", "1 once a drain has started.");
  out += std::string("vpo_shutting_down ") + (s.shutting_down ? "1" : "0") + "\n";
  out += http.render();
  out += s.jobs_metrics;
  return r;
}

}  // namespace vpo::net
