// contrib_test.cpp: the log and metrics pipelines in contrib/ against what the real daemon
// emits: every field the ELK pipeline, the Alloy and Promtail pipelines read is a field vpo
// writes, every context field of contract §7 has its ECS place, every metric the Grafana
// dashboard queries is in a live scrape.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/jobs_client.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Every key of every JSON record of a daemon that scanned, answered API calls and probes, got a
// stray signal and drained.
std::set<std::string> emitted_fields() {
  daemon_process d;
  d.start({"--log-format", "json", "--log-level", "debug"});
  REQUIRE(d.proc().wait_for_stderr("\"message\":\"ready\"", 10s));
  temp_dir tree;
  tree.write("a.mkv", "x");
  auto job = post_scan(d.port(), tree.path());
  REQUIRE(job);
  REQUIRE(job_reaches(d.port(), (*job)["id"], "completed", 10s));
  REQUIRE(http_get(d.port(), "/health"));
  d.proc().signal(SIGUSR1);
  REQUIRE(d.proc().wait_for_stderr("received SIGUSR1", 5s));
  REQUIRE(d.stop(SIGTERM) == 0);
  std::set<std::string> keys;
  std::istringstream lines(d.proc().err());
  for (std::string line; std::getline(lines, line);) {
    auto j = json::parse(line, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    for (auto& [k, v] : j.items()) keys.insert(k);
  }
  return keys;
}

const std::set<std::string>& fields() {
  static const std::set<std::string> f = emitted_fields();
  return f;
}

json load_json(const std::string& rel) {
  auto text = read_file(std::string(VPO_SOURCE_DIR) + "/" + rel);
  REQUIRE_FALSE(text.empty());
  auto j = json::parse(text, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// The vpo fields an ingest pipeline reads: `vpo.<field>` in a processor's "field", and
// `ctx.vpo.<field>` in a script (not the targets it writes, not method calls).
std::set<std::string> pipeline_sources(const json& pipeline) {
  std::set<std::string> out;
  for (auto& proc : pipeline["processors"]) {
    auto& body = proc.begin().value();
    if (body.contains("field")) {
      auto f = body["field"].get<std::string>();
      if (f.rfind("vpo.", 0) == 0) out.insert(f.substr(4, f.find('.', 4) - 4));
    }
    if (body.contains("source")) {
      auto src = body["source"].get<std::string>() + " " + body.value("if", "");
      std::regex ref(R"(ctx\.vpo\??\.([a-z_]+)(?![a-z_(]))");
      for (std::sregex_iterator it(src.begin(), src.end(), ref), end; it != end; ++it)
        out.insert((*it)[1]);
    }
  }
  return out;
}

}  // namespace

TEST_CASE(
    "contrib ELK: a pipeline Elasticsearch 8 and OpenSearch 2 both take, that never drops "
    "a line",
    "[contrib]") {
  auto p = load_json("contrib/elk/vpo-ingest-pipeline.json");
  REQUIRE(p["processors"].is_array());
  const std::set<std::string> portable = {"json", "date", "remove", "rename", "set", "script"};
  for (auto& proc : p["processors"]) {
    REQUIRE(proc.size() == 1);
    auto type = proc.begin().key();
    INFO(proc.dump());
    CHECK(portable.count(type) == 1);
    CHECK_FALSE(proc.begin().value().contains("override"));  // rename override: ES >= 8.14 only
    if (type == "rename") CHECK(proc["rename"]["ignore_missing"] == true);
  }
  REQUIRE(p["on_failure"].is_array());  // a non-JSON line is kept, with error.message
  CHECK_THAT(p["on_failure"].dump(), Catch::Contains("error.message"));
}

TEST_CASE(
    "contrib ELK: every field it reads is one vpo writes, and every context field of the "
    "contract has its ECS name",
    "[contrib]") {
  auto p = load_json("contrib/elk/vpo-ingest-pipeline.json");
  auto sources = pipeline_sources(p);
  for (auto& s : sources) {
    INFO("the pipeline reads vpo." << s);
    CHECK(fields().count(s) == 1);
  }
  const std::map<std::string, std::string> ecs = {{"timestamp", "@timestamp"},
                                                  {"level", "log.level"},
                                                  {"logger", "log.logger"},
                                                  {"message", "message"},
                                                  {"pid", "process.pid"},
                                                  {"file_path", "file.path"},
                                                  {"request_id", "http.request.id"},
                                                  {"method", "http.request.method"},
                                                  {"path", "url.path"},
                                                  {"status", "http.response.status_code"},
                                                  {"duration_ms", "event.duration"},
                                                  {"job_id", "vpo.job.id"},
                                                  {"job_type", "vpo.job.type"},
                                                  {"signal", "vpo.signal.name"},
                                                  {"sender_pid", "vpo.signal.sender_pid"}};
  auto text = p["processors"].dump();
  for (auto& [field, target] : ecs) {
    INFO(field << " -> " << target);
    CHECK(fields().count(field) == 1);  // the daemon really writes it
    CHECK(sources.count(field) == 1);   // the pipeline reads it
    CHECK_THAT(text,
               Catch::Contains("\"" + target + "\"") || Catch::Contains("ctx.event.duration"));
  }
}

TEST_CASE("contrib Loki: the Alloy and the legacy Promtail pipelines read fields vpo writes",
          "[contrib]") {
  auto alloy = read_file(std::string(VPO_SOURCE_DIR) + "/contrib/loki/vpo.alloy");
  REQUIRE_FALSE(alloy.empty());
  auto json_stage = alloy.substr(alloy.find("stage.json"));
  json_stage = json_stage.substr(0, json_stage.find("stage.timestamp"));
  std::regex expr(R"re(\w+\s*=\s*"(\w+)")re");
  int n = 0;
  for (std::sregex_iterator it(json_stage.begin(), json_stage.end(), expr), end; it != end; ++it) {
    INFO("vpo.alloy reads " << (*it)[1]);
    CHECK(fields().count((*it)[1]) == 1);
    ++n;
  }
  CHECK(n >= 5);
  CHECK_THAT(alloy, Catch::Contains("_SYSTEMD_UNIT=vpo.service"));
  auto promtail = read_file(std::string(VPO_SOURCE_DIR) + "/contrib/loki/promtail.yaml");
  CHECK_THAT(promtail, Catch::Contains("LEGACY"));
  std::regex yaml_expr(R"(\n\s+(\w+): (\w+)\n)");
  auto stage = promtail.substr(promtail.find("expressions:"));
  stage = stage.substr(0, stage.find("- timestamp:"));
  for (std::sregex_iterator it(stage.begin(), stage.end(), yaml_expr), end; it != end; ++it) {
    INFO("promtail reads " << (*it)[2]);
    CHECK(fields().count((*it)[2]) == 1);
  }
}

TEST_CASE("contrib Grafana: every metric the dashboard queries is in a live scrape", "[contrib]") {
  auto dash = load_json("contrib/grafana/vpo-dashboard.json");
  daemon_process d;
  REQUIRE(d.start_ready());
  REQUIRE(http_get(d.port(), "/api/jobs"));
  auto scrape = http_get(d.port(), "/metrics");
  REQUIRE(scrape);
  CHECK(d.stop(SIGTERM) == 0);
  std::set<std::string> families;
  std::istringstream lines(scrape->body);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name;
      words >> name;
      families.insert(name);
    }
  std::regex metric(R"(\b((?:vpo|process)_[a-z_]+)\b)");
  int exprs = 0;
  for (auto& panel : dash["panels"])
    for (auto& target : panel["targets"]) {
      auto e = target["expr"].get<std::string>();
      ++exprs;
      for (std::sregex_iterator it(e.begin(), e.end(), metric), end; it != end; ++it) {
        std::string name = (*it)[1];
        for (const char* suffix : {"_bucket", "_sum", "_count"})
          if (name.size() > std::strlen(suffix) &&
              name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0 &&
              families.count(name.substr(0, name.size() - std::strlen(suffix))))
            name = name.substr(0, name.size() - std::strlen(suffix));
        INFO(e);
        CHECK(families.count(name) == 1);
      }
    }
  CHECK(exprs >= 10);
}
