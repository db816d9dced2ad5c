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
