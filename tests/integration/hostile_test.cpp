// hostile_test.cpp: the daemon under the second round of attacks (issue 19): bodies built to
// make the JSON parse quadratic, slow readers, poisoned reloads, damaged databases, signals that
// used to kill, bursts of submissions and connections, and HTTP framing tricks. The real binary,
// real sockets, real signals.
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/big_tree.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/jobs_client.hpp"
#include "tests/support/skip.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

#ifdef VPO_SANITIZED_BUILD
constexpr bool sanitized_build = true;
#else
constexpr bool sanitized_build = false;
#endif

// A JSON object of `n` distinct keys (80,000 is about 1 MB: under the body limit).
std::string many_keys(int n) {
  std::string body = "{";
  for (int i = 0; i < n; ++i) body += (i ? ",\"" : "\"") + std::to_string(i) + "\":0";
  return body + "}";
}

}  // namespace

TEST_CASE("bodies of 80,000 keys or 100,000 levels are refused at once and stall nothing",
          "[hostile][api]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  std::string keys = many_keys(80000);
  REQUIRE(keys.size() < 1024 * 1024);
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  // Four at once (before: 5.7 s each on the io thread, every /api call stalled for 26 s).
  std::vector<std::future<std::optional<http_reply>>> attacks;
  for (int i = 0; i < 4; ++i)
    attacks.push_back(std::async(std::launch::async, [&, i] {
      http_connection c(d.port());
      return c.request("POST", "/api/jobs", i % 2 ? deep : keys,
                       "Content-Type: application/json\r\n");
    }));
  auto started = std::chrono::steady_clock::now();
  auto list = http_get(d.port(), "/api/jobs");
  REQUIRE(list);
  CHECK(list->status == 200);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  for (auto& a : attacks) {
    auto r = a.get();
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(json::parse(r->body)["code"] == "INVALID_JSON");
  }
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("HTTP framing: folded or listed Transfer-Encoding, Host and Authorization rules",
          "[hostile][http]") {
  const std::string token = "0123456789abcdef0123";
  daemon_process d;
  REQUIRE(d.start_ready({}, {{"VPO_AUTH_TOKEN", token}}));
  auto auth = "Authorization: Bearer " + token + "\r\n";
  // A request hidden in the body of an obs-folded chunked POST: refused, and the hidden request
  // is never read (before: the POST got 400 for its empty body, then the hidden GET ran).
  auto refused_unread = [&](const std::string& head, const std::string& why) {
    http_connection c(d.port());
    REQUIRE(
        c.send_raw(head + "\r\n0\r\n\r\nGET /api/jobs HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n"));
    auto r = c.read_reply();
    REQUIRE(r);
    INFO(head << r->body);
    CHECK(r->status == 400);
    CHECK_THAT(r->body, Catch::Contains(why));
    CHECK(r->header("connection") == "close");
    CHECK(c.wait_closed());
  };
  std::string post = "POST /api/jobs HTTP/1.1\r\nHost: x\r\n" + auth;
  refused_unread(post + "Transfer-Encoding:\r\n chunked\r\n", "obsolete line folding");
  refused_unread(post + "Transfer-Encoding: identity,\r\n\tchunked\r\n", "obsolete line folding");
  refused_unread(post + "Transfer-Encoding: identity, chunked\r\n", "exactly 'chunked'");
  refused_unread(post + "Transfer-Encoding: gzip\r\n", "exactly 'chunked'");
  refused_unread(post + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                 "more than one Transfer-Encoding");
  // A plain chunked body is still fine (an invalid job here: 400 INVALID_FIELD, kept alive).
  {
    http_connection c(d.port());
    std::string body = "{\"type\":\"scan\"}";
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    REQUIRE(c.send_raw(post + "Transfer-Encoding: chunked\r\n\r\n" + size + "\r\n" + body +
                       "\r\n0\r\n\r\n"));
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK_THAT(r->body, Catch::Contains("INVALID_FIELD"));
  }
  auto one = [&](const std::string& raw) {
    http_connection c(d.port());
    REQUIRE(c.send_raw(raw));
    auto r = c.read_reply();
    REQUIRE(r);
    return *r;
  };
  auto no_host = one("GET /health HTTP/1.1\r\n\r\n");
  CHECK(no_host.status == 400);
  CHECK_THAT(no_host.body, Catch::Contains("needs a Host header"));
  auto two_hosts = one("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  CHECK(two_hosts.status == 400);
  CHECK_THAT(two_hosts.body, Catch::Contains("more than one Host"));
  CHECK(one("GET /health HTTP/1.0\r\n\r\n").status == 200);  // HTTP/1.0 has no Host rule
  auto two_auth =
      one("GET /api/jobs HTTP/1.1\r\nHost: x\r\n" + auth + "Authorization: Bearer wrong\r\n\r\n");
  CHECK(two_auth.status == 400);
  CHECK_THAT(two_auth.body, Catch::Contains("more than one Authorization"));
  // Schemes are case-insensitive (RFC 9110 §11.1).
  CHECK(one("GET /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: bearer " + token +
            "\r\nConnection: close\r\n\r\n")
            .status == 200);
  CHECK(one("GET /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: bearer nope\r\n"
            "Connection: close\r\n\r\n")
            .status == 401);
}

namespace {

// Raises this process's open-file limit for tests that hold over a thousand sockets; false
// (and the test says why) when the machine cannot.
bool enough_descriptors(rlim_t need) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max < need) return false;
  rl.rlim_cur = rl.rlim_max;
  return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

// The daemon's resident memory, and its peak, in MiB (from /proc).
std::pair<long, long> rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  long rss = 0, peak = 0;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::atol(line.c_str() + 6) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) peak = std::atol(line.c_str() + 6) / 1024;
  }
  return {rss, peak};
}

}  // namespace

