// db_health_test.cpp: the actor reports each transition once: connected -> disconnected -> back.
#include "actors/db_health.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

#include "actors/messages.hpp"
#include "tests/support/temp_dir.hpp"

using namespace vpo::actors;
using namespace std::chrono_literals;

namespace {

db_status next_status(caf::scoped_actor& self, std::chrono::milliseconds timeout) {
  db_status out;
  bool got = false;
  self->receive([&](db_status& s) { out = s, got = true; }, caf::after(timeout) >> [] {});
  REQUIRE(got);
  return out;
}

// Stops the actor however the test ends: a live probe timer would keep ~actor_system waiting.
struct stop_on_exit {
  caf::actor actor;
  ~stop_on_exit() { caf::anon_send_exit(actor, caf::exit_reason::user_shutdown); }
};

}  // namespace

TEST_CASE(
    "db_health starts connected, turns disconnected when the file is replaced, and "
    "connected when it is restored",
    "[db_health]") {
  vpo::test::temp_dir dir;
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  db_health_options opts;
  opts.database_path = dir.file("lib.db");
  opts.probe_interval = 50ms;
  opts.probe_timeout = 100ms;
  auto db = spawn_db_health(sys, opts);
  stop_on_exit guard{db};
  caf::scoped_actor self{sys};
  self->request(db, 5s, init_atom::value)
      .receive([&](const init_result& r) { REQUIRE(r.ok); },
               [&](caf::error& e) { FAIL(sys.render(e)); });
  self->send(db, subscribe_atom::value, caf::actor_cast<caf::actor>(self));
  CHECK(next_status(self, 1s).connected);

  namespace fs = std::filesystem;
  fs::copy_file(opts.database_path, dir.file("backup.db"));
  dir.write("junk", std::string(4096, 'j'));
  fs::rename(dir.file("junk"), opts.database_path);
  auto down = next_status(self, 2s);
  CHECK_FALSE(down.connected);
  CHECK_FALSE(down.reason.empty());

  fs::rename(dir.file("backup.db"), opts.database_path);
  CHECK(next_status(self, 2s).connected);
  // No further transitions while nothing changes.
  bool extra = false;
  self->receive([&](db_status&) { extra = true; }, caf::after(300ms) >> [] {});
  CHECK_FALSE(extra);
}

TEST_CASE("db_health refuses a second instance on the same database", "[db_health]") {
  vpo::test::temp_dir dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  db_health_options opts;
  opts.database_path = dir.file("lib.db");
  auto a = spawn_db_health(sys, opts);
  auto b = spawn_db_health(sys, opts);
  stop_on_exit guard_a{a}, guard_b{b};
  caf::scoped_actor self{sys};
  self->request(a, 5s, init_atom::value)
      .receive([&](const init_result& r) { CHECK(r.ok); },
               [&](caf::error& e) { FAIL(sys.render(e)); });
  self->request(b, 5s, init_atom::value)
      .receive(
          [&](const init_result& r) {
            CHECK_FALSE(r.ok);
            CHECK_THAT(r.error, Catch::Contains("already using database"));
          },
          [&](caf::error& e) { FAIL(sys.render(e)); });
}
