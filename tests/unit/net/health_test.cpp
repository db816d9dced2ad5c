// health_test.cpp: the health status table, the starting state, /readyz reasons, routing.
#include "net/health.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "net/router.hpp"

using namespace vpo::net;

TEST_CASE("the health status table follows the contract", "[health]") {
  health_snapshot s;
  CHECK(std::string(health_status(s)) == "starting");
  CHECK(render_health(s, 1, 0, {}).status == 503);
  s.ready = true;
  CHECK(std::string(health_status(s)) == "degraded");
  s.database_connected = true;
  CHECK(std::string(health_status(s)) == "healthy");
  CHECK(render_health(s, 1, 0, {}).status == 200);
  s.shutting_down = true;
  CHECK(std::string(health_status(s)) == "unhealthy");
  s.database_connected = false;
  CHECK(std::string(health_status(s)) == "unhealthy");
  s.ready = false;
  CHECK(std::string(health_status(s)) == "unhealthy");
  CHECK(render_health(s, 1, 0, {}).status == 503);
}

TEST_CASE("the health body has the seed fields first with exact types", "[health]") {
  health_snapshot s;
  s.ready = s.database_connected = true;
  auto r = render_health(s, 3661.5, 0, {});
  auto j = nlohmann::json::parse(r.body);
  CHECK(r.body.rfind("{\"status\":\"healthy\",\"database\":\"connected\",\"uptime_seconds\":", 0) ==
        0);
  CHECK(j["uptime_seconds"] == 3661.5);
  CHECK(j["version"].is_string());
  CHECK(j["shutting_down"] == false);
  CHECK(j["drain"].is_null());
  CHECK_FALSE(j.contains("jobs"));
  s.jobs_json = R"({"queued":1,"running":0,"workers":2})";
  CHECK(nlohmann::json::parse(render_health(s, 1, 0, {}).body)["jobs"]["queued"] == 1);
}

TEST_CASE("during a drain the body shows phase, in-flight counts and seconds left", "[health]") {
  health_snapshot s;
  s.ready = s.shutting_down = true;
  s.drain_phase = "draining";
  auto now = std::chrono::steady_clock::now();
  s.drain_deadline = now + std::chrono::milliseconds(12500);
  s.jobs_in_flight = 3;
  auto j = nlohmann::json::parse(render_health(s, 1, 2, now).body);
  CHECK(j["status"] == "unhealthy");
  CHECK(j["drain"]["phase"] == "draining");
  CHECK(j["drain"]["jobs_in_flight"] == 3);
  CHECK(j["drain"]["requests_in_flight"] == 2);
  CHECK(j["drain"]["seconds_left"] == 12.5);
  s.drain_deadline = now - std::chrono::seconds(1);
  CHECK(nlohmann::json::parse(render_health(s, 1, 0, now).body)["drain"]["seconds_left"] == 0.0);
}

TEST_CASE("/readyz says ok only when ready, connected and not draining", "[health]") {
  health_snapshot s;
  CHECK(render_readyz(s).body == "starting\n");
  s.ready = true;
  s.database_reason = "database file /x was replaced";
  CHECK(render_readyz(s).status == 503);
  CHECK(render_readyz(s).body == "database disconnected: database file /x was replaced\n");
  s.database_connected = true;
  CHECK(render_readyz(s).status == 200);
  CHECK(render_readyz(s).body == "ok\n");
  s.shutting_down = true;
  CHECK(render_readyz(s).body == "shutting down\n");
}

TEST_CASE("routing: probes take GET and HEAD, /api goes to actors, the rest is 404", "[router]") {
  CHECK(match("GET", "/health").kind == route_kind::health);
  CHECK(match("HEAD", "/health").kind == route_kind::health);
  CHECK(match("GET", "/livez").kind == route_kind::livez);
  CHECK(match("GET", "/readyz").kind == route_kind::readyz);
  auto r = match("POST", "/readyz");
  CHECK(r.kind == route_kind::method_not_allowed);
  CHECK(r.allow == "GET, HEAD");
  CHECK(match("POST", "/api/jobs").kind == route_kind::api);
  CHECK(match("GET", "/apix").kind == route_kind::not_found);
  CHECK(match("GET", "/health/x").kind == route_kind::not_found);
  CHECK(match("GET", "/").kind == route_kind::not_found);
}

TEST_CASE("json errors escape their message", "[http]") {
  auto e = json_error(400, "INVALID_FIELD", "bad \"path\"\n");
  auto j = nlohmann::json::parse(e.body);
  CHECK(j["error"] == "bad \"path\"\n");
  CHECK(j["code"] == "INVALID_FIELD");
  CHECK(e.status == 400);
}

TEST_CASE("error bodies are valid JSON whatever bytes the message carries", "[health]") {
  // Invalid UTF-8 (stray continuation bytes, truncated and overlong forms, surrogates, beyond
  // U+10FFFF) becomes U+FFFD; valid UTF-8 is kept as it is; control characters are escaped.
  const std::string kept = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac";
  auto parsed = nlohmann::json::parse(json_error(404, "NOT_FOUND", kept).body);
  CHECK(parsed["error"] == kept);
  for (const std::string bad : {"\xff", "\x80", "\xc3", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80",
                                "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "a\xc3(b"}) {
    INFO(nlohmann::json(std::vector<int>(bad.begin(), bad.end())).dump());
    auto body = json_error(404, "NOT_FOUND", "no such endpoint: /" + bad).body;
    auto j = nlohmann::json::parse(body);  // throws on invalid UTF-8
    CHECK(j["error"].get<std::string>().find("\xef\xbf\xbd") != std::string::npos);
  }
  std::string every;
  for (int c = 0; c < 256; ++c) every += static_cast<char>(c);
  CHECK_NOTHROW(nlohmann::json::parse(json_error(400, "BAD_REQUEST", every).body));
  unsigned seed = 12345;
  for (int round = 0; round < 2000; ++round) {  // random bytes, random lengths
    std::string noise;
    for (int i = 0, n = static_cast<int>(seed % 40); i < n; ++i) {
      seed = seed * 1103515245u + 12345u;
      noise += static_cast<char>(seed >> 16);
    }
    seed = seed * 1103515245u + 12345u;
    CHECK_NOTHROW(nlohmann::json::parse(json_error(404, "NOT_FOUND", noise).body));
  }
}
