// jobs_bench.cpp: the job engine on a real-sized library, one worker: scan throughput (first run
// and rescan, with find on the same tree for scale), API latency while a scan runs, cancel ->
// `cancelled`, and forced stops (deadline -> exit, requeued jobs). Prints figures and the
// targets of issue 7; a benchmark, not a test: it asserts nothing but exits 1 when a step fails.
// Usage: vpo_bench_jobs [files, default 400000] [tree folder, default /tmp/vpo-bench-tree-N]
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/big_tree.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/jobs_client.hpp"

using namespace std::chrono;
using namespace vpo::test;
using nlohmann::json;

namespace {

// Throws: unwinding stops the daemons the bench started (their destructors kill them).
[[noreturn]] void fail(const std::string& what, process* p = nullptr) {
  throw std::runtime_error(what + "\n" + (p ? p->err() : std::string()));
}

double ms_since(steady_clock::time_point t0) {
  return duration<double, std::milli>(steady_clock::now() - t0).count();
}

// "2026-11-29T15:43:11.736Z" -> milliseconds since the epoch.
double epoch_ms(const std::string& t) {
  std::tm tm{};
  int ms = 0;
  std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
              &tm.tm_min, &tm.tm_sec, &ms);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) * 1000.0 + ms;
}

struct stats {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  double pct(double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * v.size()))];
  }
  void print(const char* what) {
    std::printf("  %-34s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (n=%zu)\n", what, pct(50),
                pct(99), pct(100), v.size());
  }
};

std::string submit(std::uint16_t port, const std::string& tree, process& p) {
  auto job = post_scan(port, tree);
  if (!job) fail("cannot submit a scan", &p);
  return (*job)["id"];
}

// Waits for the end of a job; returns it (and its duration from its own timestamps).
json wait_end(std::uint16_t port, const std::string& id, process& p) {
  auto t0 = steady_clock::now();
  while (ms_since(t0) < 600000) {
    auto j = get_job(port, id);
    if (j && ((*j)["status"] == "completed" || (*j)["status"] == "failed")) return *j;
    std::this_thread::sleep_for(milliseconds(20));
  }
  fail("the scan did not end in 10 min", &p);
}

double scan_seconds(const json& j) {
  return (epoch_ms(j["completed_at"]) - epoch_ms(j["started_at"])) / 1000.0;
}

long peak_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

double find_seconds(const std::string& tree, const char* printf_format) {
  process_options o;
  o.args = {"/usr/bin/find", tree, "-type", "f"};
  if (printf_format) o.args.insert(o.args.end(), {"-printf", printf_format});
  auto t0 = steady_clock::now();
  auto r = run(o, seconds(120));
  if (r.code != 0) fail("find failed: " + r.err);
  return ms_since(t0) / 1000.0;
}

void throughput(const std::string& tree, int files) {
  find_seconds(tree, nullptr);  // warm the cache
  double plain = find_seconds(tree, nullptr), with_stat = find_seconds(tree, "%s %T@\n");
  daemon_process d;
  if (!d.start_ready({"--workers", "1"})) fail("daemon did not start", &d.proc());
  auto first = wait_end(d.port(), submit(d.port(), tree, d.proc()), d.proc());
  auto again = wait_end(d.port(), submit(d.port(), tree, d.proc()), d.proc());
  long rss = peak_rss_kib(d.proc().pid());
  d.stop(SIGTERM);
  std::printf("scan of %d files (1 worker, warm cache):\n", files);
  std::printf("  %-34s %7.3f s  %9.0f files/s\n", "find -type f", plain, files / plain);
  std::printf("  %-34s %7.3f s  %9.0f files/s\n", "find -type f -printf '%s %T@' (stat)", with_stat,
              files / with_stat);
  double a = scan_seconds(first), b = scan_seconds(again);
  std::printf("  %-34s %7.3f s  %9.0f files/s  (target >= 300000)  %s\n", "vpo first scan", a,
              files / a, first["summary"].dump().c_str());
  std::printf("  %-34s %7.3f s  %9.0f files/s  (target >= 500000)  %s\n", "vpo rescan (unchanged)",
              b, files / b, again["summary"].dump().c_str());
  std::printf("  daemon peak RSS after both scans: %.1f MiB\n", rss / 1024.0);
}

