// shutdown_test.cpp: real signals against the real daemon: drain, deadline, SIGQUIT, bursts.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/in_flight_request.hpp"
#include "tests/support/notify_socket.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;

namespace {

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of('\n');
  auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - start);
}

}  // namespace

TEST_CASE("SIGTERM and SIGINT on an idle daemon exit 0 with a summary as the last line",
          "[shutdown]") {
  for (int signo : {SIGTERM, SIGINT}) {
    daemon_process d;
    REQUIRE(d.start_ready());
    auto sent = std::chrono::steady_clock::now();
    CHECK(d.stop(signo, 5s) == 0);
    CHECK(std::chrono::steady_clock::now() - sent < 2s);
    std::string err = d.proc().err();
    CHECK_THAT(last_line(err), Catch::Contains("INFO  vpo.daemon: shutdown summary: drained"));
    CHECK_THAT(err, Catch::Contains("sender_pid=" + std::to_string(::getpid())));
    CHECK(count(err, "shutdown summary") == 1);
  }
}

TEST_CASE(
    "SIGTERM closes idle keep-alive connections, refuses new ones, and answers in-flight "
    "requests with Connection: close before exit 0",
    "[shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--log-level", "debug"}));
  http_connection idle(d.port());
  REQUIRE(idle.request("GET", "/health"));  // now idle in keep-alive
  http_connection partial(d.port());
  REQUIRE(partial.send_raw("GET /health HTTP/1.1\r\nHost: x\r\n"));  // headers incomplete: idle
  in_flight_request busy(d);

  d.proc().signal(SIGTERM);
  REQUIRE(d.proc().wait_for_stderr("draining, deadline in 30 s", 5s));
  CHECK(idle.wait_closed(2s));
  CHECK(partial.wait_closed(2s));
  CHECK(eventually([&] { return connection_refused(d.port()); }, 2s));
  CHECK_FALSE(d.proc().wait(200ms).has_value());  // still draining: a request is in flight

  auto reply = busy.finish();
  REQUIRE(reply);
  CHECK(reply->header("connection") == "close");
  CHECK(d.proc().wait(5s) == 0);
}

TEST_CASE("a burst of signals starts one drain and logs the others", "[shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--log-level", "debug"}));
  in_flight_request busy(d);
  for (int i = 0; i < 5; ++i) d.proc().signal(i % 2 ? SIGINT : SIGTERM);
  // Pending signals of one kind coalesce in the kernel, so at least one SIGTERM and one SIGINT
  // arrive: the second of those is logged, nothing else happens.
  REQUIRE(d.proc().wait_for_stderr("already draining", 5s));
  CHECK_FALSE(d.proc().wait(300ms).has_value());
  REQUIRE(busy.finish());
  CHECK(d.proc().wait(5s) == 0);
  CHECK(count(d.proc().err(), "draining, deadline in") == 1);
  CHECK(count(d.proc().err(), "already draining") <= 4);
  CHECK(count(d.proc().err(), "shutdown summary") == 1);
}

TEST_CASE("the drain deadline forces exit 143 and a WARNING summary", "[shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--shutdown-timeout", "1", "--log-level", "debug"}));
  in_flight_request busy(d);
  auto sent = std::chrono::steady_clock::now();
  d.proc().signal(SIGTERM);
  CHECK(d.proc().wait(5s) == 143);
  auto took = std::chrono::steady_clock::now() - sent;
  CHECK(took >= 900ms);
  CHECK(took < 3s);  // the contract's bound: timeout + 2 s
  CHECK_THAT(last_line(d.proc().err()),
             Catch::Contains("WARN  vpo.daemon: shutdown summary: forced"));
}

TEST_CASE("SIGQUIT forces the stop at once, idle or during a drain, exit 131", "[shutdown]") {
  SECTION("idle") {
    daemon_process d;
    REQUIRE(d.start_ready());
    CHECK(d.stop(SIGQUIT, 3s) == 131);
  }
  SECTION("during a SIGTERM drain") {
    daemon_process d;
    REQUIRE(d.start_ready({"--log-level", "debug"}));
    in_flight_request busy(d);
    d.proc().signal(SIGTERM);
    REQUIRE(d.proc().wait_for_stderr("draining, deadline in 30 s", 5s));
    auto sent = std::chrono::steady_clock::now();
    CHECK(d.stop(SIGQUIT, 5s) == 131);
    CHECK(std::chrono::steady_clock::now() - sent < 2s);
  }
}

