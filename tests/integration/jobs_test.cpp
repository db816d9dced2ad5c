// jobs_test.cpp: the jobs API, the scan end to end, auth, and "finished or requeued, never lost"
// across SIGTERM, the drain deadline and SIGKILL, with the real binary.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/big_tree.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/jobs_client.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A tree of `n` empty video files (plus noise) under dir/tree.
std::string make_tree(const temp_dir& dir, int n) {
  for (int i = 0; i < n; ++i)
    dir.write("tree/d" + std::to_string(i % 10) + "/f" + std::to_string(i) + ".mkv", "");
  dir.write("tree/readme.txt", "not a video");
  return dir.file("tree");
}

// Long jobs scan the shared 200,000-file tree: long enough to be caught running, no test hook.
constexpr auto long_scan = 120s;  // a whole scan of it, with room for sanitizer builds

}  // namespace

TEST_CASE("a scan job runs end to end and re-scanning is idempotent", "[jobs]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  std::string tree = make_tree(d.home(), 120);
  auto created = post_scan(d.port(), tree);
  REQUIRE(created);
  CHECK((*created)["type"] == "scan");
  CHECK((*created)["path"] == tree);
  CHECK((*created)["priority"] == 100);
  std::string id = (*created)["id"];
  REQUIRE(job_reaches(d.port(), id, "completed", 10s));
  auto done = *get_job(d.port(), id);
  CHECK(done["summary"]["files_found"] == 120);
  CHECK(done["summary"]["files_new"] == 120);
  CHECK(done["summary"]["files_missing"] == 0);
  CHECK(done["summary"]["errors"] == 0);
  CHECK(done["progress_percent"] == 100.0);
  CHECK(done["attempts"] == 1);
  CHECK(done["started_at"].is_string());
  CHECK(done["completed_at"].is_string());
  CHECK(done["error"].is_null());

  std::filesystem::remove(tree + "/d3/f3.mkv");
  auto again = post_scan(d.port(), tree);
  REQUIRE(again);
  REQUIRE(job_reaches(d.port(), (*again)["id"], "completed", 10s));
  auto second = *get_job(d.port(), (*again)["id"]);
  CHECK(second["summary"]["files_found"] == 119);
  CHECK(second["summary"]["files_new"] == 0);
  CHECK(second["summary"]["files_updated"] == 0);
  CHECK(second["summary"]["files_missing"] == 1);

  auto list = http_get(d.port(), "/api/jobs?status=completed&limit=1");
  REQUIRE(list);
  auto l = json::parse(list->body);
  CHECK(l["total"] == 2);
  CHECK(l["jobs"].size() == 1);
  // The second page: the older job; `type` filters; past the end, an empty page.
  auto older = json::parse(
      http_get(d.port(), "/api/jobs?status=completed&type=scan&limit=1&offset=1")->body);
  CHECK(older["total"] == 2);
  REQUIRE(older["jobs"].size() == 1);
  CHECK(older["jobs"][0]["id"] != l["jobs"][0]["id"]);
  auto past = json::parse(http_get(d.port(), "/api/jobs?offset=2")->body);
  CHECK(past["jobs"].empty());
  CHECK(past["total"] == 2);
  for (const char* bad :
       {"/api/jobs?offset=-1", "/api/jobs?offset=x", "/api/jobs?type=transcode"}) {
    auto r = http_get(d.port(), bad);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(json::parse(r->body)["code"] == "INVALID_FIELD");
  }
  auto health = json::parse(http_get(d.port(), "/health")->body);
  CHECK(health["jobs"] == json{{"queued", 0}, {"running", 0}, {"workers", 2}});
  auto metrics = http_get(d.port(), "/metrics");
  REQUIRE(metrics);
  CHECK_THAT(metrics->body,
             Catch::Contains("vpo_jobs_finished_total{type=\"scan\",outcome=\"completed\"} 2"));
  CHECK_THAT(metrics->body, Catch::Contains("vpo_jobs{status=\"completed\"} 2"));
  CHECK_THAT(metrics->body,
             Catch::Contains("vpo_jobs_finished_total{type=\"scan\",outcome=\"failed\"} 0"));
  CHECK(d.stop(SIGTERM) == 0);
  CHECK_THAT(d.proc().err(), Catch::Contains("job_id=" + id));
}

