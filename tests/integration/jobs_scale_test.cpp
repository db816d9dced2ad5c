// jobs_scale_test.cpp: the jobs' promises on a real-sized library (the shared 200,000-file tree,
// no test hook): the API stays fast during a scan, a forced stop always requeues, start-up with
// big scans queued succeeds, bad paths change nothing, unreadable folders mark nothing missing.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "tests/support/big_tree.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/jobs_client.hpp"
#include "tests/support/skip.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

std::string job_column(const daemon_process& d, const std::string& id, const std::string& col) {
  return query_db(d.db_path(), "SELECT " + col + " FROM jobs WHERE id = '" + id + "'");
}

std::unique_ptr<process> restart(const daemon_process& d, std::vector<std::string> args = {}) {
  std::vector<std::string> all = {"serve", "--port", std::to_string(d.port())};
  all.insert(all.end(), args.begin(), args.end());
  return std::make_unique<process>(vpo_command(d.home(), all));
}

}  // namespace

TEST_CASE("API calls answer fast while a scan of 200,000 files runs", "[jobs][scale]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1"}));
  auto scan = post_scan(d.port(), shared_big_tree());
  REQUIRE(scan);
  std::string id = (*scan)["id"];
  REQUIRE(job_reaches(d.port(), id, "running", 5s));
  d.home().write("small/a.mkv", "");
  std::chrono::milliseconds slowest{0};
  auto timed = [&](auto call) {
    auto t0 = clock_type::now();
    auto r = call();
    slowest = std::max(
        slowest, std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0));
    return r;
  };
  http_connection c(d.port());
  for (int i = 0; i < 10; ++i) {
    auto list = timed([&] { return c.request("GET", "/api/jobs"); });
    REQUIRE(list);
    CHECK(list->status == 200);
    auto created = timed([&] {
      return c.request("POST", "/api/jobs",
                       json{{"type", "scan"}, {"path", d.home().file("small")}}.dump());
    });
    REQUIRE(created);
    REQUIRE(created->status == 201);
    std::string queued = json::parse(created->body)["id"];
    auto cancel = timed([&] { return c.request("POST", "/api/jobs/" + queued + "/cancel"); });
    REQUIRE(cancel);
    CHECK(cancel->status == 200);
    auto health = timed([&] { return c.request("GET", "/health"); });
    REQUIRE(health);
  }
  // The calls really ran beside the scan (it took seconds of API time before the store).
  CHECK((*get_job(d.port(), id))["status"] == "running");
  CHECK(slowest < 1000ms);
  double progress = (*get_job(d.port(), id))["progress_percent"];
  CHECK(progress < 100.0);
  REQUIRE(job_reaches(d.port(), id, "completed", 120s));
  auto done = *get_job(d.port(), id);
  CHECK(done["summary"]["files_found"] == big_tree_files);
  CHECK(done["summary"]["files_new"] == big_tree_files);
  // Files carry modified_at in RFC 3339 UTC and the exact nanoseconds.
  CHECK(query_db(d.db_path(),
                 "SELECT count(*) FROM files WHERE modified_at GLOB "
                 "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z' AND mtime_ns > 0") ==
        std::to_string(big_tree_files));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("20 forced stops during a scan (short shutdown timeout): 20 requeues, none running",
          "[jobs][scale][shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1", "--shutdown-timeout", "0.05"}));
  auto scan = post_scan(d.port(), shared_big_tree());
  REQUIRE(scan);
  std::string id = (*scan)["id"];
  std::unique_ptr<process> p;
  for (int stop = 1; stop <= 20; ++stop) {
    INFO("forced stop " << stop);
    process& daemon = stop == 1 ? d.proc() : *p;
    REQUIRE(scan_under_way(d.port(), id, 10s));
    auto sent = clock_type::now();
    daemon.signal(SIGTERM);
    REQUIRE(daemon.wait(5s) == 143);
    // The deadline is 0.05 s after the signal, well inside even a re-scan of the tree (~0.3 s
    // here); the stop (requeue included) takes little more.
    CHECK(clock_type::now() - sent < 2s);
    std::string err = daemon.err();
    CHECK_THAT(err, Catch::Contains("put back to queued job_id=" + id));
    CHECK_THAT(err, Catch::Contains("jobs_requeued=1"));
    CHECK(job_column(d, id, "status") == "queued");
    CHECK(job_column(d, id, "attempts") == std::to_string(stop));
    CHECK(job_column(d, id, "summary_json").find("files_found") != std::string::npos);
    CHECK(query_db(d.db_path(), "SELECT count(*) FROM jobs WHERE status = 'running'") == "0");
    p = restart(d, {"--workers", "1", "--shutdown-timeout", "0.05"});
    REQUIRE(p->wait_for_stderr(ready_line, 10s));
    CHECK_THAT(p->err(), !Catch::Contains("left running by a stopped process"));
  }
  p->signal(SIGQUIT);
  CHECK(p->wait(5s) == 131);
  CHECK(query_db(d.db_path(), "PRAGMA integrity_check") == "ok");
  CHECK(query_db(d.db_path(), "SELECT count(*) FROM jobs WHERE status = 'running'") == "0");
}

