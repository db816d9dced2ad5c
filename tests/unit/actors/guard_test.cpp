// unexpected_test.cpp: an unexpected message is logged through vpo's logger and dropped; the
// actor keeps working.
#include <fcntl.h>
#include <unistd.h>
#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "actors/config_actor.hpp"
#include "actors/errors.hpp"
#include "actors/guard.hpp"
#include "actors/messages.hpp"
#include "logging/setup.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;

TEST_CASE("an unexpected message is logged as a WARNING and the actor keeps working", "[actors]") {
  vpo::test::temp_dir dir;
  std::string path = dir.file("log.txt");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  vpo::logging::setup({vpo::config::log_level::info, vpo::config::log_format::text}, fd);
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    vpo::config::settings settings;
    settings.jobs.workers = 7;
    auto config = vpo::actors::spawn_config_actor(sys, settings, {}, false);
    caf::anon_send(config, std::string("junk"));
    caf::scoped_actor self{sys};
    self->request(config, 2s, caf::get_atom::value)
        .receive([&](const vpo::config::settings& s) { CHECK(s.jobs.workers == 7); },
                 [&](caf::error& e) { FAIL(sys.render(e)); });
    caf::anon_send_exit(config, caf::exit_reason::user_shutdown);
  }
  vpo::logging::shutdown();
  ::close(fd);
  CHECK_THAT(vpo::test::read_file(path),
             Catch::Contains("WARN  vpo.actors: unexpected message dropped by config"));
}

TEST_CASE(
    "an exception in a handler is logged and ends the actor with a vpo error, not the process",
    "[actors][error]") {
  vpo::test::temp_dir dir;
  std::string path = dir.file("log.txt");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  vpo::logging::setup({vpo::config::log_level::info, vpo::config::log_format::text}, fd);
  {
    caf::actor_system_config cfg;
    vpo::actors::register_errors(cfg);
    caf::actor_system sys{cfg};
    // One spawn argument: CAF 0.17 dereferences a null argument tuple for a function actor that
    // takes none (UBSan reports it).
    auto thrower = sys.spawn(
        [](caf::event_based_actor* self, int) -> caf::behavior {
          vpo::actors::install_guards(self, "thrower");
          return {[](int) -> int { throw std::runtime_error("boom"); }};
        },
        0);
    caf::scoped_actor self{sys};
    self->monitor(thrower);
    caf::anon_send(thrower, 1);
    bool down = false;
    self->receive(
        [&](caf::down_msg& dm) {
          down = true;
          auto e = vpo::actors::from_caf(sys, dm.reason);
          CHECK(e.is(vpo::errc::internal));
          CHECK(e.message == "thrower: boom");
          CHECK(sys.render(dm.reason) == "vpo: internal error (thrower: boom)");
        },
        caf::after(5s) >> [] {});
    CHECK(down);
  }
  vpo::logging::shutdown();
  ::close(fd);
  CHECK_THAT(vpo::test::read_file(path), Catch::Contains("ERROR vpo.actors: thrower failed: boom"));
}

TEST_CASE("vpo errors cross the actor edge as caf::error and come back with kind and message",
          "[actors][error]") {
  caf::actor_system_config cfg;
  vpo::actors::register_errors(cfg);
  caf::actor_system sys{cfg};
  vpo::error busy(vpo::errc::busy, "database locked by pid 7");
  auto c = vpo::actors::to_caf(busy);
  CHECK(c.category() == vpo::actors::error_category());
  auto back = vpo::actors::from_caf(sys, c);
  CHECK(back.is(vpo::errc::busy));
  CHECK(back.message == "database locked by pid 7");
  CHECK_FALSE(vpo::actors::to_caf(vpo::error()));
  CHECK(vpo::actors::from_caf(sys, caf::make_error(caf::sec::request_timeout))
            .is(vpo::errc::timeout));
  CHECK(vpo::actors::from_caf(sys, caf::make_error(caf::sec::request_receiver_down))
            .is(vpo::errc::unavailable));
  CHECK(vpo::actors::from_caf(sys, caf::make_error(caf::sec::bad_function_call))
            .is(vpo::errc::internal));
}
