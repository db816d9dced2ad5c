// metrics_test.cpp: the exposition text: families, labels, cumulative histogram buckets.
#include "net/metrics.hpp"

#include <catch2/catch.hpp>
#include <sstream>

#include "net/router.hpp"

using namespace vpo::net;

namespace {

// Every non-comment line is `name{labels} value` or `name value` with a numeric value.
void check_exposition_syntax(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    INFO(line);
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    auto space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    std::string value = line.substr(space + 1);
    char* end = nullptr;
    std::strtod(value.c_str(), &end);
    CHECK(*end == '\0');
    CHECK((line.rfind("vpo_", 0) == 0 || line.rfind("process_", 0) == 0));
  }
}

}  // namespace

TEST_CASE("metrics: counters by method and route template and code, buckets per route",
          "[metrics]") {
  http_metrics m;
  m.record(metric_method::get, metric_route::health, 200, 0.0002);
  m.record(metric_method::get, metric_route::health, 200, 0.003);
  m.record(metric_method::head, metric_route::health, 200, 0.0001);
  m.record(metric_method::post, metric_route::api_jobs, 201, 0.02);
  m.record(metric_method::get, metric_route::api_job, 404, 0.001);
  m.record(metric_method::other, metric_route::other, 418, 20.0);
  std::string text = m.render();
  check_exposition_syntax(text);
  const char* lines[] = {
      R"(vpo_http_requests_total{method="GET",route="/health",code="200"} 2)",
      R"(vpo_http_requests_total{method="HEAD",route="/health",code="200"} 1)",
      R"(vpo_http_requests_total{method="POST",route="/api/jobs",code="201"} 1)",
      R"(vpo_http_requests_total{method="GET",route="/api/jobs/{id}",code="404"} 1)",
      R"(vpo_http_requests_total{method="other",route="other",code="other"} 1)",
      R"(vpo_http_request_duration_seconds_bucket{route="/health",le="0.0005"} 2)",
      R"(vpo_http_request_duration_seconds_bucket{route="/health",le="0.005"} 3)",
      R"(vpo_http_request_duration_seconds_bucket{route="other",le="10"} 0)",
      R"(vpo_http_request_duration_seconds_bucket{route="other",le="+Inf"} 1)",
      R"(vpo_http_request_duration_seconds_count{route="/health"} 3)",
      // Every route has its histogram from the start (at 0): quantiles never lack a series.
      R"(vpo_http_request_duration_seconds_count{route="/api/jobs/{id}/cancel"} 0)",
  };
  for (const char* line : lines) CHECK_THAT(text, Catch::Contains(std::string(line) + "\n"));
}

TEST_CASE("metrics: the whole body has every required family", "[metrics]") {
  health_snapshot s;
  s.database_connected = true;
  s.jobs_metrics = "# HELP vpo_jobs x\n# TYPE vpo_jobs gauge\nvpo_jobs{status=\"queued\"} 3\n";
  http_metrics m;
  auto r = render_metrics(s, 12.5, m);
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  check_exposition_syntax(r.body);
  for (const char* line : {"vpo_up 1\n", "vpo_uptime_seconds 12.5\n", "vpo_database_up 1\n",
                           "vpo_shutting_down 0\n", "vpo_jobs{status=\"queued\"} 3\n"})
    CHECK_THAT(r.body, Catch::Contains(line));
  CHECK_THAT(r.body, Catch::Contains("vpo_build_info{version=\""));
  for (const char* family :
       {"\nprocess_cpu_seconds_total ", "\nprocess_resident_memory_bytes ", "\nprocess_open_fds ",
        "\nprocess_max_fds ", "\nprocess_start_time_seconds "})
    CHECK_THAT(r.body, Catch::Contains(family));
}

TEST_CASE("metrics: process metrics are this process's", "[metrics]") {
  auto text = render_process_metrics();
  auto value = [&](const std::string& name) {
    auto at = text.find("\n" + name + " ");
    REQUIRE(at != std::string::npos);
    return std::stod(text.substr(at + name.size() + 2));
  };
  CHECK(value("process_resident_memory_bytes") > 1e6);
  CHECK(value("process_open_fds") >= 3);
  CHECK(value("process_max_fds") >= value("process_open_fds"));
  double start = value("process_start_time_seconds");
  double now = static_cast<double>(std::time(nullptr));
  CHECK(start <= now + 1);
  CHECK(start > now - 3600);  // this test process started within the hour
}

TEST_CASE("metrics: routes get their templates, /metrics takes GET and HEAD", "[metrics][router]") {
  CHECK(match("GET", "/metrics").kind == route_kind::metrics);
  CHECK(match("POST", "/metrics").kind == route_kind::method_not_allowed);
  CHECK(match("GET", "/health").label == metric_route::health);
  CHECK(match("GET", "/api/jobs").label == metric_route::api_jobs);
  CHECK(match("GET", "/api/jobs/x").label == metric_route::api_job);
  CHECK(match("POST", "/api/jobs/x/cancel").label == metric_route::api_job_cancel);
  CHECK(match("POST", "/api/jobs/x/y").label == metric_route::other);
  CHECK(match("GET", "/api/jobs//cancel").label == metric_route::other);
  CHECK(match("GET", "/api/other").label == metric_route::other);
  CHECK(match("GET", "/nope").label == metric_route::other);
  CHECK(method_label("GET") == metric_method::get);
  CHECK(method_label("DELETE") == metric_method::other);
}
