// client_test.cpp: the `vpo` client commands against a real daemon (tables, --json, exit codes,
// token from config and env, scan --wait with and without a terminal), and the API they use:
// retry, duplicate scans, /api/files, /api/library, retention and rate limits.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/big_tree.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/in_flight_request.hpp"
#include "tests/support/jobs_client.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// `vpo <args>` with the daemon's HOME (so it finds the daemon from the config layers).
run_result client(const daemon_process& d, std::vector<std::string> args,
                  std::map<std::string, std::string> env = {}) {
  env.emplace("VPO_URL", "http://127.0.0.1:" + std::to_string(d.port()));
  return run(vpo_command(d.home(), std::move(args), std::move(env)), 60s);
}

// Runs SQL on the daemon's database file (stopped daemon, or reads).
void sql(const std::string& db, const std::string& statement) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(h, statement.c_str(), nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
}

long long sql_count(const std::string& db, const std::string& query) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, query.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  long long n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

std::string small_tree(const temp_dir& dir) {
  dir.write("lib/a/one.mkv", std::string(1000, 'x'));
  dir.write("lib/a/two.MP4", std::string(3000, 'y'));
  dir.write("lib/b/three.webm", std::string(500, 'z'));
  dir.write("lib/b/notes.txt", "not a video");
  dir.write("lib/.hidden/four.mkv", "hidden");
  return dir.file("lib");
}

}  // namespace

TEST_CASE("vpo status: a table, --json, 0 healthy, 3 with where it looked when down", "[client]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  auto r = client(d, {"status"});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("status     healthy"));
  CHECK_THAT(r.out, Catch::Contains("database   connected"));
  CHECK_THAT(r.out, Catch::Contains("draining   no"));
  CHECK_THAT(r.out, Catch::Contains("0 running, 0 queued, 2 workers"));
  CHECK_THAT(r.out, Catch::Contains("0 files (0 missing), 0 B"));

  auto j = client(d, {"status", "--json"});
  REQUIRE(j.code == 0);
  auto doc = json::parse(j.out);
  CHECK(doc["health"]["status"] == "healthy");
  CHECK(doc["library"]["files"] == 0);

  // Degraded (the database replaced by garbage): not healthy, exit 1.
  d.replace_database_with_garbage();
  CHECK(eventually([&] { return client(d, {"status"}).code == 1; }, 10s));
  d.restore_database();

  // Nothing listening: exit 3, the URL and where it came from, and how to start it.
  temp_dir other;
  auto down =
      run(vpo_command(other, {"status"}, {{"VPO_SERVER_PORT", std::to_string(free_port())}}));
  CHECK(down.code == 3);
  CHECK_THAT(down.err, Catch::Contains("cannot reach the daemon at http://127.0.0.1:"));
  CHECK_THAT(down.err, Catch::Contains("server.port from env"));
  CHECK_THAT(down.err, Catch::Contains("vpo serve"));
  auto bad_url = run(vpo_command(other, {"status", "--url", "https://x:1"}));
  CHECK(bad_url.code == 2);
  CHECK_THAT(bad_url.err, Catch::Contains("https is not supported"));
}

TEST_CASE("the client finds the daemon and its token from the config file and the env",
          "[client]") {
  daemon_process d;
  const std::string token = "client-test-token-0123456789";
  d.home().write(".vpo/config.toml", "[server]\nport = " + std::to_string(d.port()) +
                                         "\nauth_token = \"" + token + "\"\n");
  REQUIRE(d.start_ready());
  // Same HOME, no --url: address and token both from ~/.vpo/config.toml.
  auto from_file = run(vpo_command(d.home(), {"jobs", "list"}));
  INFO(from_file.err);
  CHECK(from_file.code == 0);
  CHECK_THAT(from_file.out, Catch::Contains("no jobs"));

  // Another HOME: the token from VPO_AUTH_TOKEN.
  temp_dir other;
  std::map<std::string, std::string> env = {{"VPO_SERVER_PORT", std::to_string(d.port())}};
  auto no_token = run(vpo_command(other, {"jobs", "list"}, env));
  CHECK(no_token.code == 1);
  CHECK_THAT(no_token.err, Catch::Contains("401 UNAUTHORIZED"));
  CHECK_THAT(no_token.err, Catch::Contains("VPO_AUTH_TOKEN"));
  env["VPO_AUTH_TOKEN"] = token;
  CHECK(run(vpo_command(other, {"jobs", "list"}, env)).code == 0);
  // status needs no token for health; the library line says why it is missing.
  env.erase("VPO_AUTH_TOKEN");
  auto status = run(vpo_command(other, {"status"}, env));
  CHECK(status.code == 0);
  CHECK_THAT(status.out, Catch::Contains("answered 401 (set VPO_AUTH_TOKEN)"));
}

