// health_test.cpp: /health, /livez, /readyz, errors and limits against the real daemon.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/big_tree.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/skip.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("/health has the five seed fields with their types, then extras", "[health]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  http_connection c(d.port());
  auto r = c.request("GET", "/health");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("content-type") == "application/json");
  CHECK(r->header("cache-control") == "no-store");
  auto j = json::parse(r->body);
  CHECK(j["status"] == "healthy");
  CHECK(j["database"] == "connected");
  CHECK(j["uptime_seconds"].is_number_float());
  CHECK(j["version"] == "0.1.0");
  CHECK(j["shutting_down"] == false);
  CHECK(j["drain"].is_null());
  auto keys = std::vector<std::string>{};
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  CHECK(r->body.rfind("{\"status\":", 0) == 0);

  SECTION("HEAD answers the same headers without a body, on the same keep-alive connection") {
    auto h = c.request("HEAD", "/health");
    REQUIRE(h);
    CHECK(h->status == 200);
    CHECK(h->body.empty());
    CHECK(std::stoul(h->header("content-length")) > 50);
    auto again = c.request("GET", "/health");
    REQUIRE(again);
    CHECK(again->status == 200);
  }
  SECTION("probes and errors") {
    auto live = c.request("GET", "/livez");
    REQUIRE(live);
    CHECK(live->status == 200);
    CHECK(live->body == "ok\n");
    auto ready = c.request("GET", "/readyz");
    REQUIRE(ready);
    CHECK(ready->status == 200);
    auto nf = c.request("GET", "/nowhere");
    REQUIRE(nf);
    CHECK(nf->status == 404);
    CHECK(json::parse(nf->body)["code"] == "NOT_FOUND");
    auto na = c.request("DELETE", "/health");
    REQUIRE(na);
    CHECK(na->status == 405);
    CHECK(na->header("allow") == "GET, HEAD");
    CHECK(json::parse(na->body)["code"] == "METHOD_NOT_ALLOWED");
    CHECK(na->header("cache-control") == "no-store");
  }
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("database replaced -> degraded 503 -> restored -> healthy, each transition logged once",
          "[health]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  auto status_is = [&](const std::string& want, int code) {
    auto r = http_get(d.port(), "/health");
    return r && r->status == code && json::parse(r->body)["status"] == want;
  };
  REQUIRE(status_is("healthy", 200));

  auto replaced_at = std::chrono::steady_clock::now();
  d.replace_database_with_garbage();
  REQUIRE(eventually([&] { return status_is("degraded", 503); }, 2000ms));
  CHECK(std::chrono::steady_clock::now() - replaced_at < 2100ms);
  auto body = json::parse(http_get(d.port(), "/health")->body);
  CHECK(body["database"] == "disconnected");
  auto ready = http_get(d.port(), "/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK_THAT(ready->body, Catch::StartsWith("database disconnected"));

  auto restored_at = std::chrono::steady_clock::now();
  d.restore_database();
  REQUIRE(eventually([&] { return status_is("healthy", 200); }, 2000ms));
  CHECK(std::chrono::steady_clock::now() - restored_at < 2100ms);

  CHECK(d.stop(SIGTERM) == 0);
  std::string err = d.proc().err();
  auto count = [&](const std::string& s) {
    std::size_t n = 0;
    for (auto p = err.find(s); p != std::string::npos; p = err.find(s, p + 1)) ++n;
    return n;
  };
  CHECK(count("database disconnected") == 1);
  CHECK(count("database connected again") == 1);
}