TEST_CASE("SIGQUIT during a drain requeues the running scan and exits 131", "[jobs][scale]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1", "--shutdown-timeout", "300"}));
  auto scan = post_scan(d.port(), shared_big_tree());
  REQUIRE(scan);
  std::string id = (*scan)["id"];
  REQUIRE(job_reaches(d.port(), id, "running", 5s));
  d.proc().signal(SIGTERM);
  REQUIRE(d.proc().wait_for_stderr("waiting for 1 running job", 5s));
  auto sent = clock_type::now();
  CHECK(d.stop(SIGQUIT, 5s) == 131);
  CHECK(clock_type::now() - sent < 1s);
  CHECK(job_column(d, id, "status") == "queued");
  CHECK(job_column(d, id, "attempts") == "1");
  CHECK_THAT(d.proc().err(), Catch::Contains("jobs_requeued=1"));
}

TEST_CASE("start-up with big scans queued and one interrupted succeeds at once", "[jobs][scale]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1"}));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {  // the whole tree first, then four of its folders
    auto scan = post_scan(d.port(), i == 0 ? shared_big_tree() : shared_big_tree_part(i - 1));
    REQUIRE(scan);
    ids.push_back((*scan)["id"]);
  }
  REQUIRE(job_reaches(d.port(), ids[0], "running", 5s));
  CHECK(d.stop(SIGKILL) == 128 + SIGKILL);  // the first one is left running
  auto p = restart(d, {"--workers", "1"});
  REQUIRE(p->wait_for_stderr(ready_line, 10s));
  CHECK_THAT(p->err(), Catch::Contains("put back to queued job_id=" + ids[0]));
  auto h = http_get(d.port(), "/health");
  REQUIRE(h);
  CHECK(h->status == 200);
  REQUIRE(job_reaches(d.port(), ids[0], "running", 5s));
  p->signal(SIGQUIT);
  CHECK(p->wait(5s) == 131);
  CHECK(query_db(d.db_path(), "SELECT count(*) FROM jobs WHERE status = 'queued'") == "5");
}

TEST_CASE("a path with control characters is refused with 400 and creates nothing",
          "[jobs][scale]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  http_connection c(d.port());
  for (const char* body :
       {R"({"type":"scan","path":"/tmp\u0000/x"})", R"({"type":"scan","path":"/tmp\n"})"}) {
    auto r = c.request("POST", "/api/jobs", body);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(json::parse(r->body)["code"] == "INVALID_FIELD");
    CHECK_THAT(r->body, Catch::Contains("control characters"));
  }
  auto list = c.request("GET", "/api/jobs");
  REQUIRE(list);
  CHECK(json::parse(list->body)["total"] == 0);
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("an unreadable subfolder is counted as an error and nothing below it turns missing",
          "[jobs][scale]") {
  if (::geteuid() != 0) VPO_SKIP("needs root, to run a daemon that permission checks apply to");
  daemon_process d;
  ::chmod(d.home().path().c_str(), 0777);
  d.home().write("lib/ok/a.mkv", "");
  d.home().write("lib/closed/b.mkv", "");
  d.home().write("lib/closed/deeper/c.mkv", "");
  std::string lib = d.home().file("lib");
  for (const char* sub : {"", "/ok", "/closed", "/closed/deeper"})
    ::chmod((lib + sub).c_str(), 0755);
  auto o = vpo_command(d.home(), {"serve", "--port", std::to_string(d.port())});
  o.run_as_uid = 65534u;
  process p(o);
  REQUIRE(p.wait_for_stderr(ready_line, 10s));
  auto first = post_scan(d.port(), lib);
  REQUIRE(first);
  REQUIRE(job_reaches(d.port(), (*first)["id"], "completed", 10s));
  ::chmod((lib + "/closed").c_str(), 0700);  // root's: the daemon (nobody) cannot list it now
  auto second = post_scan(d.port(), lib);
  REQUIRE(second);
  REQUIRE(job_reaches(d.port(), (*second)["id"], "completed", 10s));
  auto j = *get_job(d.port(), (*second)["id"]);
  CHECK(j["summary"]["errors"] == 1);
  CHECK(j["summary"]["files_missing"] == 0);
  CHECK(j["summary"]["files_found"] == 1);
  CHECK_THAT(p.err(), Catch::Contains("cannot read folder"));
  CHECK(query_db(d.db_path(), "SELECT count(*) FROM files WHERE missing = 1") == "0");
  p.signal(SIGTERM);
  CHECK(p.wait(10s) == 0);
}

TEST_CASE(
    "a storm of 100 mixed signals during a scan, then SIGTERM: the scan completes, one "
    "summary, exit 0",
    "[jobs][scale][shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1", "--shutdown-timeout", "300"}));
  auto scan = post_scan(d.port(), shared_big_tree());
  REQUIRE(scan);
  std::string id = (*scan)["id"];
  REQUIRE(job_reaches(d.port(), id, "running", 5s));
  const int mix[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCHLD, SIGCONT, SIGPIPE};
  for (int i = 0; i < 100; ++i) d.proc().signal(mix[i % 8]);
  d.proc().signal(SIGTERM);
  CHECK(d.proc().wait(120s) == 0);
  std::string err = d.proc().err();
  CHECK_THAT(err, Catch::Contains("job completed job_id=" + id));
  std::size_t summaries = 0;
  for (auto p = err.find("shutdown summary"); p != std::string::npos;
       p = err.find("shutdown summary", p + 1))
    ++summaries;
  CHECK(summaries == 1);
  auto end = err.find_last_not_of('\n');
  CHECK(err.rfind("shutdown summary: drained") > err.rfind('\n', end));  // the last line
  CHECK(job_column(d, id, "status") == "completed");
}