TEST_CASE("vpo scan --wait follows a scan to completion with plain lines in a pipe", "[client]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  std::string tree = small_tree(d.home());
  // A relative DIR is made absolute by the client.
  process_options o = vpo_command(d.home(), {"scan", "lib", "--wait"},
                                  {{"VPO_URL", "http://127.0.0.1:" + std::to_string(d.port())}});
  o.cwd = d.home().path();
  auto r = run(o, 60s);
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("scan of " + tree + " queued: job "));
  CHECK_THAT(r.out, Catch::Contains(": 10 %\n"));
  CHECK_THAT(r.out, Catch::Contains(": 100 %\n"));
  CHECK_THAT(r.out, Catch::Contains("scan completed: 3 files (3 new, 0 updated, 0 missing)"));
  CHECK(r.out.find('\x1b') == std::string::npos);  // never escape codes into a pipe
  CHECK(r.out.find('\r') == std::string::npos);

  auto list = client(d, {"jobs", "list"});
  CHECK(list.code == 0);
  CHECK_THAT(list.out, Catch::Contains("ID"));
  CHECK_THAT(list.out, Catch::Contains("completed  scan"));
  CHECK_THAT(list.out, Catch::Contains("1-1 of 1 jobs"));
  auto listed = json::parse(client(d, {"jobs", "list", "--json"}).out);
  REQUIRE(listed["jobs"].size() == 1);
  std::string id = listed["jobs"][0]["id"];
  auto show = client(d, {"jobs", "show", id});
  CHECK(show.code == 0);
  CHECK_THAT(show.out, Catch::Contains("status     completed"));
  CHECK_THAT(show.out, Catch::Contains("3 files (3 new"));
  auto cancel = client(d, {"jobs", "cancel", id});  // finished: 409
  CHECK(cancel.code == 1);
  CHECK_THAT(cancel.err, Catch::Contains("409 JOB_FINISHED"));
  auto retry = client(d, {"jobs", "retry", id});  // completed: not retryable
  CHECK(retry.code == 1);
  CHECK_THAT(retry.err, Catch::Contains("409 JOB_NOT_RETRYABLE"));
  auto missing = client(d, {"jobs", "show", "no-such-job"});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Catch::Contains("404 JOB_NOT_FOUND"));
}

TEST_CASE("vpo scan --wait on a terminal draws a bar", "[client]") {
  // script(1) (util-linux, essential in Debian) gives the client a pseudo-terminal.
  daemon_process d;
  REQUIRE(d.start_ready());
  std::string tree = small_tree(d.home());
  std::string cmd = std::string(VPO_BINARY) + " scan " + tree + " --wait";
  process_options o;
  o.args = {"/usr/bin/script", "-qec", cmd, "/dev/null"};
  o.env = {{"VPO_URL", "http://127.0.0.1:" + std::to_string(d.port())},
           {"TERM", "xterm"},
           {"HOME", d.home().path()}};
  auto r = run(o, 60s);
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("\r["));
  CHECK_THAT(r.out, Catch::Contains("[##############################] 100.0 %"));
  CHECK_THAT(r.out, Catch::Contains("scan completed"));
  CHECK_THAT(r.out, !Catch::Contains(": 10 %"));
}

