// jobs_api_test.cpp: every request error of the jobs API, rendering, and the bearer check.
#include "api/jobs_api.hpp"

#include "api/errors.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.hpp"

using namespace vpo;
using namespace vpo::api;

namespace {

net::http_request req(const std::string& method, const std::string& target,
                      const std::string& body = "") {
  net::http_request r;
  r.method = method;
  r.target = target;
  auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  r.body = body;
  return r;
}

net::http_response error_of(const net::http_request& r) {
  auto v = parse_job_request(r);
  REQUIRE(std::holds_alternative<net::http_response>(v));
  return std::get<net::http_response>(v);
}

std::string code_of(const net::http_response& r) {
  return nlohmann::json::parse(r.body)["code"].get<std::string>();
}

}  // namespace

TEST_CASE("a valid scan request becomes a create query", "[jobs_api]") {
  test::temp_dir dir;
  auto v = parse_job_request(
      req("POST", "/api/jobs", R"({"type":"scan","path":")" + dir.path() + R"(/","priority":7})"));
  REQUIRE(std::holds_alternative<job_query>(v));
  auto q = std::get<job_query>(v);
  CHECK(q.what == job_query::op::create);
  CHECK(q.spec.path == dir.path());
  CHECK(q.spec.priority == 7);
}

TEST_CASE("bad job requests get 400 with the precise code and field", "[jobs_api]") {
  test::temp_dir dir;
  std::string p = dir.path();
  struct bad {
    std::string body, code, field;
  };
  std::vector<bad> cases = {
      {"{", "INVALID_JSON", ""},
      {"[1]", "INVALID_JSON", ""},
      {std::string(17, '[') + std::string(17, ']'), "INVALID_JSON", ""},
      {[] {
         std::string b = "{";
         for (int i = 0; i < 1100; ++i) b += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
         return b + "}";
       }(),
       "INVALID_JSON", ""},
      {R"({"path":")" + p + R"("})", "INVALID_FIELD", "type"},
      {R"({"type":5,"path":")" + p + R"("})", "INVALID_FIELD", "type"},
      {R"({"type":"transcode","path":")" + p + R"("})", "UNKNOWN_JOB_TYPE", ""},
      {R"({"type":"scan"})", "INVALID_FIELD", "path"},
      {R"({"type":"scan","path":"relative/dir"})", "INVALID_FIELD", "path"},
      {R"({"type":"scan","path":")" + p + R"(","priority":-1})", "INVALID_FIELD", "priority"},
      {R"({"type":"scan","path":")" + p + R"(","priority":1001})", "INVALID_FIELD", "priority"},
      {R"({"type":"scan","path":")" + p + R"(","priority":"high"})", "INVALID_FIELD", "priority"},
      {R"({"type":"scan","path":")" + p + R"(","colour":"red"})", "INVALID_FIELD", "colour"},
      {R"({"type":"scan","path":"/srv/x\u0000y"})", "INVALID_FIELD", "path"},
      {R"({"type":"scan","path":"/srv/x\ny"})", "INVALID_FIELD", "path"},
      {R"({"type":"scan","path":"/srv/x\u001by"})", "INVALID_FIELD", "path"},
      {R"({"type":"scan","path":"/srv/x\u007f"})", "INVALID_FIELD", "path"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto r = error_of(req("POST", "/api/jobs", c.body));
    CHECK(r.status == 400);
    CHECK(code_of(r) == c.code);
    if (!c.field.empty()) CHECK_THAT(r.body, Catch::Contains("'" + c.field + "'"));
  }
}

TEST_CASE("list parameters are validated", "[jobs_api]") {
  auto ok = parse_job_request(req("GET", "/api/jobs?status=running&limit=5"));
  REQUIRE(std::holds_alternative<job_query>(ok));
  CHECK(std::get<job_query>(ok).status == "running");
  CHECK(std::get<job_query>(ok).limit == 5);
  CHECK(code_of(error_of(req("GET", "/api/jobs?status=done"))) == "INVALID_FIELD");
  CHECK(code_of(error_of(req("GET", "/api/jobs?limit=0"))) == "INVALID_FIELD");
  CHECK(code_of(error_of(req("GET", "/api/jobs?limit=abc"))) == "INVALID_FIELD");
  CHECK(code_of(error_of(req("GET", "/api/jobs?sort=asc"))) == "INVALID_FIELD");
}

TEST_CASE("wrong methods get 405 with Allow, unknown paths 404", "[jobs_api]") {
  auto r = error_of(req("DELETE", "/api/jobs"));
  CHECK(r.status == 405);
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].second == "GET, POST");
  CHECK(error_of(req("POST", "/api/jobs/abc")).headers[0].second == "GET");
  CHECK(error_of(req("GET", "/api/jobs/abc/cancel")).headers[0].second == "POST");
  CHECK(error_of(req("GET", "/api/other")).status == 404);
  CHECK(error_of(req("GET", "/api/jobs/abc/other")).status == 404);
}