TEST_CASE("/health turns unhealthy 503 with drain details as soon as the drain starts",
          "[shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--log-level", "debug"}));
  http_connection keep(d.port());
  REQUIRE(keep.send_raw("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n"));
  // That request waits for one body byte: it is in flight, so the drain cannot finish.
  REQUIRE(d.proc().wait_for_stderr("path=/health", 5s));
  d.proc().signal(SIGTERM);
  REQUIRE(d.proc().wait_for_stderr("listener closed", 5s));  // the gateway's drain has begun
  REQUIRE(keep.send_raw("x"));
  auto r = keep.read_reply();
  REQUIRE(r);
  CHECK(r->status == 503);
  auto j = nlohmann::json::parse(r->body);
  CHECK(j["status"] == "unhealthy");
  CHECK(j["shutting_down"] == true);
  CHECK(j["drain"]["phase"] == "draining");
  CHECK(j["drain"]["seconds_left"].get<double>() > 25.0);
  CHECK(j["drain"]["requests_in_flight"] == 0);
  CHECK(r->header("connection") == "close");
  CHECK(d.proc().wait(5s) == 0);
}

TEST_CASE("READY=1 and STOPPING=1 reach the systemd notify socket", "[shutdown][systemd]") {
  notify_socket ns;
  daemon_process d;
  REQUIRE(d.start_ready({}, {{"NOTIFY_SOCKET", ns.path()}}));
  CHECK(ns.wait_for("READY=1", 5s));
  d.proc().signal(SIGTERM);
  CHECK(ns.wait_for("STOPPING=1", 5s));
  CHECK(d.proc().wait(5s) == 0);
}

TEST_CASE("a broken stderr never stops the daemon", "[logging][shutdown]") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  ::close(p[0]);  // every log write fails with EPIPE
  temp_dir home;
  auto port = free_port();
  auto o = vpo_command(home, {"serve", "--port", std::to_string(port), "--log-level", "debug"});
  o.stderr_fd = p[1];
  process d(o);
  ::close(p[1]);
  CHECK(eventually(
      [&] {
        auto r = http_get(port, "/health");
        return r && r->status == 200;
      },
      10s));
  for (int i = 0; i < 50; ++i) http_get(port, "/health");  // each one logs at debug level
  d.signal(SIGTERM);
  CHECK(d.wait(10s) == 0);
}

TEST_CASE("signals whose default would end the process are logged and ignored", "[shutdown]") {
  // Contract §5: a stray `kill -USR1` never takes the daemon down; it is a WARNING naming the
  // sender. Faults (SIGSEGV-class, SIGABRT) keep their default and are not sent here.
  daemon_process d;
  REQUIRE(d.start_ready());
  const std::vector<std::pair<int, std::string>> strays = {
      {SIGUSR1, "SIGUSR1"},     {SIGUSR2, "SIGUSR2"},
      {SIGALRM, "SIGALRM"},     {SIGVTALRM, "SIGVTALRM"},
      {SIGPROF, "SIGPROF"},     {SIGIO, "SIGIO"},
      {SIGPWR, "SIGPWR"},       {SIGXCPU, "SIGXCPU"},
      {SIGXFSZ, "SIGXFSZ"},     {SIGSTKFLT, "SIGSTKFLT"},
      {SIGTRAP, "SIGTRAP"},     {SIGSYS, "SIGSYS"},
      {SIGRTMIN, "SIGRTMIN+0"}, {SIGRTMAX, "SIGRTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN)}};
  for (auto& [signo, name] : strays) {
    INFO(name);
    d.proc().signal(signo);
    REQUIRE(d.proc().wait_for_stderr("received " + name, 5s));
    auto h = http_get(d.port(), "/health");
    REQUIRE(h);
    CHECK(h->status == 200);
  }
  std::string err = d.proc().err();
  CHECK(count(err, "WARN  vpo.daemon: received SIG") == strays.size());
  CHECK(count(err, ": ignored (SIGTERM or SIGINT drain") == strays.size());
  CHECK_THAT(err, Catch::Contains("received SIGUSR1 from pid " + std::to_string(::getpid())));
  CHECK(d.stop(SIGTERM, 5s) == 0);
  CHECK_THAT(last_line(d.proc().err()), Catch::Contains("shutdown summary: drained"));
}

TEST_CASE("a storm of 100 mixed signals during a drain: one drain, one summary, exit 0",
          "[shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--log-level", "debug"}));
  in_flight_request busy(d);
  d.proc().signal(SIGTERM);
  REQUIRE(d.proc().wait_for_stderr("draining, deadline in 30 s", 5s));
  const int mix[] = {SIGHUP,  SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH,
                     SIGCHLD, SIGCONT, SIGPIPE, SIGTERM, SIGINT};
  for (int i = 0; i < 100; ++i) d.proc().signal(mix[i % 10]);
  // The last of the storm is seen: every pending signal before it was handled too.
  d.proc().signal(SIGRTMIN + 1);
  REQUIRE(d.proc().wait_for_stderr("received SIGRTMIN+1", 5s));
  CHECK_FALSE(d.proc().wait(200ms).has_value());  // still draining: the request is in flight
  REQUIRE(busy.finish());
  CHECK(d.proc().wait(5s) == 0);
  std::string err = d.proc().err();
  CHECK(count(err, "draining, deadline in") == 1);
  CHECK(count(err, "shutdown summary") == 1);
  CHECK_THAT(last_line(err), Catch::Contains("shutdown summary: drained"));
}