TEST_CASE("a cancelled scan ends --wait with 1, retry puts it back, duplicates return the job",
          "[client][jobs]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1"}));
  const std::string tree = shared_big_tree();
  process wait(vpo_command(d.home(), {"scan", tree, "--wait"},
                           {{"VPO_URL", "http://127.0.0.1:" + std::to_string(d.port())}}));
  std::string id;
  REQUIRE(eventually(
      [&] {
        auto out = wait.out();
        auto at = out.find("queued: job ");
        if (at == std::string::npos) return false;
        id = out.substr(at + 12, 36);
        return true;
      },
      10s));
  REQUIRE(scan_under_way(d.port(), id, 60s));

  // A second submission of the same tree while it runs returns that job (200), not a new one.
  http_connection c(d.port());
  auto dup = c.request("POST", "/api/jobs", json{{"type", "scan"}, {"path", tree}}.dump());
  REQUIRE(dup);
  CHECK(dup->status == 200);
  CHECK(json::parse(dup->body)["id"] == id);
  auto again = client(d, {"scan", tree});
  CHECK(again.code == 0);
  CHECK_THAT(again.out, Catch::Contains("is already running: job " + id));

  auto cancel = client(d, {"jobs", "cancel", id});
  CHECK(cancel.code == 0);
  CHECK_THAT(cancel.out, Catch::Contains("cancellation requested"));
  auto code = wait.wait(30s);
  INFO(wait.out() << wait.err());
  REQUIRE(code);
  CHECK(*code == 1);
  CHECK_THAT(wait.out(), Catch::Contains("scan cancelled"));
  auto cancelled = *get_job(d.port(), id);
  CHECK(cancelled["status"] == "cancelled");
  int attempts = cancelled["attempts"];

  // Retry: back to queued, same id, attempts kept, error cleared; it runs again.
  auto retried = client(d, {"jobs", "retry", id, "--json"});
  INFO(retried.err);
  REQUIRE(retried.code == 0);
  auto r = json::parse(retried.out);
  CHECK(r["id"] == id);
  CHECK(r["status"] == "queued");
  CHECK(r["attempts"] == attempts);
  CHECK(r["error"].is_null());
  CHECK(job_reaches(d.port(), id, "running", 10s));
  // Retrying it again while it runs: 409.
  auto busy = c.request("POST", "/api/jobs/" + id + "/retry");
  REQUIRE(busy);
  CHECK(busy->status == 409);
  CHECK(json::parse(busy->body)["code"] == "JOB_NOT_RETRYABLE");
  // GET on the retry endpoint: 405 with Allow.
  auto get = c.request("GET", "/api/jobs/" + id + "/retry");
  REQUIRE(get);
  CHECK(get->status == 405);
  CHECK(get->header("allow") == "POST");
  CHECK(d.stop(SIGQUIT, 10s));
}

TEST_CASE("/api/files and /api/library answer from the database's real contents",
          "[client][library]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  std::string tree = small_tree(d.home());
  auto job = post_scan(d.port(), tree);
  REQUIRE(job);
  REQUIRE(job_reaches(d.port(), (*job)["id"], "completed", 20s));
  std::filesystem::remove(tree + "/b/three.webm");
  auto rescan = post_scan(d.port(), tree);
  REQUIRE(rescan);
  REQUIRE(job_reaches(d.port(), (*rescan)["id"], "completed", 20s));

  auto all = http_get(d.port(), "/api/files");
  REQUIRE(all);
  REQUIRE(all->status == 200);
  auto files = json::parse(all->body);
  CHECK(files["total"] == sql_count(d.db_path(), "SELECT count(*) FROM files"));
  REQUIRE(files["files"].size() == 3);
  CHECK(files["files"][0]["path"] == tree + "/a/one.mkv");  // by path
  CHECK(files["files"][0]["size"] == 1000);
  CHECK(files["files"][0]["missing"] == false);
  CHECK(files["files"][0]["modified_at"].get<std::string>().back() == 'Z');
  CHECK(files["files"][2]["path"] == tree + "/b/three.webm");
  CHECK(files["files"][2]["missing"] == true);
  CHECK(files["files"][2]["missing_since"].is_string());

  auto missing = json::parse(http_get(d.port(), "/api/files?missing=1")->body);
  CHECK(missing["total"] == 1);
  auto under = json::parse(http_get(d.port(), "/api/files?under=" + tree + "/a/")->body);
  CHECK(under["total"] == 2);
  auto page = json::parse(http_get(d.port(), "/api/files?limit=1&offset=1")->body);
  CHECK(page["total"] == 3);
  REQUIRE(page["files"].size() == 1);
  CHECK(page["files"][0]["path"] == tree + "/a/two.MP4");
  // A path with a space, percent-encoded.
  d.home().write("lib/with space/x.mkv", "v");
  auto third = post_scan(d.port(), tree);
  REQUIRE(third);
  REQUIRE(job_reaches(d.port(), (*third)["id"], "completed", 20s));
  auto spaced = json::parse(http_get(d.port(), "/api/files?under=" + tree + "/with%20space")->body);
  CHECK(spaced["total"] == 1);
  auto bad = http_get(d.port(), "/api/files?under=relative");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(json::parse(bad->body)["code"] == "INVALID_FIELD");
  CHECK(http_get(d.port(), "/api/files?limit=0")->status == 400);
  CHECK(http_get(d.port(), "/api/files?missing=2")->status == 400);

  auto lib = json::parse(http_get(d.port(), "/api/library")->body);
  CHECK(lib["files"] == sql_count(d.db_path(), "SELECT count(*) FROM files"));
  CHECK(lib["files"] == 4);
  CHECK(lib["missing"] == 1);
  CHECK(lib["bytes"] == sql_count(d.db_path(), "SELECT sum(size) FROM files WHERE missing = 0"));
  CHECK(lib["by_extension"]["mkv"] == 2);
  CHECK(lib["by_extension"]["mp4"] == 1);
  CHECK(lib["by_extension"]["webm"] == 1);
  CHECK(lib["last_scan_at"].is_string());

  auto table = client(d, {"files", "--missing"});
  CHECK(table.code == 0);
  CHECK_THAT(table.out, Catch::Contains("missing since"));
  CHECK_THAT(table.out, Catch::Contains(tree + "/b/three.webm"));
  CHECK_THAT(table.out, Catch::Contains("1-1 of 1 missing files"));
  auto listing = client(d, {"files", "--under", tree + "/a", "--limit", "1"});
  CHECK(listing.code == 0);
  CHECK_THAT(listing.out, Catch::Contains("1000 B"));
  CHECK_THAT(listing.out, Catch::Contains("1-1 of 2 files (--offset 1 for more)"));
  auto status = client(d, {"status"});
  CHECK_THAT(status.out, Catch::Contains("4 files (1 missing), 3.9 KiB"));
}

