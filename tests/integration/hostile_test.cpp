// hostile_test.cpp: the daemon under the second round of attacks (issue 19): bodies built to
// make the JSON parse quadratic, slow readers, poisoned reloads, damaged databases, signals that
// used to kill, bursts of submissions and connections, and HTTP framing tricks. The real binary,
// real sockets, real signals.
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/jobs_client.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

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