TEST_CASE("every jobs API error case answers with its status and code", "[jobs]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  http_connection c(d.port());
  auto code = [](const std::optional<http_reply>& r) {
    return r ? json::parse(r->body)["code"].get<std::string>() : std::string("no reply");
  };
  auto bad_json = c.request("POST", "/api/jobs", "{not json");
  CHECK(bad_json->status == 400);
  CHECK(code(bad_json) == "INVALID_JSON");
  auto bad_field = c.request("POST", "/api/jobs", R"({"type":"scan","path":"/no/such/dir"})");
  CHECK(bad_field->status == 400);
  CHECK(code(bad_field) == "INVALID_FIELD");
  CHECK_THAT(bad_field->body, Catch::Contains("'path'"));
  auto bad_type =
      c.request("POST", "/api/jobs", R"({"type":"transcode","path":")" + d.home().path() + "\"}");
  CHECK(bad_type->status == 400);
  CHECK(code(bad_type) == "UNKNOWN_JOB_TYPE");
  auto unknown = c.request("GET", "/api/jobs/00000000-0000-4000-8000-000000000000");
  CHECK(unknown->status == 404);
  auto no_path = c.request("GET", "/api/nothing");
  CHECK(no_path->status == 404);
  CHECK(code(no_path) == "NOT_FOUND");
  auto wrong = c.request("PUT", "/api/jobs");
  CHECK(wrong->status == 405);
  CHECK(wrong->header("allow") == "GET, POST");
  http_connection big(d.port());  // the 413 comes from the header alone; the body never has to
  REQUIRE(big.send_raw("POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n"));
  auto huge = big.read_reply();
  REQUIRE(huge);
  CHECK(huge->status == 413);
  CHECK(code(huge) == "PAYLOAD_TOO_LARGE");

  http_connection c2(d.port());
  auto created = post_scan(d.port(), make_tree(d.home(), 3));
  REQUIRE(created);
  std::string id = (*created)["id"];
  REQUIRE(job_reaches(d.port(), id, "completed", 10s));
  auto conflict = c2.request("POST", "/api/jobs/" + id + "/cancel");
  CHECK(conflict->status == 409);
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("cancelling: queued jobs at once, running jobs at their next step", "[jobs]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1"}));
  const std::string& tree = shared_big_tree();
  auto running = post_scan(d.port(), tree);
  auto queued = post_scan(d.port(), shared_big_tree_part(0));  // another directory: not a duplicate
  REQUIRE(running);
  REQUIRE(queued);
  REQUIRE(job_reaches(d.port(), (*running)["id"], "running", 5s));
  http_connection c(d.port());
  auto q = c.request("POST", "/api/jobs/" + (*queued)["id"].get<std::string>() + "/cancel");
  REQUIRE(q);
  CHECK(q->status == 200);
  CHECK(json::parse(q->body)["status"] == "cancelled");
  REQUIRE(eventually(  // well into the walk: it has recorded something
      [&] {
        auto j = get_job(d.port(), (*running)["id"]);
        return j && (*j)["progress_percent"].get<double>() > 0;
      },
      10s));
  auto r = c.request("POST", "/api/jobs/" + (*running)["id"].get<std::string>() + "/cancel");
  REQUIRE(r);
  CHECK(r->status == 202);
  CHECK(job_reaches(d.port(), (*running)["id"], "cancelled", 5s));
  auto cancelled = *get_job(d.port(), (*running)["id"]);
  CHECK(cancelled["summary"]["files_found"].get<long long>() > 0);  // what it did is kept
  CHECK(cancelled["summary"]["files_found"].get<long long>() < big_tree_files);
  CHECK(cancelled["error"].is_null());
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("with auth_token, /api needs the bearer token and probes do not", "[jobs][auth]") {
  daemon_process d;
  std::string token = "s3cret-token-0123456789";
  REQUIRE(d.start_ready({}, {{"VPO_AUTH_TOKEN", token}}));
  http_connection c(d.port());
  auto none = c.request("GET", "/api/jobs");
  REQUIRE(none);
  CHECK(none->status == 401);
  CHECK(none->header("www-authenticate") == "Bearer");
  auto wrong = c.request("GET", "/api/jobs", "", "Authorization: Bearer nope\r\n");
  CHECK(wrong->status == 401);
  auto right = c.request("GET", "/api/jobs", "", "Authorization: Bearer " + token + "\r\n");
  CHECK(right->status == 200);
  for (const char* probe : {"/health", "/livez", "/readyz"})
    CHECK(c.request("GET", probe)->status == 200);
  CHECK(d.stop(SIGTERM) == 0);
  CHECK_THAT(d.proc().err(), !Catch::Contains(token));
}