TEST_CASE("GET /api/jobs pages with offset and filters by type", "[client][jobs]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    d.home().write("t" + std::to_string(i) + "/x.mkv", "");
    auto j = post_scan(d.port(), d.home().file("t" + std::to_string(i)));
    REQUIRE(j);
    ids.push_back((*j)["id"]);
    REQUIRE(job_reaches(d.port(), ids.back(), "completed", 20s));
  }
  auto page = client(d, {"jobs", "list", "--limit", "2", "--offset", "2", "--json"});
  REQUIRE(page.code == 0);
  auto doc = json::parse(page.out);
  CHECK(doc["total"] == 5);
  REQUIRE(doc["jobs"].size() == 2);
  CHECK(doc["jobs"][0]["id"] == ids[2]);  // newest first
  CHECK(doc["jobs"][1]["id"] == ids[1]);
  auto table = client(d, {"jobs", "list", "--limit", "2", "--offset", "2"});
  CHECK_THAT(table.out, Catch::Contains("3-4 of 5 jobs (--offset 4 for more)"));
  auto typed = json::parse(client(d, {"jobs", "list", "--type", "scan", "--json"}).out);
  CHECK(typed["total"] == 5);
  auto wrong = client(d, {"jobs", "list", "--type", "transcode"});
  CHECK(wrong.code == 1);
  CHECK_THAT(wrong.err, Catch::Contains("400 INVALID_FIELD"));
  auto usage = client(d, {"jobs", "list", "--status", "done"});
  CHECK(usage.code == 2);
  for (std::vector<std::string> args : {std::vector<std::string>{"jobs", "list", "--limit", "0"},
                                        {"files", "--offset", "x"},
                                        {"scan", "/tmp", "--priority", "1001"}}) {
    auto bad = client(d, args);
    CHECK(bad.code == 2);
    CHECK_THAT(bad.err, Catch::Contains("is invalid: it must be an integer from"));
  }
}