TEST_CASE(
    "SIGKILL at random points of jobs, 20 times on one database: nothing lost, nothing "
    "left running, attempts consistent, integrity ok",
    "[jobs][scale][fault]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "2"}));
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {  // the whole tree and three of its folders
    auto scan = post_scan(d.port(), i == 0 ? shared_big_tree() : shared_big_tree_part(i - 1));
    REQUIRE(scan);
    ids.push_back((*scan)["id"]);
  }
  unsigned seed = static_cast<unsigned>(std::random_device{}());
  INFO("seed " << seed);  // a failure names the seed: rerun with it to replay the kill points
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(0, 600);
  process* current = &d.proc();
  std::unique_ptr<process> p;
  for (int kill = 1; kill <= 20; ++kill) {
    INFO("kill " << kill);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    current->signal(SIGKILL);
    REQUIRE(current->wait(5s) == 128 + SIGKILL);
    p = restart(d, {"--workers", "2"});
    current = p.get();
    REQUIRE(current->wait_for_stderr(ready_line, 10s));  // start-up never fails on it
  }
  // Left alone, every job ends: completed, or failed after 3 interrupted attempts.
  for (const auto& id : ids) {
    INFO(id);
    REQUIRE(eventually(
        [&] {
          auto j = get_job(d.port(), id);
          return j && ((*j)["status"] == "completed" || (*j)["status"] == "failed");
        },
        120s));
    auto j = *get_job(d.port(), id);
    int attempts = j["attempts"];
    if (j["status"] == "completed") {
      CHECK(attempts >= 1);
      CHECK(attempts <= 3);
      // The whole tree, or one of its ten folders.
      CHECK(j["summary"]["files_found"] == (id == ids[0] ? big_tree_files : big_tree_files / 10));
    } else {
      CHECK(attempts == 3);
      CHECK_THAT(j["error"].get<std::string>(), Catch::Contains("gave up after 3"));
    }
  }
  auto whole = get_job(d.port(), ids[0]);
  bool whole_completed = whole && (*whole)["status"] == "completed";
  current->signal(SIGTERM);
  CHECK(current->wait(30s) == 0);
  CHECK(query_db(d.db_path(), "SELECT count(*) FROM jobs WHERE status = 'running'") == "0");
  CHECK(query_db(d.db_path(), "PRAGMA integrity_check") == "ok");
  CHECK(query_db(d.db_path(), "SELECT count(*) FROM jobs") == "4");
  // Interrupted walks never take files for gone; once the whole tree's scan completed, the
  // library holds the whole tree exactly once, whatever was interrupted where.
  CHECK(query_db(d.db_path(), "SELECT count(*) FROM files WHERE missing = 1") == "0");
  if (whole_completed)
    CHECK(query_db(d.db_path(), "SELECT count(*) FROM files") == std::to_string(big_tree_files));
  CHECK(std::stol(query_db(d.db_path(), "SELECT count(*) FROM files")) <= big_tree_files);
}