TEST_CASE("the database file removed turns health degraded within 2 s", "[health]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  std::filesystem::remove(d.db_path());
  REQUIRE(eventually(
      [&] {
        auto r = http_get(d.port(), "/health");
        return r && r->status == 503;
      },
      2000ms));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("every answer to a mangled request is valid JSON, also for non-UTF-8 bytes", "[http]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  auto check_json = [](const std::optional<http_reply>& r) {
    REQUIRE(r);
    INFO(r->status_line);
    CHECK_NOTHROW(json::parse(r->body));  // nlohmann rejects invalid UTF-8
  };
  for (const std::string target :
       {"/\xff", "/\xc3", "/api/jobs/\xed\xa0\x80", "/api/jobs/%ff\xfe", "/caf\xc3\xa9"}) {
    http_connection c(d.port());
    REQUIRE(c.send_raw("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    check_json(c.read_reply());
  }
  unsigned seed = 7;
  auto next = [&] { return seed = seed * 1103515245u + 12345u; };
  for (int round = 0; round < 300; ++round) {  // random bytes in the target
    std::string target = "/";
    for (int i = 0, n = static_cast<int>(next() % 12); i < n; ++i) {
      char ch = static_cast<char>(next() >> 16);
      if (ch != ' ' && ch != '\r' && ch != '\n') target += ch;
    }
    http_connection c(d.port());
    REQUIRE(c.send_raw("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = c.read_reply();
    if (r) CHECK_NOTHROW(json::parse(r->body));
  }
  auto h = http_get(d.port(), "/health");
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("garbage bytes get 400 and a closed connection, and the server stays up", "[http]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  http_connection c(d.port());
  REQUIRE(c.send_raw("\x16\x03\x01 this is not HTTP\r\n\r\n"));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(json::parse(r->body)["code"] == "BAD_REQUEST");
  CHECK(c.wait_closed());
  auto h = http_get(d.port(), "/health");
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("a header block over 16 KiB gets 431 and the server stays up", "[http]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  http_connection c(d.port());
  auto r = c.request("GET", "/health", "", "X-Big: " + std::string(17 * 1024, 'a') + "\r\n");
  REQUIRE(r);
  CHECK(r->status == 431);
  CHECK(c.wait_closed());
  // The same size in many small fields (Beast's own check let up to ~20 KiB through).
  auto fields = [](int n) {
    std::string h;
    for (int i = 0; i < n; ++i)
      h += "X-F" + std::to_string(i) + ": " + std::string(1000, 'b') + "\r\n";
    return h;
  };
  for (int kib : {17, 18, 20}) {
    INFO(kib << " fields of ~1 KiB");
    http_connection many(d.port());
    auto m = many.request("GET", "/health", "", fields(kib));
    REQUIRE(m);
    CHECK(m->status == 431);
  }
  http_connection fits(d.port());  // 15 fields: under the limit, answered
  auto ok = fits.request("GET", "/health", "", fields(15));
  REQUIRE(ok);
  CHECK(ok->status == 200);
  auto h = http_get(d.port(), "/health");
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("JSON logs are one valid object per line for a whole daemon life", "[logging]") {
  daemon_process d;
  d.start({"--log-format", "json"});
  REQUIRE(d.proc().wait_for_stderr("\"message\":\"ready\"", 10s));
  http_get(d.port(), "/health");
  CHECK(d.stop(SIGTERM) == 0);
  std::string err = d.proc().err();
  std::size_t lines = 0;
  for (std::size_t start = 0; start < err.size();) {
    auto end = err.find('\n', start);
    REQUIRE(end != std::string::npos);
    auto j = json::parse(err.substr(start, end - start));
    CHECK(j["daemon"] == true);
    CHECK(j["pid"] == d.proc().pid());
    ++lines;
    start = end + 1;
  }
  CHECK(lines >= 4);
  CHECK_THAT(err, Catch::Contains("\"message\":\"shutdown summary"));
}

TEST_CASE("at most 1024 concurrent connections: beyond them probes are answered, the rest refused",
          "[http]") {
  rlimit rl{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &rl) == 0);
  if (rl.rlim_max < 1200)
    VPO_SKIP("the open-file hard limit is below 1200, too low for 1,024 connections");
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  daemon_process d;
  REQUIRE(d.start_ready());
  std::vector<std::unique_ptr<http_connection>> conns;
  for (int i = 0; i < 1024; ++i) {
    conns.push_back(std::make_unique<http_connection>(d.port()));
    REQUIRE(conns.back()->connected());
  }
  // Each connection is accepted (a request on the last one is answered)...
  REQUIRE(conns.back()->request("GET", "/livez"));
  // ...beyond them a probe is still answered (a full server is not a dead one) and closed...
  for (const char* probe : {"/health", "/readyz", "/livez"}) {
    INFO(probe);
    http_connection over(d.port());
    auto r = over.request("GET", probe);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->header("connection") == "close");
    CHECK(over.wait_closed(2s));
  }
  // ...anything else gets 503 at once...
  http_connection api(d.port());
  auto refused = api.request("GET", "/api/jobs");
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(json::parse(refused->body)["code"] == "TOO_MANY_CONNECTIONS");
  CHECK(refused->header("retry-after") == "1");
  CHECK(api.wait_closed(2s));
  // ...and a connection over the cap that sends nothing is closed within a second.
  http_connection extra(d.port());
  CHECK(extra.wait_closed(2s));
  // Freeing one slot lets a new client in.
  conns.pop_back();
  CHECK(eventually(
      [&] {
        auto r = http_get(d.port(), "/health");
        return r && r->status == 200;
      },
      2s));
  conns.clear();
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("an HTTP/1.0 client gets an HTTP/1.0 answer and a closed connection", "[http]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  http_connection c(d.port());
  REQUIRE(c.send_raw("GET /health HTTP/1.0\r\n\r\n"));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status_line == "HTTP/1.0 200 OK");
  CHECK(c.wait_closed());
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("/metrics exposes the contract's families and counts requests", "[metrics]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  http_connection c(d.port());
  REQUIRE(c.request("GET", "/health"));
  REQUIRE(c.request("GET", "/nowhere"));
  REQUIRE(c.request("GET", "/api/jobs/no-such-job"));
  REQUIRE(c.request("POST", "/api/jobs/no-such-job/cancel"));
  auto r = c.request("GET", "/metrics");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  for (const char* s :
       {"vpo_build_info{version=\"0.1.0\"} 1",
        "vpo_up 1",
        "vpo_uptime_seconds ",
        "vpo_database_up 1",
        "vpo_shutting_down 0",
        "vpo_http_requests_total{method=\"GET\",route=\"/health\",code=\"200\"} 1",
        "vpo_http_requests_total{method=\"GET\",route=\"other\",code=\"404\"} 1",
        "vpo_http_requests_total{method=\"GET\",route=\"/api/jobs/{id}\",code=\"404\"} 1",
        "vpo_http_requests_total{method=\"POST\",route=\"/api/jobs/{id}/cancel\",code=\"404\"} 1",
        "vpo_http_request_duration_seconds_count{route=\"/health\"} 1",
        "# TYPE vpo_http_request_duration_seconds histogram",
        "vpo_jobs{status=\"queued\"} 0",
        "# TYPE vpo_jobs_finished_total counter",
        "vpo_jobs_finished_total{type=\"scan\",outcome=\"completed\"} 0",
        "vpo_jobs_finished_total{type=\"scan\",outcome=\"failed\"} 0",
        "vpo_jobs_finished_total{type=\"scan\",outcome=\"cancelled\"} 0",
        "vpo_library_files 0",
        "vpo_library_missing_files 0",
        "\nprocess_cpu_seconds_total ",
        "\nprocess_resident_memory_bytes ",
        "\nprocess_open_fds ",
        "\nprocess_max_fds ",
        "\nprocess_start_time_seconds "}) {
    INFO(s);
    CHECK_THAT(r->body, Catch::Contains(s));
  }
  CHECK_THAT(r->body, !Catch::Contains("no-such-job"));  // templates, never raw paths
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("API requests are logged at info with their request id, probes only at debug",
          "[http][logging]") {
  daemon_process d;
  d.start({"--log-format", "json"});
  REQUIRE(d.proc().wait_for_stderr("\"message\":\"ready\"", 10s));
  http_connection c(d.port());
  auto mine = c.request("GET", "/api/jobs?limit=1", "", "X-Request-ID: trace-42\r\n");
  REQUIRE(mine);
  CHECK(mine->header("x-request-id") == "trace-42");
  auto made = c.request("POST", "/api/jobs", "{nope");
  REQUIRE(made);
  CHECK(made->status == 400);
  std::string generated = made->header("x-request-id");
  CHECK(generated.size() == 32);
  REQUIRE(c.request("GET", "/health"));
  REQUIRE(c.request("GET", "/metrics"));
  REQUIRE(d.proc().wait_for_stderr(generated, 5s));
  CHECK(d.stop(SIGTERM) == 0);
  int api = 0;
  std::istringstream lines(d.proc().err());
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    if (!j.contains("request_id")) continue;
    CHECK(j["path"] != "/health");  // probes and /metrics: debug, not shown at info
    CHECK(j["path"] != "/metrics");
    CHECK(j["level"] == "info");
    CHECK(j["duration_ms"].is_number());
    if (j["request_id"] == "trace-42") {
      ++api;
      CHECK(j["method"] == "GET");
      CHECK(j["path"] == "/api/jobs");
      CHECK(j["status"] == 200);
    } else if (j["request_id"] == generated) {
      ++api;
      CHECK(j["method"] == "POST");
      CHECK(j["status"] == 400);
    }
  }
  CHECK(api == 2);
}

TEST_CASE("at debug level probes are logged too", "[http][logging]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--log-level", "debug"}));
  REQUIRE(http_get(d.port(), "/health"));
  CHECK(d.proc().wait_for_stderr("DEBUG vpo.http: GET /health 200", 5s));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("out of file descriptors: accepting pauses, open connections are served, it recovers",
          "[http]") {
  // A hard limit of 64 descriptors (the daemon cannot raise it) and 200 clients.
  temp_dir home;
  int port = free_port();
  auto o = vpo_command(home, {"serve", "--port", std::to_string(port)});
  o.args.insert(o.args.begin(), {"/usr/bin/prlimit", "--nofile=64:64"});
  process p(o);
  REQUIRE(p.wait_for_stderr(ready_line, 10s));
  http_connection kept(port);  // opened before the flood: must keep being served
  REQUIRE(kept.request("GET", "/health"));
  std::vector<std::unique_ptr<http_connection>> flood;
  for (int i = 0; i < 200; ++i) flood.push_back(std::make_unique<http_connection>(port));
  REQUIRE(p.wait_for_stderr("cannot accept connections: Too many open files", 5s));
  // Paused, not spinning: the daemon uses little CPU while the backlog waits.
  auto cpu = [&] {
    std::ifstream stat("/proc/" + std::to_string(p.pid()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string skip;
    long long utime = 0, stime = 0;
    for (int i = 0; i < 11; ++i) fields >> skip;
    fields >> utime >> stime;
    return utime + stime;  // clock ticks
  };
  auto before = cpu();
  std::this_thread::sleep_for(1s);
  CHECK(cpu() - before < sysconf(_SC_CLK_TCK) / 5);  // < 20 % of a core (it spun at 100 %)
  auto r = kept.request("GET", "/health");
  REQUIRE(r);
  CHECK(r->status == 200);
  flood.clear();  // descriptors come back
  CHECK(eventually(
      [&] {
        auto h = http_get(port, "/health");
        return h && h->status == 200;
      },
      5s));
  CHECK(p.wait_for_stderr("accepting connections again", 5s));
  std::string err = p.err();
  std::size_t warnings = 0;
  for (auto at = err.find("cannot accept connections"); at != std::string::npos;
       at = err.find("cannot accept connections", at + 1))
    ++warnings;
  CHECK(warnings == 1);  // logged once, not per failed accept()
  p.signal(SIGTERM);
  CHECK(p.wait(10s) == 0);
}

namespace {

json health_of(int port) {
  auto h = http_get(port, "/health");
  return h ? json::parse(h->body) : json();
}

// The database cannot be written for a while: /health says so with the reason within 2 s,
// writes are refused at once naming it, reads go on, nothing is created; then it recovers.
template <class Break, class Mend>
void check_unwritable(daemon_process& d, const std::string& reason, Break break_it, Mend mend) {
  http_connection c(d.port());
  auto before = c.request("GET", "/api/jobs");
  REQUIRE(before);
  long long jobs = json::parse(before->body)["total"];
  break_it();
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return health_of(d.port())["database"] == "disconnected"; }, 2500ms));
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  auto h = health_of(d.port());
  CHECK(h["status"] == "degraded");
  CHECK_THAT(h["database_error"].get<std::string>(), Catch::Contains(reason));
  auto posted_at = std::chrono::steady_clock::now();
  auto post =
      c.request("POST", "/api/jobs", json{{"type", "scan"}, {"path", d.home().path()}}.dump());
  REQUIRE(post);
  CHECK(std::chrono::steady_clock::now() - posted_at < 500ms);  // at once, not after a timeout
  CHECK(post->status == 503);
  CHECK(json::parse(post->body)["code"] == "DATABASE_UNAVAILABLE");
  CHECK_THAT(json::parse(post->body)["error"].get<std::string>(), Catch::Contains(reason));
  auto list = c.request("GET", "/api/jobs");  // reads still work
  REQUIRE(list);
  CHECK(list->status == 200);
  CHECK(json::parse(list->body)["total"] == jobs);
  mend();
  t0 = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return health_of(d.port())["status"] == "healthy"; }, 2500ms));
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  CHECK(health_of(d.port())["database_error"].is_null());
  auto again =
      c.request("POST", "/api/jobs", json{{"type", "scan"}, {"path", d.home().path()}}.dump());
  REQUIRE(again);
  CHECK(again->status == 201);
  CHECK(json::parse(c.request("GET", "/api/jobs")->body)["total"] == jobs + 1);
}

}  // namespace