TEST_CASE("retention deletes aged finished jobs at start-up and keeps young and unfinished ones",
          "[client][retention]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  REQUIRE(d.stop(SIGTERM) == 0);
  sql(d.db_path(),
      "INSERT INTO jobs (id, job_type, status, priority, file_path, created_at, completed_at, "
      "attempts) VALUES "
      "('old-done', 'scan', 'completed', 100, '/a', '2020-01-01T00:00:00.000Z', "
      "'2020-01-01T00:01:00.000Z', 1),"
      "('old-failed', 'scan', 'failed', 100, '/b', '2020-01-01T00:00:00.000Z', "
      "'2020-01-02T00:00:00.000Z', 1),"
      "('old-queued', 'scan', 'cancelled', 100, '/c', '2020-01-01T00:00:00.000Z', NULL, 0),"
      "('young-done', 'scan', 'completed', 100, '/d', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', "
      "'-29 days'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-29 days'), 1)");
  // auto_purge = false keeps everything.
  d.home().write(".vpo/config.toml", "[jobs]\nauto_purge = false\n");
  REQUIRE(d.start_ready());
  CHECK(sql_count(d.db_path(), "SELECT count(*) FROM jobs") == 4);
  REQUIRE(d.stop(SIGTERM) == 0);
  d.home().write(".vpo/config.toml", "[jobs]\nretention_days = 30\n");
  REQUIRE(d.start_ready());
  CHECK(d.proc().wait_for_stderr("deleted 3 finished job(s) older than 30 days", 10s));
  CHECK(sql_count(d.db_path(), "SELECT count(*) FROM jobs WHERE id = 'young-done'") == 1);
  CHECK(sql_count(d.db_path(), "SELECT count(*) FROM jobs") == 1);
  auto listed = json::parse(http_get(d.port(), "/api/jobs")->body);
  CHECK(listed["total"] == 1);
}

TEST_CASE("server.rate_limit: 429 RATE_LIMITED with Retry-After, probes never limited",
          "[client][rate_limit]") {
  daemon_process d;
  d.home().write(".vpo/config.toml",
                 "[server.rate_limit]\nenabled = true\nget_max_requests = 5\n"
                 "mutate_max_requests = 2\nwindow_seconds = 60\n");
  REQUIRE(d.start_ready());
  http_connection c(d.port());
  for (int i = 0; i < 5; ++i) CHECK(c.request("GET", "/api/jobs")->status == 200);
  auto over = c.request("GET", "/api/jobs");
  REQUIRE(over);
  CHECK(over->status == 429);
  CHECK(json::parse(over->body)["code"] == "RATE_LIMITED");
  int retry_after = std::stoi(over->header("retry-after"));
  CHECK(retry_after >= 1);
  CHECK(retry_after <= 60);
  // Writes have their own budget.
  for (int i = 0; i < 2; ++i)
    CHECK(c.request("POST", "/api/jobs", R"({"type":"scan","path":"/nonexistent"})")->status ==
          400);
  CHECK(c.request("POST", "/api/jobs", R"({"type":"scan","path":"/nonexistent"})")->status == 429);
  // Probes and /metrics: never limited.
  for (int i = 0; i < 20; ++i) {
    CHECK(c.request("GET", "/health")->status == 200);
    CHECK(c.request("GET", "/metrics")->status == 200);
  }
  // The client says what happened and exits 1.
  auto r = client(d, {"jobs", "list"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("429 RATE_LIMITED"));
  CHECK_THAT(r.err, Catch::Contains("server.rate_limit"));
}

TEST_CASE("a config shaped like VPO's own template starts with no warning", "[client][config]") {
  daemon_process d;
  std::string cfg = R"(# VPO configuration (vpo init)
[tools]
ffmpeg = ""
ffprobe = ""
mkvmerge = ""
mkvpropedit = ""

[tools.detection]
cache_ttl_hours = 24

[behavior]
warn_on_missing_features = true
show_upgrade_suggestions = true

[plugins]
plugin_dirs = []
entry_points = true
auto_load = true

[jobs]
retention_days = 30
auto_purge = true
temp_directory = ""
backup_original = true
log_compression_days = 7
log_deletion_days = 90
min_free_disk_percent = 5.0
auto_prune_enabled = false
auto_prune_interval_hours = 24

[worker]
max_files = 0
max_duration = 0
end_by = ""
cpu_cores = 0

[server]
bind = "127.0.0.1"
port = PORT
shutdown_timeout = 30.0
auth_token = ""

[server.rate_limit]
enabled = true
get_max_requests = 120
mutate_max_requests = 30
window_seconds = 60

[logging]
level = "info"
format = "text"
file = ""
include_stderr = true
max_bytes = 10485760
backup_count = 5

[language]
standard = "639-2/B"
)";
  cfg.replace(cfg.find("PORT"), 4, std::to_string(d.port()));
  d.home().write(".vpo/config.toml", cfg);
  REQUIRE(d.start_ready());
  std::string err = d.proc().err();
  CHECK_THAT(err, !Catch::Contains("WARN"));
  CHECK_THAT(err, !Catch::Contains("unknown key"));
}