TEST_CASE("a non-loopback bind without a token is refused unless explicitly allowed",
          "[jobs][auth]") {
  temp_dir home;
  auto port = std::to_string(free_port());
  auto r = run(vpo_command(home, {"serve", "--bind", "0.0.0.0", "--port", port}), 15s);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("without authentication"));
  CHECK_THAT(r.err, Catch::Contains("auth_token"));

  daemon_process d;
  d.start({"--bind", "0.0.0.0"}, {{"VPO_SERVER_ALLOW_UNAUTHENTICATED", "true"}});
  REQUIRE(d.proc().wait_for_stderr(ready_line, 10s));
  CHECK_THAT(d.proc().err(), Catch::Contains("WARN  vpo.http: listening on 0.0.0.0"));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("SIGTERM during a running scan: the job completes, then exit 0", "[jobs][shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--shutdown-timeout", "300"}));
  auto job = post_scan(d.port(), shared_big_tree());
  REQUIRE(job);
  std::string id = (*job)["id"];
  REQUIRE(job_reaches(d.port(), id, "running", 5s));
  d.proc().signal(SIGTERM);
  REQUIRE(d.proc().wait_for_stderr("waiting for 1 running job", 5s));
  // New work is refused while draining (existing connections only: the listener is closed).
  CHECK(d.proc().wait(long_scan) == 0);
  CHECK_THAT(d.proc().err(), Catch::Contains("job completed job_id=" + id));
  CHECK_THAT(d.proc().err(), Catch::Contains("jobs_completed=1"));
  auto r = run(vpo_command(d.home(), {"serve", "--check"}), 10s);  // home still valid
  CHECK(r.code == 0);
}

TEST_CASE("while draining, POST answers 503 SHUTTING_DOWN with Retry-After", "[jobs][shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--log-level", "debug", "--shutdown-timeout", "300"}));
  const std::string& tree = shared_big_tree();
  auto job = post_scan(d.port(), tree);
  REQUIRE(job);
  REQUIRE(job_reaches(d.port(), (*job)["id"], "running", 5s));
  // A POST whose headers arrive before the signal and whose body arrives after it: it is in
  // flight during the drain (the listener is closed by then, so nothing newer can come).
  std::string body = R"({"type":"scan","path":")" + tree + R"("})";
  http_connection c(d.port());
  REQUIRE(
      c.send_raw("POST /api/jobs?held HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n"));
  REQUIRE(d.proc().wait_for_stderr("method=POST path=/api/jobs?held", 5s));
  d.proc().signal(SIGTERM);
  REQUIRE(d.proc().wait_for_stderr("listener closed", 5s));  // the gateway's drain has begun
  REQUIRE(c.send_raw(body));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(json::parse(r->body)["code"] == "SHUTTING_DOWN");
  int retry = std::stoi(r->header("retry-after"));
  CHECK(retry >= 1);
  CHECK(retry <= 301);
  CHECK(r->header("connection") == "close");
  CHECK(d.proc().wait(long_scan) == 0);
}

