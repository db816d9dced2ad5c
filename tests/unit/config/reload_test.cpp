// reload_test.cpp: which keys a SIGHUP reload applies live, and how changes are rendered.
#include "config/reload.hpp"

#include <catch2/catch.hpp>

using namespace vpo::config;

TEST_CASE("reload diff: no change, nothing listed", "[config][reload]") {
  settings a;
  CHECK(diff(a, a).empty());
}

TEST_CASE("reload diff: live keys and restart keys, in --check order", "[config][reload]") {
  settings running, loaded;
  loaded.server.port = 9000;
  loaded.logging.level = log_level::debug;
  loaded.jobs.workers = 5;
  loaded.database_path = "/other.db";
  auto changes = diff(running, loaded);
  REQUIRE(changes.size() == 4);
  CHECK(changes[0].key == "database_path");
  CHECK_FALSE(changes[0].live);
  CHECK(changes[1].key == "server.port");
  CHECK(changes[1].from == "8321");
  CHECK(changes[1].to == "9000");
  CHECK_FALSE(changes[1].live);
  CHECK(changes[2].key == "logging.level");
  CHECK(changes[2].live);
  CHECK(changes[3].key == "jobs.workers");
  CHECK(changes[3].live);

  auto next = apply_live(running, loaded);
  CHECK(next.server.port == 8321);  // needs a restart: kept
  CHECK(next.database_path == running.database_path);
  CHECK(next.logging.level == log_level::debug);
  CHECK(next.jobs.workers == 5);
}

TEST_CASE("reload diff: a changed token is seen but never shown", "[config][reload]") {
  settings running, loaded;
  running.server.auth_token = "aaaaaaaaaaaaaaaa-old";
  loaded.server.auth_token = "bbbbbbbbbbbbbbbb-new";
  auto changes = diff(running, loaded);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].key == "server.auth_token");
  CHECK(changes[0].from == "****");
  CHECK(changes[0].to == "****");
  CHECK(changes[0].live);
  CHECK(apply_live(running, loaded).server.auth_token == loaded.server.auth_token);
  loaded.server.auth_token.reset();
  CHECK(diff(running, loaded)[0].to == "(unset)");
}

TEST_CASE("reload: which keys apply live", "[config][reload]") {
  for (const char* k : {"logging.level", "logging.format", "jobs.workers", "server.auth_token",
                        "server.allow_unauthenticated"})
    CHECK(applies_live(k));
  for (const char* k : {"server.bind", "server.port", "server.shutdown_timeout", "database_path"})
    CHECK_FALSE(applies_live(k));
}