void latency(const std::string& tree) {
  daemon_process d;
  if (!d.start_ready({"--workers", "1"})) fail("daemon did not start", &d.proc());
  d.home().write("small/a.mkv", "");
  std::string small = d.home().file("small");
  std::string id = submit(d.port(), tree, d.proc());  // a first scan: the store writes most
  if (!job_reaches(d.port(), id, "running", seconds(5))) fail("scan not running", &d.proc());
  stats list, create, cancel;
  http_connection c(d.port());
  int rounds = 0;
  for (;;) {
    auto j = get_job(d.port(), id);
    if (!j || (*j)["status"] != "running") break;
    auto t0 = steady_clock::now();
    auto l = c.request("GET", "/api/jobs");
    list.add(ms_since(t0));
    t0 = steady_clock::now();
    auto p = c.request("POST", "/api/jobs", json{{"type", "scan"}, {"path", small}}.dump());
    create.add(ms_since(t0));
    // 200: the small tree's previous scan is still running (it is returned, not queued twice).
    if (!l || l->status != 200 || !p || (p->status != 201 && p->status != 200))
      fail("API call failed", &d.proc());
    std::string queued = json::parse(p->body)["id"];
    t0 = steady_clock::now();
    auto x = c.request("POST", "/api/jobs/" + queued + "/cancel");
    cancel.add(ms_since(t0));
    // 409: the scan ended meanwhile, the worker took the small job and finished it.
    if (x && x->status == 409) break;
    if (!x || (x->status != 200 && x->status != 202))
      fail("cancel failed: " + (x ? std::to_string(x->status) + " " + x->body : "no answer"),
           &d.proc());
    ++rounds;
  }
  std::printf("API latency during a first scan (%d rounds, target p99 <= 20 ms):\n", rounds);
  list.print("GET /api/jobs");
  create.print("POST /api/jobs");
  cancel.print("POST /api/jobs/{id}/cancel (queued)");
  d.stop(SIGTERM, seconds(120));
}

void cancelling(const std::string& tree) {
  daemon_process d;
  if (!d.start_ready({"--workers", "1"})) fail("daemon did not start", &d.proc());
  stats to_cancelled;
  for (int i = 0; i < 5; ++i) {
    std::string id = submit(d.port(), tree, d.proc());
    if (!job_reaches(d.port(), id, "running", seconds(5))) fail("scan not running", &d.proc());
    std::this_thread::sleep_for(milliseconds(200));  // well into the walk
    http_connection c(d.port());
    auto t0 = steady_clock::now();
    auto r = c.request("POST", "/api/jobs/" + id + "/cancel");
    if (!r || r->status != 202) fail("cancel of the running scan was not accepted", &d.proc());
    for (;;) {
      auto j = get_job(d.port(), id);
      if (j && (*j)["status"] == "cancelled") break;
      if (ms_since(t0) > 10000) fail("not cancelled within 10 s", &d.proc());
      std::this_thread::sleep_for(milliseconds(1));
    }
    to_cancelled.add(ms_since(t0));
  }
  std::printf("cancel of the running scan -> status cancelled (target <= 100 ms):\n");
  to_cancelled.print("cancel -> cancelled");
  d.stop(SIGTERM);
}

// Each stop interrupts a first scan (a fresh database): the store is writing at full speed. The
// scan takes over a second; the deadline comes 0.3 s after it started.
void forced_stops(const std::string& tree) {
  const std::vector<std::string> args = {"--workers", "1", "--shutdown-timeout", "0.2"};
  stats after_deadline;
  int requeued = 0, runs = 20;
  for (int i = 0; i < runs; ++i) {
    daemon_process d;
    if (!d.start_ready(args)) fail("daemon did not start", &d.proc());
    std::string id = submit(d.port(), tree, d.proc());
    if (!job_reaches(d.port(), id, "running", seconds(10))) fail("scan not running", &d.proc());
    std::this_thread::sleep_for(milliseconds(100));  // the store is writing at full speed
    auto t0 = steady_clock::now();
    d.proc().signal(SIGTERM);
    auto code = d.proc().wait(seconds(10));
    after_deadline.add(ms_since(t0) - 200.0);
    if (code != 143) fail("forced stop exited " + std::to_string(code.value_or(-1)), &d.proc());
    std::string status = query_db(d.db_path(), "SELECT status FROM jobs WHERE id = '" + id + "'");
    requeued += status == "queued" ? 1 : 0;
  }
  std::printf(
      "forced stops during a first scan (shutdown_timeout 0.2 s, target <= 300 ms, "
      "20/20):\n");
  after_deadline.print("deadline -> exit");
  std::printf("  %-34s %d/%d\n", "requeued in the database", requeued, runs);
}

}  // namespace

int main(int argc, char** argv) {
  int files = argc > 1 ? std::atoi(argv[1]) : 400000;
  std::string tree = argc > 2 ? argv[2] : "/tmp/vpo-bench-tree-" + std::to_string(files);
  std::fprintf(stderr, "preparing %s (%d files; built once)...\n", tree.c_str(), files);
  ensure_tree(tree, files);
  // VPO_BENCH_PARTS picks parts (e.g. "scan"); all by default.
  std::string parts = std::getenv("VPO_BENCH_PARTS") ? std::getenv("VPO_BENCH_PARTS") : "all";
  auto want = [&](const char* p) { return parts == "all" || parts.find(p) != std::string::npos; };
  try {
    if (want("scan")) throughput(tree, files);
    if (want("latency")) latency(tree);
    if (want("cancel")) cancelling(tree);
    if (want("stops")) forced_stops(tree);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vpo_bench_jobs: %s", e.what());
    return 1;
  }
  return 0;
}