TEST_CASE("answers render with the contract's job object and status codes", "[jobs_api]") {
  jobs::job j;
  j.id = "id-1";
  j.type = "scan";
  j.path = "/m";
  j.created_at = "2026-11-22T00:00:00.000Z";
  j.summary_json = R"({"files_found":2})";
  job_query create;
  create.what = job_query::op::create;
  job_answer a;
  a.result = job_answer::outcome::created;
  a.jobs = {j};
  auto r = render_job_answer(create, a);
  CHECK(r.status == 201);
  CHECK(r.body.rfind(R"({"id":"id-1","type":"scan","status":"queued","priority":100,)", 0) == 0);
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["summary"]["files_found"] == 2);
  CHECK(body["started_at"].is_null());
  CHECK(body["error"].is_null());

  job_query list;
  a.result = job_answer::outcome::ok;
  a.total = 7;
  auto l = nlohmann::json::parse(render_job_answer(list, a).body);
  CHECK(l["total"] == 7);
  CHECK(l["jobs"].size() == 1);

  job_query get;
  get.what = job_query::op::get;
  get.id = "nope";
  a = failed_answer(vpo::errc::not_found, "", "JOB_NOT_FOUND");
  auto missing = render_job_answer(get, a);
  CHECK(missing.status == 404);
  CHECK(nlohmann::json::parse(missing.body)["code"] == "JOB_NOT_FOUND");
  CHECK(nlohmann::json::parse(missing.body)["error"] == "no job with id 'nope'");
  a = failed_answer(vpo::errc::conflict, "job x is already completed", "JOB_FINISHED");
  CHECK(render_job_answer(get, a).status == 409);
  a = failed_answer(vpo::errc::invalid, "field 'path' must name an existing directory");
  auto invalid = render_job_answer(create, a);
  CHECK(invalid.status == 400);
  CHECK(nlohmann::json::parse(invalid.body)["code"] == "INVALID_FIELD");
  a = failed_answer(vpo::errc::unavailable, "the job store was too slow; retry");
  auto busy = render_job_answer(create, a);
  CHECK(busy.status == 503);
  CHECK(nlohmann::json::parse(busy.body)["code"] == "DATABASE_UNAVAILABLE");
  a.code = "PATH_CHECK_TIMEOUT";
  CHECK(nlohmann::json::parse(render_job_answer(create, a).body)["code"] == "PATH_CHECK_TIMEOUT");
  a = {};
  a.result = job_answer::outcome::accepted;
  a.jobs = {j};
  CHECK(render_job_answer(get, a).status == 202);
}

TEST_CASE("the bearer check accepts only the exact token", "[auth]") {
  std::string token = "0123456789abcdef-token";
  CHECK(bearer_matches("Bearer " + token, token));
  CHECK_FALSE(bearer_matches("Bearer " + token + "x", token));
  // The scheme is case-insensitive (RFC 9110 §11.1); one or more spaces after it.
  CHECK(bearer_matches("bearer " + token, token));
  CHECK(bearer_matches("BEARER " + token, token));
  CHECK(bearer_matches("Bearer   " + token, token));
  CHECK_FALSE(bearer_matches("Bearer" + token, token));
  CHECK_FALSE(bearer_matches("Basic " + token, token));
  CHECK_FALSE(bearer_matches("Bearer " + token + " ", token));
  CHECK_FALSE(bearer_matches("Bearer 0123456789abcdef-tokeN", token));
  CHECK_FALSE(bearer_matches("", token));
  CHECK_FALSE(bearer_matches(token, token));
}

TEST_CASE("the error table gives every kind its HTTP status, code and Retry-After",
          "[api][error]") {
  using vpo::errc;
  struct row {
    errc kind;
    int status;
    const char* code;
    const char* retry_after;  // "" = none
  };
  for (const row& r :
       {row{errc::invalid, 400, "INVALID_FIELD", ""},
        row{errc::unauthorized, 401, "UNAUTHORIZED", ""},
        row{errc::not_found, 404, "NOT_FOUND", ""}, row{errc::conflict, 409, "CONFLICT", ""},
        row{errc::stale, 409, "CONFLICT", ""}, row{errc::rate_limited, 429, "RATE_LIMITED", "1"},
        row{errc::busy, 503, "DATABASE_UNAVAILABLE", "2"},
        row{errc::full, 503, "DATABASE_UNAVAILABLE", "2"},
        row{errc::corrupt, 503, "DATABASE_UNAVAILABLE", "2"},
        row{errc::timeout, 503, "UNAVAILABLE", "2"}, row{errc::overloaded, 503, "OVERLOADED", "1"},
        row{errc::cancelled, 503, "SHUTTING_DOWN", "1"},
        row{errc::internal, 500, "INTERNAL_ERROR", ""}}) {
    auto res = vpo::api::error_response(vpo::error(r.kind, "because"));
    INFO(std::error_code(r.kind).message());
    CHECK(res.status == r.status);
    auto body = nlohmann::json::parse(res.body);
    CHECK(body["code"] == r.code);
    CHECK(body["error"] == "because");
    std::string retry;
    for (auto& h : res.headers)
      if (h.first == "Retry-After") retry = h.second;
    CHECK(retry == r.retry_after);
  }
  // A specific code and Retry-After replace the table's; the status stays the kind's.
  auto res = vpo::api::error_response(vpo::error(errc::cancelled, "draining"), "", 7);
  CHECK(res.status == 503);
  bool seven = false;
  for (auto& h : res.headers) seven = seven || (h.first == "Retry-After" && h.second == "7");
  CHECK(seven);
  auto unauthorized = vpo::api::error_response(vpo::error(errc::unauthorized, "token"));
  bool challenge = false;
  for (auto& h : unauthorized.headers) challenge = challenge || h.first == "WWW-Authenticate";
  CHECK(challenge);
}
