// unexpected_test.cpp: an unexpected message is logged through vpo's logger and dropped; the
// actor keeps working.
#include <fcntl.h>
#include <unistd.h>
#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "actors/config_actor.hpp"
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