TEST_CASE("a fractional drain deadline is logged as it is", "[shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready({"--shutdown-timeout", "0.5", "--log-level", "debug"}));
  in_flight_request busy(d);
  d.proc().signal(SIGTERM);
  CHECK(d.proc().wait(5s) == 143);
  CHECK_THAT(d.proc().err(), Catch::Contains("draining, deadline in 0.5 s"));
}

TEST_CASE("the last-resort exit waits for nothing: a stalled log reader cannot keep the daemon",
          "[shutdown]") {
  // stderr is a pipe nobody reads: once it is full the log thread blocks, the flush at the end
  // of the drain never finishes, and only the watchdog (shutdown_timeout + 2 s) ends the process.
  // It must not wait for the log pipeline itself.
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  temp_dir home;
  int port = free_port();
  auto o = vpo_command(home, {"serve", "--port", std::to_string(port), "--shutdown-timeout", "0.5",
                              "--log-level", "debug"});
  o.stderr_fd = fds[1];
  process p(o);
  ::close(fds[1]);
  REQUIRE(eventually(
      [&] {
        auto h = http_get(port, "/health");
        return h && h->status == 200;
      },
      10s));
  {
    http_connection c(port);  // each request is a debug record: far more than the pipe holds
    for (int i = 0; i < 3000; ++i) REQUIRE(c.request("GET", "/health"));
  }
  int queued = 0;
  REQUIRE(::ioctl(fds[0], FIONREAD, &queued) == 0);
  CHECK(queued >= 60000);  // the pipe is full: the log thread is stuck in write(2)
  auto sent = std::chrono::steady_clock::now();
  p.signal(SIGTERM);
  CHECK(p.wait(10s) == 143);
  auto took = std::chrono::steady_clock::now() - sent;
  CHECK(took >= 2s);  // the drain itself finished; the flush could not
  CHECK(took < 4s);   // 0.5 s + 2 s, and nothing after it
  ::close(fds[0]);
}

TEST_CASE(
    "with systemd's watchdog on, WATCHDOG=1 comes while the daemon answers, none while it "
    "is frozen",
    "[shutdown][systemd]") {
  notify_socket ns;
  daemon_process d;
  // WatchdogSec=0.4s: a ping every 0.2 s at most.
  REQUIRE(d.start_ready({}, {{"NOTIFY_SOCKET", ns.path()}, {"WATCHDOG_USEC", "400000"}}));
  REQUIRE(ns.wait_for("READY=1", 5s));
  CHECK(ns.count("WATCHDOG=1", 1s) >= 3);
  d.proc().signal(SIGSTOP);       // hung: systemd would kill and restart it
  ns.count("WATCHDOG=1", 300ms);  // what was already on its way
  CHECK(ns.count("WATCHDOG=1", 1s) == 0);
  d.proc().signal(SIGCONT);
  CHECK(ns.wait_for("WATCHDOG=1", 2s));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("without systemd's watchdog nothing is pinged", "[shutdown][systemd]") {
  notify_socket ns;
  daemon_process d;
  REQUIRE(d.start_ready({}, {{"NOTIFY_SOCKET", ns.path()}}));
  REQUIRE(ns.wait_for("READY=1", 5s));
  CHECK(ns.count("WATCHDOG=1", 1500ms) == 0);
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("STATUS= says what the daemon does: serving with counts, draining with time left",
          "[shutdown][systemd]") {
  notify_socket ns;
  daemon_process d;
  REQUIRE(d.start_ready({"--log-level", "debug", "--shutdown-timeout", "30"},
                        {{"NOTIFY_SOCKET", ns.path()}}));
  CHECK(ns.wait_for("STATUS=serving: 0 running, 0 queued", 5s));
  in_flight_request busy(d);
  d.proc().signal(SIGTERM);
  CHECK(ns.wait_for("STOPPING=1", 5s));
  CHECK(ns.wait_for("STATUS=draining: 0 jobs, 29 s left", 3s));
  // systemd is told to wait until the deadline + 2 s, with a second to spare, each second.
  CHECK(ns.wait_for("EXTEND_TIMEOUT_USEC=32", 3s));
  CHECK(ns.wait_for("STATUS=draining: 0 jobs, 28 s left", 3s));  // kept current
  REQUIRE(busy.finish());
  CHECK(d.proc().wait(5s) == 0);
}
