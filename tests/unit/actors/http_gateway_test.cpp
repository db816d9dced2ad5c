// http_gateway_test.cpp: the gateway's gates in their order, with a fake job queue and requests
// handed to it as the io thread would (no sockets for the API calls): rate limit, then the token,
// then start-up, then the drain, then the database; what passes all of them reaches the queue.
#include "actors/http_gateway.hpp"

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "tests/support/actor_fixture.hpp"

using namespace vpo;
using namespace vpo::actors;
using namespace std::chrono_literals;

namespace {

// A job queue that answers every query with an empty list and counts what reached it.
caf::behavior fake_queue(caf::event_based_actor*, std::shared_ptr<std::atomic<int>> seen) {
  return {[seen](const job_query&) {
    ++*seen;
    return job_answer{};
  }};
}

struct gateway_fixture : test::actor_fixture {
  std::shared_ptr<std::atomic<int>> reached = std::make_shared<std::atomic<int>>(0);
  caf::actor gateway;

  explicit gateway_fixture(http_gateway_options o) {
    o.bind = "127.0.0.1";
    o.port = 0;  // any free port: the API calls below do not use it
    auto queue = sys->spawn(fake_queue, reached);
    gateway = spawn_http_gateway(*sys, std::move(o), queue);
    auto init = request<init_result>(gateway, 5s, init_atom::value);
    REQUIRE(init);
    REQUIRE(init->ok);
  }
  ~gateway_fixture() { caf::anon_send_exit(gateway, caf::exit_reason::user_shutdown); }
  /// Start-up done and the database connected (db_health's first push, in the daemon).
  void ready() {
    caf::anon_send(gateway, db_status{true, "", true});
    REQUIRE(request<caf::ok_atom>(gateway, 5s, ready_atom::value));
  }

  /// One API call as the io thread hands it over; the answer, within 5 s.
  net::http_response call(const std::string& method, const std::string& token = "",
                          const std::string& client = "10.0.0.1") {
    net::http_request r;
    r.method = method;
    r.target = r.path = "/api/jobs";
    r.body = method == "POST" ? R"({"type":"scan","path":"/tmp"})" : "";
    r.authorization = token.empty() ? "" : "Bearer " + token;
    r.client_address = client;
    r.request_id = "test";
    auto answer = std::make_shared<std::promise<net::http_response>>();
    auto done = answer->get_future();
    caf::anon_send(
        gateway, http_call{std::move(r), [answer](net::http_response x) { answer->set_value(x); }});
    REQUIRE(done.wait_for(5s) == std::future_status::ready);
    return done.get();
  }
};

std::string code_of(const net::http_response& r) {
  return nlohmann::json::parse(r.body).value("code", "");
}

}  // namespace

TEST_CASE("gateway: a client over its rate limit is refused before its token is even checked",
          "[actors][gateway]") {
  http_gateway_options o;
  o.auth_token = "secret";
  o.rate_limit.get_max_requests = 1;
  gateway_fixture f(o);
  f.ready();
  CHECK(f.call("GET", "wrong").status == 401);  // counts toward the limit
  auto second = f.call("GET", "wrong");
  CHECK(second.status == 429);
  CHECK(code_of(second) == "RATE_LIMITED");
  CHECK(f.call("GET", "secret", "10.0.0.2").status == 200);  // another client is not limited
  CHECK(*f.reached == 1);
}

TEST_CASE("gateway: the token is checked before start-up and drain answers", "[actors][gateway]") {
  http_gateway_options o;
  o.auth_token = "secret";
  gateway_fixture f(o);
  auto early = f.call("GET", "wrong");  // not ready yet: still 401, nothing about the daemon
  CHECK(early.status == 401);
  CHECK(code_of(early) == "UNAUTHORIZED");
  auto starting = f.call("GET", "secret");
  CHECK(starting.status == 503);
  CHECK(code_of(starting) == "STARTING");
  CHECK(*f.reached == 0);
}

TEST_CASE("gateway: while draining, writes get SHUTTING_DOWN and reads still reach the queue",
          "[actors][gateway]") {
  gateway_fixture f({});
  f.ready();
  (*f.self)->send(f.gateway, drain_atom::value, std::int64_t{10000});
  auto post = f.call("POST");
  CHECK(post.status == 503);
  CHECK(code_of(post) == "SHUTTING_DOWN");
  bool retry_after = false;
  for (auto& h : post.headers) retry_after = retry_after || h.first == "Retry-After";
  CHECK(retry_after);
  CHECK(f.call("GET").status == 200);
  CHECK(*f.reached == 1);
}

TEST_CASE("gateway: a database that only reads refuses writes at once and serves reads",
          "[actors][gateway]") {
  gateway_fixture f({});
  f.ready();
  caf::anon_send(f.gateway, db_status{false, "another process holds the write lock", true});
  // The status is a message like the calls: the first call after it sees it (one mailbox).
  auto post = f.call("POST");
  CHECK(post.status == 503);
  CHECK(code_of(post) == "DATABASE_UNAVAILABLE");
  CHECK_THAT(nlohmann::json::parse(post.body)["error"].get<std::string>(),
             Catch::Contains("another process holds the write lock"));
  CHECK(f.call("GET").status == 200);
  caf::anon_send(f.gateway, db_status{false, "file replaced", false});
  CHECK(f.call("GET").status == 503);
  CHECK(*f.reached == 1);
}
