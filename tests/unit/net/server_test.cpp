// server_test.cpp: net::server on its own (no actors) with short limits: the idle keep-alive
// timeout, the slow-client read timeout, the handler deadline, drain and force.
#include "net/server.hpp"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "tests/support/http_client.hpp"

using namespace vpo;
using namespace std::chrono_literals;

namespace {

struct running_server {
  std::mutex mutex;
  std::condition_variable cv;
  int drained_calls = 0;
  std::vector<net::reply_fn> held;  // API replies the test answers itself
  std::unique_ptr<net::server> srv;
  std::uint16_t port = test::free_port();

  explicit running_server(net::server_options o) {
    net::server_hooks h;
    h.api = [this](net::http_request, net::reply_fn reply) {
      std::lock_guard<std::mutex> lock(mutex);
      held.push_back(std::move(reply));
      cv.notify_all();
    };
    h.drained = [this] {
      std::lock_guard<std::mutex> lock(mutex);
      ++drained_calls;
      cv.notify_all();
    };
    srv = std::make_unique<net::server>(std::move(h), o);
    REQUIRE(srv->listen("127.0.0.1", port) == "");
    net::health_snapshot s;
    s.ready = s.database_connected = true;
    srv->publish(s);
    srv->run();
  }
  bool wait_held(std::size_t n) {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, 5s, [&] { return held.size() >= n; });
  }
  bool wait_drained() {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, 5s, [&] { return drained_calls > 0; });
  }
};

}  // namespace

TEST_CASE("server: an idle keep-alive connection closes after the idle timeout", "[server]") {
  net::server_options o;
  o.idle_timeout = 300ms;
  running_server s(o);
  test::http_connection c(s.port);
  REQUIRE(c.request("GET", "/health"));
  auto t0 = std::chrono::steady_clock::now();
  CHECK(c.wait_closed(3s));
  CHECK(std::chrono::steady_clock::now() - t0 >= 250ms);
}

TEST_CASE("server: a client too slow to send its request is cut off", "[server]") {
  net::server_options o;
  o.read_timeout = 300ms;
  running_server s(o);
  test::http_connection c(s.port);
  REQUIRE(c.send_raw("GET /health HTTP/1.1\r\nHo"));  // and never the rest
  auto t0 = std::chrono::steady_clock::now();
  CHECK(c.wait_closed(3s));
  CHECK(std::chrono::steady_clock::now() - t0 >= 250ms);
}

TEST_CASE("server: a handler that never answers gets a 503 at its deadline", "[server]") {
  net::server_options o;
  o.handler_timeout = 200ms;
  running_server s(o);
  test::http_connection c(s.port);
  auto r = c.request("GET", "/api/jobs");
  REQUIRE(r);
  CHECK(r->status == 503);
  // A late answer after the deadline is dropped, and the connection keeps working.
  REQUIRE(s.wait_held(1));
  s.held[0](net::json_error(200, "LATE", "late"));
  auto h = c.request("GET", "/health");
  REQUIRE(h);
  CHECK(h->status == 200);
}

TEST_CASE("server: drain waits for the in-flight request, which gets Connection: close",
          "[server]") {
  running_server s(net::server_options{});
  test::http_connection busy(s.port);
  REQUIRE(busy.send_raw("GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(s.wait_held(1));
  test::http_connection idle(s.port);
  REQUIRE(idle.request("GET", "/readyz"));
  s.srv->begin_drain();
  CHECK(idle.wait_closed(2s));
  CHECK(test::eventually([&] { return test::connection_refused(s.port); }, 2s));
  CHECK(s.srv->requests_in_flight() == 1);
  CHECK(s.drained_calls == 0);
  net::http_response res;
  res.body = "{}";
  s.held[0](res);
  auto r = busy.read_reply();
  REQUIRE(r);
  CHECK(r->header("connection") == "close");
  CHECK(s.wait_drained());
  CHECK(s.srv->requests_in_flight() == 0);
}

TEST_CASE("server: close_all ends every connection at once", "[server]") {
  running_server s(net::server_options{});
  test::http_connection busy(s.port);
  REQUIRE(busy.send_raw("GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(s.wait_held(1));
  s.srv->close_all();
  CHECK(busy.wait_closed(2s));
  CHECK(test::eventually([&] { return s.srv->requests_in_flight() == 0; }, 2s));
}

TEST_CASE("server: a handler that throws on the io thread is reported, and serving goes on",
          "[server][error]") {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> failures;
  net::server_hooks h;
  h.api = [](net::http_request, net::reply_fn) { throw std::runtime_error("a defect"); };
  h.failed = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex);
    failures.push_back(what);
    cv.notify_all();
  };
  net::server srv(std::move(h), net::server_options{});
  auto port = test::free_port();
  REQUIRE(srv.listen("127.0.0.1", port) == "");
  net::health_snapshot snap;
  snap.ready = snap.database_connected = true;
  srv.publish(snap);
  srv.run();
  test::http_connection c(port);
  (void)c.request("GET", "/api/jobs");  // its answer is lost with the exception
  {
    std::unique_lock<std::mutex> lock(mutex);
    REQUIRE(cv.wait_for(lock, 5s, [&] { return !failures.empty(); }));
    CHECK(failures[0] == "a defect");
  }
  // The io thread still turns: the process did not terminate and probes are answered.
  auto health = test::http_get(port, "/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  srv.stop();
}
