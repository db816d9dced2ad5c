// metrics.cpp: Prometheus text exposition of vpo's metrics.
#include "net/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "version.hpp"

namespace vpo::net {
namespace {

const char* method_text(std::size_t i) {
  static const char* labels[] = {"GET", "HEAD", "POST", "other"};
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

std::string exact(double v) {  // counters and timestamps: no rounding to 6 digits
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The process's start as Unix time: boot time (/proc/stat btime) + its start in clock ticks
// after boot (/proc/self/stat field 22). Read once.
double start_time_seconds() {
  static const double start = [] {
    std::ifstream stat_file("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat_file)), {});
    auto close = text.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) return 0.0;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    unsigned long long ticks = 0;
    for (int i = 3; i <= 22 && fields >> field; ++i)
      if (i == 22)
        ticks = std::strtoull(field.c_str(), nullptr, 10);  // never throws on the io thread
    std::ifstream proc_stat("/proc/stat");
    unsigned long long btime = 0;
    for (std::string key; proc_stat >> key;) {
      if (key == "btime") {
        proc_stat >> btime;
        break;
      }
    }
    return static_cast<double>(btime) +
           static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }();
  return start;
}

}  // namespace

const char* route_template(metric_route r) {
  static const char* labels[] = {"/health",
                                 "/livez",
                                 "/readyz",
                                 "/metrics",
                                 "/api/jobs",
                                 "/api/jobs/{id}",
                                 "/api/jobs/{id}/cancel",
                                 "/api/jobs/{id}/retry",
                                 "/api/files",
                                 "/api/library",
                                 "other"};
  return labels[static_cast<std::size_t>(r)];
}

metric_method method_label(std::string_view method) {
  if (method == "GET") return metric_method::get;
  if (method == "HEAD") return metric_method::head;
  if (method == "POST") return metric_method::post;
  return metric_method::other;
}

void http_metrics::record(metric_method method, metric_route route, int status, double seconds) {
  auto r = static_cast<std::size_t>(route);
  requests_[r][static_cast<std::size_t>(method)][code_index(status)].fetch_add(
      1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < bucket_bounds.size(); ++i)
    if (seconds <= bucket_bounds[i]) {
      buckets_[r][i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  count_[r].fetch_add(1, std::memory_order_relaxed);
  sum_us_[r].fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string http_metrics::render() const {
  std::string out;
  family(out, "vpo_http_requests_total", "counter",
         "HTTP requests answered, by method, route template and status code.");
  for (std::size_t r = 0; r < routes; ++r)
    for (std::size_t m = 0; m < methods; ++m)
      for (std::size_t c = 0; c < codes; ++c) {
        auto n = requests_[r][m][c].load(std::memory_order_relaxed);
        if (n == 0) continue;
        std::string code = c < known_codes.size() ? std::to_string(known_codes[c]) : "other";
        out += std::string("vpo_http_requests_total{method=\"") + method_text(m) + "\",route=\"" +
               route_template(static_cast<metric_route>(r)) + "\",code=\"" + code + "\"} " +
               std::to_string(n) + "\n";
      }
  family(out, "vpo_http_request_duration_seconds", "histogram",
         "Time from a complete request header to the response written, by route template.");
  for (std::size_t r = 0; r < routes; ++r) {
    std::string route =
        std::string("route=\"") + route_template(static_cast<metric_route>(r)) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bucket_bounds.size(); ++i) {
      cumulative += buckets_[r][i].load(std::memory_order_relaxed);
      out += "vpo_http_request_duration_seconds_bucket{" + route + ",le=\"" +
             number(bucket_bounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    auto count = count_[r].load(std::memory_order_relaxed);
    out += "vpo_http_request_duration_seconds_bucket{" + route + ",le=\"+Inf\"} " +
           std::to_string(count) + "\n";
    out += "vpo_http_request_duration_seconds_sum{" + route + "} " +
           exact(static_cast<double>(sum_us_[r].load(std::memory_order_relaxed)) / 1e6) + "\n";
    out += "vpo_http_request_duration_seconds_count{" + route + "} " + std::to_string(count) + "\n";
  }
  return out;
}

std::string render_process_metrics() {
  std::string out;
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  family(out, "process_cpu_seconds_total", "counter",
         "Total user and system CPU time spent in seconds.");
  out += "process_cpu_seconds_total " + exact(cpu) + "\n";
  unsigned long long pages_virtual = 0, pages_resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%llu %llu", &pages_virtual, &pages_resident) != 2)
      pages_virtual = pages_resident = 0;
    std::fclose(f);
  }
  auto page = static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE));
  family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out += "process_resident_memory_bytes " + std::to_string(pages_resident * page) + "\n";
  family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  out += "process_virtual_memory_bytes " + std::to_string(pages_virtual * page) + "\n";
  long fds = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++fds;
    ::closedir(d);
    --fds;  // the directory's own descriptor
  }
  family(out, "process_open_fds", "gauge", "Number of open file descriptors.");
  out += "process_open_fds " + std::to_string(fds) + "\n";
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  family(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
  out += "process_max_fds " + std::to_string(rl.rlim_cur) + "\n";
  family(out, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.");
  out += "process_start_time_seconds " + exact(start_time_seconds()) + "\n";
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
  out += render_process_metrics();
  out += s.jobs_metrics;
  return r;
}

}  // namespace vpo::net