TEST_CASE("vpo status during a drain: the listener is closed, so exit 3 (not reachable)",
          "[client]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--log-level", "debug"}));
  in_flight_request held(d);  // keeps the drain open until it is finished
  d.proc().signal(SIGTERM);
  REQUIRE(d.proc().wait_for_stderr("draining", 5s));
  // Contract §5: a draining daemon refuses new connections (a load balancer moves on); the
  // client, which opens one per call, cannot see the drain and says so.
  auto r = client(d, {"status"});
  INFO(r.out << r.err);
  CHECK(r.code == 3);
  CHECK_THAT(r.err, Catch::Contains("connection refused"));
  held.finish();
  CHECK(d.proc().wait(10s) == 0);
}

TEST_CASE("a daemon that never answers: exit 3 after --timeout, naming it", "[client]") {
  listener silent;  // accepts into the kernel's queue, never answers
  REQUIRE(silent.port() != 0);
  temp_dir home;
  auto started = std::chrono::steady_clock::now();
  auto r = run(vpo_command(home, {"jobs", "list", "--timeout", "0.5", "--url",
                                  "http://127.0.0.1:" + std::to_string(silent.port())}));
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(r.code == 3);
  CHECK_THAT(r.err, Catch::Contains("no answer within 0.5 s (--timeout)"));
  CHECK_THAT(r.err, Catch::Contains("(--url)"));
  CHECK(took < 5s);
  auto bad = run(vpo_command(home, {"status", "--timeout", "zero"}));
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--timeout"));
}

TEST_CASE("vpo scan --wait of a scan that fails: exit 1 with the job's error", "[client]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1"}));
  // The one worker is busy with another scan while the waited-for one is queued; its directory
  // is removed meanwhile, so it fails when it starts.
  auto busy = post_scan(d.port(), shared_big_tree());
  REQUIRE(busy);
  std::string doomed = d.home().file("doomed");
  d.home().write("doomed/x.mkv", "");
  process wait(vpo_command(d.home(), {"scan", doomed, "--wait"},
                           {{"VPO_URL", "http://127.0.0.1:" + std::to_string(d.port())}}));
  REQUIRE(eventually([&] { return wait.out().find("queued: job ") != std::string::npos; }, 10s));
  std::filesystem::remove_all(doomed);
  auto code = wait.wait(60s);
  INFO(wait.out() << wait.err());
  REQUIRE(code);
  CHECK(*code == 1);
  CHECK_THAT(wait.out(), Catch::Contains("scan failed: cannot open " + doomed));
}

TEST_CASE("a server that answers JSON of another shape: exit 1, no crash", "[client]") {
  // A stand-in that is not vpo: every GET gets 200 with fields of the wrong types.
  std::uint16_t port = free_port();
  process fake(
      process_options{{"/usr/bin/python3", "-c",
                       "import http.server as h\n"
                       "class H(h.BaseHTTPRequestHandler):\n"
                       "  def do_GET(s):\n"
                       "    b=b'{\"jobs\":5,\"files\":\"x\",\"status\":[],\"total\":\"n\"}'\n"
                       "    s.send_response(200);s.send_header('Content-Length',str(len(b)))\n"
                       "    s.end_headers();s.wfile.write(b)\n"
                       "h.HTTPServer(('127.0.0.1'," +
                           std::to_string(port) + "),H).serve_forever()"},
                      {},
                      "",
                      -1,
                      std::nullopt});
  REQUIRE(eventually([&] { return http_get(port, "/").has_value(); }, 10s));
  temp_dir home;
  for (std::vector<std::string> args :
       {std::vector<std::string>{"jobs", "list"}, {"files"}, {"status"}}) {
    args.push_back("--url");
    args.push_back("http://127.0.0.1:" + std::to_string(port));
    auto r = run(vpo_command(home, args));
    INFO(r.err);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("vpo"));
    CHECK_THAT(r.err, !Catch::Contains("terminate"));
  }
  fake.signal(SIGTERM);
  fake.wait(5s);
}
