// prometheus_test.cpp: /metrics as Prometheus itself reads it: `promtool check metrics` on a live
// scrape, and a real Prometheus server (loopback, temporary storage, 1 s scrapes) querying `up`,
// a rate and a histogram_quantile over vpo's API.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/jobs_client.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;

namespace {

bool have(const char* tool) {
  return ::access(tool, X_OK) == 0;
}

// Runs a PromQL instant query; the result vector, or null when Prometheus did not answer.
nlohmann::json query(std::uint16_t port, const std::string& promql) {
  std::string encoded;
  for (unsigned char c : promql) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      encoded += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      encoded += buf;
    }
  }
  auto r = http_get(port, "/api/v1/query?query=" + encoded);
  if (!r || r->status != 200) return nullptr;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || j["status"] != "success") return nullptr;
  return j["data"]["result"];
}

// The first sample's value of a query, or NaN while there is none.
double first_value(std::uint16_t port, const std::string& promql) {
  auto result = query(port, promql);
  if (!result.is_array() || result.empty()) return std::nan("");
  return std::stod(result[0]["value"][1].get<std::string>());
}

}  // namespace

TEST_CASE("promtool check metrics finds nothing in a live scrape", "[metrics][prometheus]") {
  if (!have("/usr/bin/promtool"))
    FAIL("promtool is missing: scripts/ensure-deps.sh installs Debian's prometheus package");
  daemon_process d;
  REQUIRE(d.start_ready());
  temp_dir tree;
  tree.write("a.mkv", "x");
  auto job = post_scan(d.port(), tree.path());
  REQUIRE(job);
  REQUIRE(job_reaches(d.port(), (*job)["id"], "completed", 10s));
  REQUIRE(http_get(d.port(), "/api/jobs/no-such"));
  REQUIRE(http_get(d.port(), "/nowhere"));
  auto scrape = http_get(d.port(), "/metrics");
  REQUIRE(scrape);
  temp_dir dir;
  auto file = dir.write("scrape.txt", scrape->body);
  process_options check;
  check.args = {"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + file};
  auto r = run(check, 20s);
  INFO(r.out + r.err);
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("a real Prometheus scrapes vpo: up, a request rate and a latency quantile",
          "[metrics][prometheus]") {
  if (!have("/usr/bin/prometheus"))
    FAIL("prometheus is missing: scripts/ensure-deps.sh installs Debian's prometheus package");
  daemon_process d;
  REQUIRE(d.start_ready());
  temp_dir dir;
  auto prom_port = free_port();
  auto config = dir.write("prometheus.yml",
                          "global:\n  scrape_interval: 1s\n"
                          "scrape_configs:\n  - job_name: vpo\n"
                          "    static_configs:\n      - targets: ['127.0.0.1:" +
                              std::to_string(d.port()) + "']\n");
  process_options prom_options;
  prom_options.args = {"/usr/bin/prometheus", "--config.file=" + config,
                       "--storage.tsdb.path=" + dir.file("data"),
                       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)};
  process prom(prom_options);
  REQUIRE(eventually([&] { return first_value(prom_port, "up{job=\"vpo\"}") == 1.0; }, 30s));
  // API traffic while Prometheus scrapes: a rate and a quantile appear.
  auto traffic_until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < traffic_until) {
    REQUIRE(http_get(d.port(), "/api/jobs?limit=1"));
    ::usleep(20000);
  }
  double rate = 0;
  CHECK(eventually(
      [&] {
        rate = first_value(prom_port,
                           "sum(rate(vpo_http_requests_total{route=\"/api/jobs\",method=\"GET\"}"
                           "[10s]))");
        return rate > 0;
      },
      20s));
  double p99 = std::nan("");
  CHECK(eventually(
      [&] {
        p99 = first_value(prom_port,
                          "histogram_quantile(0.99, sum by (le) (rate("
                          "vpo_http_request_duration_seconds_bucket{route=\"/api/jobs\"}[10s])))");
        return !std::isnan(p99);
      },
      20s));
  INFO("rate " << rate << "/s, p99 " << p99 << " s");
  CHECK(p99 > 0);
  CHECK(p99 <= 0.25);  // loopback GETs of an empty list
  CHECK(first_value(prom_port, "vpo_jobs_finished_total{outcome=\"failed\"}") == 0.0);
  prom.signal(SIGTERM);
  CHECK(prom.wait(20s).has_value());
  CHECK(d.stop(SIGTERM) == 0);
}