TEST_CASE(
    "another process holding the write lock: degraded with the reason, writes refused at "
    "once, reads served, recovery within 2 s",
    "[health]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1"}));
  std::unique_ptr<write_lock_holder> lock;
  check_unwritable(
      d, "another process holds its write lock",
      [&] { lock = std::make_unique<write_lock_holder>(d.db_path()); }, [&] { lock.reset(); });
  CHECK_THAT(d.proc().err(), Catch::Contains("database disconnected: database"));
  CHECK_THAT(d.proc().err(), Catch::Contains("database connected again"));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("a full disk: degraded with the reason, writes refused at once, recovery within 2 s",
          "[health]") {
  if (::geteuid() != 0) VPO_SKIP("needs root, to mount a small tmpfs of its own");
  tmpfs_mount mnt("4m");
  if (!mnt.ok()) VPO_SKIP("cannot mount a tmpfs here: the full-disk case is not exercised");
  const std::string& fs = mnt.path();
  daemon_process d;
  REQUIRE(d.start_ready({"--workers", "1", "--db", fs + "/library.db"}));
  std::string filler = fs + "/filler";
  check_unwritable(
      d, "no space left",
      [&] {  // fill the file system to the last block
        (void)std::system(("dd if=/dev/zero of='" + filler + "' bs=64k 2>/dev/null").c_str());
      },
      [&] { std::filesystem::remove(filler); });
  CHECK(d.stop(SIGTERM) == 0);
}