TEST_CASE(
    "drain deadline: the running job goes back to queued (attempts kept), exit 143, and "
    "the next start completes it",
    "[jobs][shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--shutdown-timeout", "0.1"}));  // a first scan here takes ~0.7 s
  auto job = post_scan(d.port(), shared_big_tree());
  REQUIRE(job);
  std::string id = (*job)["id"];
  REQUIRE(job_reaches(d.port(), id, "running", 5s));
  CHECK(d.stop(SIGTERM, 10s) == 143);
  std::string err = d.proc().err();
  CHECK_THAT(err, Catch::Contains("put back to queued job_id=" + id));
  CHECK_THAT(err, Catch::Contains("jobs_requeued=1"));

  auto again = std::make_unique<process>(
      vpo_command(d.home(), {"serve", "--port", std::to_string(d.port())}));
  REQUIRE(again->wait_for_stderr(ready_line, 10s));
  REQUIRE(job_reaches(d.port(), id, "completed", long_scan));
  auto j = *get_job(d.port(), id);
  CHECK(j["attempts"] == 2);
  CHECK(j["summary"]["files_found"] == big_tree_files);
  again->signal(SIGTERM);
  CHECK(again->wait(10s) == 0);
}

TEST_CASE("SIGKILL mid-scan: the next start requeues the job and completes it", "[jobs]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  auto job = post_scan(d.port(), shared_big_tree());
  REQUIRE(job);
  std::string id = (*job)["id"];
  REQUIRE(job_reaches(d.port(), id, "running", 5s));
  CHECK(d.stop(SIGKILL) == 128 + SIGKILL);

  process again(vpo_command(d.home(), {"serve", "--port", std::to_string(d.port())}));
  REQUIRE(again.wait_for_stderr(ready_line, 10s));
  CHECK_THAT(again.err(), Catch::Contains("put back to queued job_id=" + id));
  REQUIRE(job_reaches(d.port(), id, "completed", long_scan));
  CHECK((*get_job(d.port(), id))["attempts"] == 2);
  again.signal(SIGTERM);
  CHECK(again.wait(10s) == 0);
}

TEST_CASE("SIGQUIT with a running job requeues it at once and exits 131", "[jobs][shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  auto job = post_scan(d.port(), shared_big_tree());
  REQUIRE(job);
  std::string id = (*job)["id"];
  REQUIRE(job_reaches(d.port(), id, "running", 5s));
  auto sent = std::chrono::steady_clock::now();
  CHECK(d.stop(SIGQUIT, 5s) == 131);
  CHECK(std::chrono::steady_clock::now() - sent < 2s);
  CHECK_THAT(d.proc().err(), Catch::Contains("put back to queued job_id=" + id));
  CHECK_THAT(d.proc().err(), Catch::Contains("jobs_requeued=1"));
}

TEST_CASE("while the database is gone the API answers 503, and once restored jobs land in it",
          "[jobs][health]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  d.replace_database_with_garbage();
  REQUIRE(eventually(
      [&] {
        auto r = http_get(d.port(), "/api/jobs");
        return r && r->status == 503;
      },
      3s));
  auto r = http_get(d.port(), "/api/jobs");
  CHECK(json::parse(r->body)["code"] == "DATABASE_UNAVAILABLE");
  CHECK(r->header("retry-after") == "2");

  d.restore_database();
  REQUIRE(d.proc().wait_for_stderr("store reopened the database", 5s));
  auto job = post_scan(d.port(), make_tree(d.home(), 5));
  REQUIRE(job);
  REQUIRE(job_reaches(d.port(), (*job)["id"], "completed", 10s));
  CHECK(d.stop(SIGTERM) == 0);
  // The job is in the file on disk, not in the replaced one.
  process again(vpo_command(d.home(), {"serve", "--port", std::to_string(d.port())}));
  REQUIRE(again.wait_for_stderr(ready_line, 10s));
  auto stored = get_job(d.port(), (*job)["id"]);
  REQUIRE(stored);
  CHECK((*stored)["status"] == "completed");
  again.signal(SIGTERM);
  CHECK(again.wait(10s) == 0);
}
