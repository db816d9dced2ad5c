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
    CHECK(line.rfind("vpo_", 0) == 0);
  }
}

}  // namespace

TEST_CASE("metrics: counters by route and code, cumulative buckets", "[metrics]") {
  http_metrics m;
  m.record(metric_route::health, 200, 0.0002);
  m.record(metric_route::health, 200, 0.003);
  m.record(metric_route::api_jobs, 201, 0.02);
  m.record(metric_route::other, 418, 20.0);
  std::string text = m.render();
  check_exposition_syntax(text);
  CHECK_THAT(text, Catch::Contains("vpo_http_requests_total{route=\"/health\",code=\"200\"} 2\n"));
  CHECK_THAT(text,
             Catch::Contains("vpo_http_requests_total{route=\"/api/jobs\",code=\"201\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("vpo_http_requests_total{route=\"other\",code=\"other\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("vpo_http_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("vpo_http_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("vpo_http_request_duration_seconds_bucket{le=\"10\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("vpo_http_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
  CHECK_THAT(text, Catch::Contains("vpo_http_request_duration_seconds_count 4\n"));
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
}

TEST_CASE("metrics: routes get their labels, /metrics takes GET and HEAD", "[metrics][router]") {
  CHECK(match("GET", "/metrics").kind == route_kind::metrics);
  CHECK(match("POST", "/metrics").kind == route_kind::method_not_allowed);
  CHECK(match("GET", "/health").label == metric_route::health);
  CHECK(match("GET", "/api/jobs/x").label == metric_route::api_jobs);
  CHECK(match("GET", "/api/other").label == metric_route::other);
  CHECK(match("GET", "/nope").label == metric_route::other);
}
