// rate_limit_test.cpp: fixed windows per client, separate read and write budgets, sweeping.
#include "net/rate_limit.hpp"

#include <catch2/catch.hpp>

using vpo::net::rate_limiter;
using namespace std::chrono_literals;

TEST_CASE("each client gets its own read and write budget per window", "[rate_limit]") {
  vpo::config::rate_limit_settings s;
  s.get_max_requests = 3;
  s.mutate_max_requests = 1;
  s.window_seconds = 10;
  rate_limiter l(s);
  auto t0 = rate_limiter::clock::now();
  for (int i = 0; i < 3; ++i) CHECK(l.admit("a", false, t0) == 0);
  CHECK(l.admit("a", false, t0 + 1s) == 9);  // whole seconds until the window ends
  CHECK(l.admit("a", false, t0 + 9500ms) == 1);
  CHECK(l.admit("a", true, t0) == 0);
  CHECK(l.admit("a", true, t0) == 10);
  CHECK(l.admit("b", false, t0) == 0);        // another client
  CHECK(l.admit("a", false, t0 + 10s) == 0);  // a new window
  s.enabled = false;
  l.configure(s);
  for (int i = 0; i < 100; ++i) CHECK(l.admit("a", true, t0 + 10s) == 0);
}

TEST_CASE("expired windows are swept as clients come and go", "[rate_limit]") {
  vpo::config::rate_limit_settings s;
  s.window_seconds = 1;
  rate_limiter l(s);
  auto t = rate_limiter::clock::now();
  for (int i = 0; i < 100000; ++i) {
    l.admit("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), false, t);
    t += 1ms;
  }
  CHECK(l.tracked() < 4096);  // only the last second's clients (~1000) and the sweep's slack
}
