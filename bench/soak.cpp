// soak.cpp: hours of mixed load on the real daemon, reporting what leaks show up as: RSS, open
// file descriptors, threads, and error counts over time. Not in CI (`make soak`, an hour by
// default). Load: probes and /metrics every 100 ms; job list, submit, get and cancel every
// 200 ms; a scan of a 20 000-file tree every 10 s (every third cancelled while it runs);
// SIGHUP and stray signals every 30 s; a drain and restart every 5 minutes. Hostile clients
// (issue 19): a page at offset 15,000 and a keyset page every 200 ms, and every 30 s 50 slow
// readers that pipeline 20 requests for 1,000 files each and never read, held for 30 s.
// Usage: vpo_soak [minutes, default 60]
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/big_tree.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/jobs_client.hpp"

using namespace std::chrono;
using namespace vpo::test;
using nlohmann::json;

namespace {

long status_field(pid_t pid, const std::string& key) {  // VmRSS (kB), Threads
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::atol(line.c_str() + key.size() + 1);
  return -1;
}

long open_fds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

struct counts {
  long requests = 0, unexpected = 0, failed = 0, scans = 0, cancels = 0, restarts = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int minutes = argc > 1 ? std::atoi(argv[1]) : 60;
  std::string tree = "/tmp/vpo-soak-tree-20000";
  ensure_tree(tree, 20000);
  daemon_process d;
  const std::vector<std::string> args = {"--workers", "2", "--log-level", "warning"};
  // The soak's own requests are far over the default rate limit (120 reads a minute).
  const std::map<std::string, std::string> env = {{"VPO_SERVER_RATE_LIMIT_ENABLED", "false"}};
  // Warnings and errors only (an hour of info records would be the soak's own leak): ready is
  // when /health answers 200.
  auto start_ready = [&] {
    d.start(args, env);
    return eventually(
        [&] {
          auto h = http_get(d.port(), "/health");
          return h && h->status == 200;
        },
        10s);
  };
  if (!start_ready()) {
    std::fprintf(stderr, "daemon did not start\n%s", d.proc().err().c_str());
    return 1;
  }
  counts c;
  auto start = steady_clock::now(), end = start + minutes * 1min;
  auto next_sample = start, next_scan = start, next_signal = start + 30s,
       next_restart = start + 5min;
  long rss_min = 1L << 40, rss_max = 0, fds_max = 0, threads_max = 0;
  std::string running_scan;
  std::string cursor;             // keyset paging through the library
  std::vector<int> slow_readers;  // connections that never read their answers
  std::string pipelined;
  for (int i = 0; i < 20; ++i)
    pipelined += "GET /api/files?limit=1000 HTTP/1.1\r\nHost: soak\r\n\r\n";
  std::printf("%8s %9s %6s %8s %9s %11s %7s %6s %9s\n", "minute", "rss_kib", "fds", "threads",
              "requests", "unexpected", "failed", "scans", "restarts");
  auto expect = [&](const std::optional<http_reply>& r, std::initializer_list<int> ok) {
    ++c.requests;
    if (!r) return ++c.failed, false;
    for (int s : ok)
      if (r->status == s) return true;
    ++c.unexpected;
    std::fprintf(stderr, "unexpected %d: %s\n", r->status, r->body.c_str());
    return false;
  };
  int round = 0;
  while (steady_clock::now() < end) {
    auto now = steady_clock::now();
    int port = d.port();
    expect(http_get(port, "/health"), {200});
    expect(http_get(port, "/readyz"), {200});
    expect(http_get(port, "/metrics"), {200});
    if (round % 2 == 0) {
      http_connection h(port);
      expect(h.request("GET", "/api/jobs?limit=20"), {200});
      auto p =
          h.request("POST", "/api/jobs", json{{"type", "scan"}, {"path", d.home().path()}}.dump());
      if (expect(p, {200, 201})) {
        std::string id = json::parse(p->body)["id"];
        expect(h.request("GET", "/api/jobs/" + id), {200});
        // Queued behind the workers, or already done: both are fine answers.
        expect(h.request("POST", "/api/jobs/" + id + "/cancel"), {200, 202, 409});
        ++c.cancels;
      }
      // Deep paging (the deep reader) and keyset paging (an index lookup).
      expect(h.request("GET", "/api/files?limit=100&offset=15000"), {200});
      auto k =
          h.request("GET", "/api/files?limit=100" + (cursor.empty() ? "" : "&after=" + cursor));
      if (expect(k, {200})) {
        auto next = json::parse(k->body)["next_after"];
        cursor = next.is_string() ? next.get<std::string>() : "";
      }
    }
    if (now >= next_scan) {
      next_scan = now + 10s;
      if (auto j = post_scan(port, tree)) {
        ++c.scans;
        if (c.scans % 3 == 0) running_scan = (*j)["id"];
      }
    }
    if (!running_scan.empty()) {
      auto j = get_job(port, running_scan);
      if (j && (*j)["status"] == "running") {
        http_connection h(port);
        expect(h.request("POST", "/api/jobs/" + running_scan + "/cancel"), {202, 409});
        running_scan.clear();
      }
    }
    if (now >= next_signal) {
      next_signal = now + 30s;
      for (int s : {SIGHUP, SIGUSR1, SIGALRM}) d.proc().signal(s);
      for (int fd : slow_readers) ::close(fd);
      slow_readers.clear();
      for (int i = 0; i < 50; ++i) {
        int fd = tiny_window_connection(port);
        if (fd < 0) continue;
        if (::send(fd, pipelined.data(), pipelined.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        }
        slow_readers.push_back(fd);
      }
    }
    if (now >= next_restart) {
      next_restart = now + 5min;
      for (int fd : slow_readers) ::close(fd);
      slow_readers.clear();
      auto code = d.stop(SIGTERM, 60s);
      if (code != 0) {
        std::fprintf(stderr, "drain exited %d\n%s", code.value_or(-1), d.proc().err().c_str());
        return 1;
      }
      if (!start_ready()) {
        std::fprintf(stderr, "restart failed\n%s", d.proc().err().c_str());
        return 1;
      }
      ++c.restarts;
    }
    if (now >= next_sample) {
      next_sample = now + 60s;
      pid_t pid = d.proc().pid();
      long rss = status_field(pid, "VmRSS"), threads = status_field(pid, "Threads");
      long fds = open_fds(pid);
      rss_min = std::min(rss_min, rss);
      rss_max = std::max(rss_max, rss);
      fds_max = std::max(fds_max, fds);
      threads_max = std::max(threads_max, threads);
      std::printf("%8.1f %9ld %6ld %8ld %9ld %11ld %7ld %6ld %9ld\n",
                  duration<double>(now - start).count() / 60, rss, fds, threads, c.requests,
                  c.unexpected, c.failed, c.scans, c.restarts);
      std::fflush(stdout);
    }
    ++round;
    std::this_thread::sleep_for(100ms);
  }
  std::string err = d.proc().err();
  long errors = 0;
  for (auto at = err.find("ERROR"); at != std::string::npos; at = err.find("ERROR", at + 1))
    ++errors;
  auto code = d.stop(SIGTERM, 60s);
  std::printf(
      "soak of %d min: %ld requests, %ld unexpected answers, %ld failed, %ld scans, %ld "
      "cancels, %ld restarts; RSS %ld..%ld KiB, fds <= %ld, threads <= %ld; ERROR "
      "records in the last run: %ld; final exit %d\n",
      minutes, c.requests, c.unexpected, c.failed, c.scans, c.cancels, c.restarts, rss_min, rss_max,
      fds_max, threads_max, errors, code.value_or(-1));
  return c.unexpected == 0 && c.failed == 0 && code == 0 ? 0 : 1;
}