TEST_CASE("1,030 clients that ask for big answers and never read them are cut off, not served",
          "[hostile][http][slow]") {
  if (!enough_descriptors(2400))
    VPO_SKIP("the open-file limit is below 2400, too low to hold 1,030 connections");
  daemon_process d;
  REQUIRE(d.start_ready({}, {{"VPO_SERVER_RATE_LIMIT_ENABLED", "false"}}));
  // 1,000 files with long names: a page of them is a ~300 KB answer.
  for (int i = 0; i < 1000; ++i)
    d.home().write("lib/" + std::string(180, 'n') + std::to_string(i) + ".mkv", "");
  auto created = post_scan(d.port(), d.home().file("lib"));
  REQUIRE(created);
  REQUIRE(job_reaches(d.port(), (*created)["id"], "completed", 30s));
  auto page = http_get(d.port(), "/api/files?limit=1000");
  REQUIRE(page);
  REQUIRE(page->body.size() > 250000);

  std::string ask;
  for (int i = 0; i < 20; ++i) ask += "GET /api/files?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<int> readers;
  for (int i = 0; i < 1030; ++i) {
    int fd = tiny_window_connection(d.port());
    if (fd < 0) continue;
    readers.push_back(fd);
    ::send(fd, ask.data(), ask.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  CHECK(readers.size() == 1030);
  // Another client gets its answer within seconds (before: 503 TOO_MANY_CONNECTIONS for 65 s
  // and more), and the daemon's memory stays bounded (before: 433 MB).
  // An unoptimized ASan build renders each 300 KB answer ~10x slower and keeps freed memory in
  // its quarantine: there the bound is wider and memory is not judged (release: 1.6 s, 68 MiB).
  const auto limit = sanitized_build ? 60s : 10s;
  auto started = std::chrono::steady_clock::now();
  bool served = eventually(
      [&] {
        http_connection c(d.port());
        auto r = c.request("GET", "/api/jobs?limit=1");
        return r && r->status == 200;
      },
      limit + 10s);
  auto waited = std::chrono::steady_clock::now() - started;
  INFO("served after " << std::chrono::duration<double>(waited).count() << " s");
  CHECK(served);
  CHECK(waited < limit);
  auto [rss, peak] = rss_mib(d.proc().pid());
  INFO("RSS " << rss << " MiB, peak " << peak << " MiB");
  if (sanitized_build)
    WARN("memory not judged under AddressSanitizer (its quarantine holds freed memory): peak "
         << peak << " MiB");
  else
    CHECK(peak < 200);
  for (int fd : readers) ::close(fd);
  auto h = http_get(d.port(), "/health");
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(d.stop(SIGTERM, 15s) == 0);
}

TEST_CASE("an accept burst of 1,100 silent connections: a probe behind them is still answered",
          "[hostile][http]") {
  if (!enough_descriptors(2400))
    VPO_SKIP("the open-file limit is below 2400, too low to hold 1,100 connections");
  daemon_process d;
  REQUIRE(d.start_ready());
  std::vector<std::unique_ptr<http_connection>> burst;
  for (int i = 0; i < 1100; ++i) burst.push_back(std::make_unique<http_connection>(d.port()));
  // At once, while the burst's reserve connections still wait for a request (before: reset
  // for about 2 s, contract §4 says a probe gets its answer when the limit is full).
  for (int i = 0; i < 5; ++i) {
    http_connection probe(d.port());
    auto r = probe.request("GET", "/health");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  burst.clear();
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("64 submissions at once on a fast file system are all checked and created",
          "[hostile][api]") {
  daemon_process d;
  REQUIRE(d.start_ready({}, {{"VPO_SERVER_RATE_LIMIT_ENABLED", "false"}}));
  for (int i = 0; i < 64; ++i) d.home().write("dirs/d" + std::to_string(i) + "/x.txt", "");
  // Before: more than 16 at once got 503 PATH_CHECK_TIMEOUT blaming the file system.
  std::vector<std::future<std::optional<http_reply>>> posts;
  for (int i = 0; i < 64; ++i)
    posts.push_back(std::async(std::launch::async, [&, i] {
      http_connection c(d.port());
      json body = {{"type", "scan"}, {"path", d.home().file("dirs/d" + std::to_string(i))}};
      return c.request("POST", "/api/jobs", body.dump(), "Content-Type: application/json\r\n");
    }));
  int created = 0;
  for (auto& p : posts) {
    auto r = p.get();
    REQUIRE(r);
    INFO(r->body);
    CHECK(r->status == 201);
    created += r->status == 201;
  }
  CHECK(created == 64);
}

TEST_CASE(
    "damaged pages in the database: degraded within 2 s of start-up, connected again once "
    "a good copy is put back",
    "[hostile][db]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  for (int i = 0; i < 3000; ++i)
    d.home().write(
        "lib/d" + std::to_string(i % 30) + "/a-long-file-name-" + std::to_string(i) + ".mkv", "");
  auto created = post_scan(d.port(), d.home().file("lib"));
  REQUIRE(created);
  REQUIRE(job_reaches(d.port(), (*created)["id"], "completed", 30s));
  REQUIRE(d.stop(SIGTERM) == 0);
  // A stopped daemon leaves one self-contained file: no WAL beside it (else its frames would
  // hide the damage below, and a copy of the file alone would be stale).
  REQUIRE_FALSE(std::filesystem::exists(d.db_path() + "-wal"));
  std::string good = d.home().file("good-copy.db");
  std::filesystem::copy_file(d.db_path(), good);
  {
    std::FILE* f = std::fopen(d.db_path().c_str(), "r+b");
    REQUIRE(f);
    std::string garbage(16 * 1024, '\xff');
    for (long page = 8; page < 12; ++page) {
      std::fseek(f, page * 16 * 1024, SEEK_SET);
      std::fwrite(garbage.data(), 1, garbage.size(), f);
    }
    std::fclose(f);
  }
  // Before: 200 connected while reads failed with 503.
  d.start();
  REQUIRE(d.proc().wait_for_stderr("vpo.supervisor: ready", 10s));
  auto started = std::chrono::steady_clock::now();
  REQUIRE(eventually(
      [&] {
        auto h = http_get(d.port(), "/health");
        return h && h->status == 503 && json::parse(h->body)["database"] == "disconnected";
      },
      3s));
  CHECK(std::chrono::steady_clock::now() - started < 2500ms);
  auto h = json::parse(http_get(d.port(), "/health")->body);
  CHECK(h["status"] == "degraded");
  CHECK_THAT(h["database_error"].get<std::string>(), Catch::Contains("is damaged"));
  CHECK(d.proc().wait_for_stderr("restore it from a backup", 2s));
  // The operator puts a good copy in place (rename, as a restore does): connected within 2 s.
  std::filesystem::rename(good, d.db_path());
  CHECK(eventually(
      [&] {
        auto r = http_get(d.port(), "/health");
        return r && r->status == 200;
      },
      3s));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("eight clients paging at offset 999,000 do not hold up other reads, and keyset pages",
          "[hostile][api][slow]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  REQUIRE(d.stop(SIGTERM) == 0);
  // A library of 1,000,000 files, written straight into the database.
  exec_db(d.db_path(),
          "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999) "
          "INSERT INTO files (path, size, modified_at, mtime_ns, extension, scanned_at) "
          "SELECT printf('/media/show %03d/episode %07d.mkv', i / 1000, i), i, "
          "'2026-01-01T00:00:00Z', i, 'mkv', '2026-01-01T00:00:00Z' FROM n");
  REQUIRE(d.start_ready({}, {{"VPO_SERVER_RATE_LIMIT_ENABLED", "false"}}));

  // Keyset pages: next_after is the cursor, and a page after it continues in order.
  auto first = json::parse(http_get(d.port(), "/api/files?limit=2")->body);
  REQUIRE(first["files"].size() == 2);
  CHECK(first["total"] == 1000000);
  REQUIRE(first["next_after"].is_string());
  auto next = json::parse(
      http_get(d.port(), "/api/files?limit=2&after=" + first["next_after"].get<std::string>())
          ->body);
  REQUIRE(next["files"].size() == 2);
  CHECK(next["files"][0]["path"] == "/media/show 000/episode 0000002.mkv");
  auto deep_key = json::parse(
      http_get(d.port(), "/api/files?limit=1&after=%2Fmedia%2Fshow%20999%2Fepisode%200999998.mkv")
          ->body);
  REQUIRE(deep_key["files"].size() == 1);
  CHECK(deep_key["files"][0]["path"] == "/media/show 999/episode 0999999.mkv");
  CHECK(deep_key["next_after"].is_string());  // full page (of 1): a cursor, to an empty page

  std::atomic<bool> stop{false};
  std::atomic<int> deep_pages{0};
  std::vector<std::thread> deep;
  for (int i = 0; i < 8; ++i)
    deep.emplace_back([&] {
      http_connection c(d.port());
      while (!stop) {
        auto r = c.request("GET", "/api/files?limit=100&offset=999000");
        if (!r || r->status != 200) break;
        ++deep_pages;
      }
    });
  // Before: every other read waited behind the deep ones (0.6-1.1 s on one reader).
  REQUIRE(eventually([&] { return deep_pages.load() >= 8; }, 30s));
  http_connection c(d.port());
  std::chrono::duration<double> worst{0};
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = c.request("GET", "/api/jobs?limit=5");
    auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE(r);
    CHECK(r->status == 200);
    worst = std::max<std::chrono::duration<double>>(worst, took);
    std::this_thread::sleep_for(50ms);
  }
  stop = true;
  for (auto& t : deep) t.join();
  INFO("worst /api/jobs during deep paging: " << worst.count() * 1000 << " ms; deep pages "
                                              << deep_pages.load());
  CHECK(worst < 300ms);
  CHECK(d.stop(SIGTERM) == 0);
}