TEST_CASE("a scan that meets a database it cannot write goes back to queued, then completes",
          "[jobs][scale][fault]") {
  // Another process holds the write lock longer than the store waits (5 s): the scan's batch
  // cannot be written. Not the job's fault: it is put back to queued (attempt given back) once
  // the database takes writes again, and runs to its end; it does not fail.
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1"}));
  auto scan = post_scan(d.port(), shared_big_tree());
  REQUIRE(scan);
  std::string id = (*scan)["id"];
  REQUIRE(scan_under_way(d.port(), id, 10s));
  {
    write_lock_holder lock(d.db_path());
    REQUIRE(d.proc().wait_for_stderr("database disconnected", 5s));
    // Held beyond the store's 5 s busy timeout: the batch fails and the walk stops.
    REQUIRE(d.proc().wait_for_stderr("scan stopped: the database cannot be written", 15s));
  }
  REQUIRE(d.proc().wait_for_stderr("put back to queued: the database cannot be written", 15s));
  REQUIRE(job_reaches(d.port(), id, "completed", 60s));
  auto j = *get_job(d.port(), id);
  CHECK(j["attempts"] == 1);  // the interrupted attempt was given back
  CHECK(j["summary"]["files_found"] == big_tree_files);
  CHECK_THAT(d.proc().err(), !Catch::Contains("job failed"));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE(
    "a full disk during a scan: the scan goes back to queued, then completes once space is "
    "back",
    "[jobs][scale][fault]") {
  if (::geteuid() != 0) VPO_SKIP("needs root, to mount a small tmpfs of its own");
  // Room for the library of the 200,000-file tree and its WAL, not for the filler as well.
  tmpfs_mount mnt("400m");
  if (!mnt.ok()) VPO_SKIP("cannot mount a tmpfs here: the full-disk scan case is not exercised");
  const std::string& fs = mnt.path();
  daemon_process d;
  std::string db = fs + "/library.db";
  REQUIRE(d.start_ready({"--workers", "1", "--db", db}));
  auto scan = post_scan(d.port(), shared_big_tree());
  REQUIRE(scan);
  std::string id = (*scan)["id"];
  REQUIRE(scan_under_way(d.port(), id, 10s));
  std::string filler = fs + "/filler";
  (void)std::system(("dd if=/dev/zero of='" + filler + "' bs=1M 2>/dev/null").c_str());
  REQUIRE(d.proc().wait_for_stderr("scan stopped: the database cannot be written", 15s));
  std::filesystem::remove(filler);
  REQUIRE(d.proc().wait_for_stderr("put back to queued: the database cannot be written", 15s));
  REQUIRE(job_reaches(d.port(), id, "completed", 60s));
  auto j = *get_job(d.port(), id);
  CHECK(j["attempts"] == 1);
  CHECK(j["summary"]["files_found"] == big_tree_files);
  CHECK_THAT(d.proc().err(), !Catch::Contains("job failed"));
  CHECK(d.stop(SIGTERM) == 0);
  CHECK(query_db(db, "PRAGMA integrity_check") == "ok");
  CHECK(query_db(db, "SELECT count(*) FROM files") == std::to_string(big_tree_files));
}

TEST_CASE("the database moved away during a scan and back: degraded meanwhile, nothing lost",
          "[jobs][scale][fault]") {
  // An operator moves library.db away (to inspect it) while a scan writes, then puts it back.
  // The daemon's connections keep the file open; /health says the path no longer names it; once
  // it is back, everything the scan did is in it.
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1"}));
  auto scan = post_scan(d.port(), shared_big_tree());
  REQUIRE(scan);
  std::string id = (*scan)["id"];
  REQUIRE(scan_under_way(d.port(), id, 10s));
  std::string aside = d.db_path() + ".aside";
  std::filesystem::rename(d.db_path(), aside);
  REQUIRE(eventually(
      [&] {
        auto h = http_get(d.port(), "/health");
        return h && h->status == 503 && json::parse(h->body)["database"] == "disconnected";
      },
      2500ms));
  std::filesystem::rename(aside, d.db_path());
  REQUIRE(eventually(
      [&] {
        auto h = http_get(d.port(), "/health");
        return h && h->status == 200;
      },
      2500ms));
  REQUIRE(job_reaches(d.port(), id, "completed", 60s));
  CHECK((*get_job(d.port(), id))["summary"]["files_found"] == big_tree_files);
  CHECK(d.stop(SIGTERM) == 0);
  CHECK(query_db(d.db_path(), "PRAGMA integrity_check") == "ok");
  CHECK(query_db(d.db_path(), "SELECT count(*) FROM files") == std::to_string(big_tree_files));
  CHECK(query_db(d.db_path(), "SELECT status FROM jobs WHERE id = '" + id + "'") == "completed");
}