namespace {

int connect_nonblocking(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

}  // namespace

TEST_CASE("300 clients trickling their requests a byte at a time: all answered, probes not held up",
          "[http][fault]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  struct client {
    int fd;
    std::size_t sent = 0;
    std::string got;
    bool done = false;
  };
  std::vector<client> clients;
  for (int i = 0; i < 300; ++i) {
    int fd = connect_nonblocking(d.port());
    REQUIRE(fd >= 0);
    clients.push_back({fd, 0, {}, false});
  }
  std::vector<double> probe_ms;
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 20s) {
    bool all_done = true;
    for (auto& c : clients) {
      if (c.done) continue;
      all_done = false;
      if (c.sent < request.size() && ::send(c.fd, &request[c.sent], 1, MSG_NOSIGNAL) == 1) ++c.sent;
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(c.fd, buf, sizeof buf, 0)) > 0)
        c.got.append(buf, static_cast<std::size_t>(n));
      if (n == 0) c.done = true;
    }
    if (all_done) break;
    auto t0 = std::chrono::steady_clock::now();  // a probe from elsewhere meanwhile
    auto h = http_get(d.port(), "/health");
    probe_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    REQUIRE(h);
    CHECK(h->status == 200);
    std::this_thread::sleep_for(40ms);
  }
  int answered = 0;
  for (auto& c : clients) {
    answered += c.got.rfind("HTTP/1.1 200 OK", 0) == 0 ? 1 : 0;
    ::close(c.fd);
  }
  CHECK(answered == 300);
  std::sort(probe_ms.begin(), probe_ms.end());
  REQUIRE(!probe_ms.empty());
  // Not stuck behind the tricklers (that would take seconds). The contract's 100 ms p99 is a
  // benchmark figure (bench/http_bench.sh): sanitizer builds under a parallel ctest are slower.
  CHECK(probe_ms.back() < 1000.0);
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("pipelined, truncated and oversized requests: answered in order or refused, server up",
          "[http][fault]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  {  // three requests in one write: three answers, in order
    http_connection c(d.port());
    REQUIRE(
        c.send_raw("GET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                   "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto a = c.read_reply();
    auto b = c.read_reply();
    auto e = c.read_reply();
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(e);
    CHECK(a->status == 200);
    CHECK(b->status == 404);
    CHECK(e->status == 200);
    CHECK_NOTHROW(json::parse(e->body));
  }
  for (const std::string cut : {"GET /hea", "GET /health HTTP/1.1\r\nHo",
                                "POST /api/jobs HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"ty"}) {
    http_connection c(d.port());  // the client goes away half way
    REQUIRE(c.send_raw(cut));
  }
  {  // a body over 1 MiB
    http_connection c(d.port());
    std::string big(1024 * 1024 + 10, 'x');
    REQUIRE(
        c.send_raw("POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: " +
                   std::to_string(big.size()) + "\r\n\r\n"));
    c.send_raw(big);  // may fail half way: the server answers and closes early
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(json::parse(r->body)["code"] == "PAYLOAD_TOO_LARGE");
  }
  auto h = http_get(d.port(), "/health");
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(d.stop(SIGTERM) == 0);
}
