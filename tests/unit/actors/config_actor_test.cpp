// config_actor_test.cpp: the SIGHUP reload with fake peers: the gateway first (it may refuse, and
// then nothing applies anywhere), then the job queue gets the new worker count; a file that no
// longer loads keeps the running settings and tells the gateway why.
#include "actors/config_actor.hpp"

#include <signal.h>

#include <future>
#include <mutex>

#include "actors/messages.hpp"
#include "config/loader.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace vpo;
using namespace vpo::actors;
using namespace std::chrono_literals;

namespace {

// What the fakes saw, and what the gateway answers a config_update with.
struct peers {
  std::mutex mutex;
  std::string refuse;                ///< the gateway's answer ("" = applied)
  std::vector<std::string> updates;  ///< tokens of the config_updates the gateway got
  std::vector<std::string> errors;   ///< reload errors pushed to the gateway
  std::promise<std::int32_t> workers;
  std::promise<void> told;  ///< the gateway was told the reload state (the failed reload's error)
  bool told_once = false;
  void tell() {
    if (!std::exchange(told_once, true)) told.set_value();
  }
};

caf::behavior fake_gateway(caf::event_based_actor*, std::shared_ptr<peers> p) {
  return {
      [p](const config_update& u) {
        std::lock_guard<std::mutex> lock(p->mutex);
        p->updates.push_back(u.settings.server.auth_token.value_or(""));
        return p->refuse;
      },
      [p](const net::reload_status& s) {
        std::lock_guard<std::mutex> lock(p->mutex);
        if (!s.error.empty()) p->errors.push_back(s.error);
        p->tell();
      },
  };
}

caf::behavior fake_jobs(caf::event_based_actor*, std::shared_ptr<peers> p) {
  return {
      [p](workers_atom, std::int32_t n) { p->workers.set_value(n); },
      [](retention_atom, std::int32_t, bool) {},
  };
}

struct reload_fixture : test::actor_fixture {
  test::temp_dir dir;
  std::string file = dir.file("config.toml");
  std::shared_ptr<peers> p = std::make_shared<peers>();
  caf::actor config;

  reload_fixture() {
    dir.write("config.toml", "[jobs]\nworkers = 2\n");
    config::load_input input;
    input.cli["config"] = file;
    input.cli["database_path"] = dir.file("library.db");
    input.getenv = [](const std::string&) { return std::optional<std::string>(); };
    auto loaded = config::load(input);
    REQUIRE(loaded.errors.empty());
    REQUIRE(loaded.values.jobs.workers == 2);
    config = spawn_config_actor(*sys, loaded.values, input, true);
    auto gateway = sys->spawn(fake_gateway, p);
    auto jobs = sys->spawn(fake_jobs, p);
    caf::anon_send(config, subscribe_atom::value, gateway, jobs);
  }
  ~reload_fixture() { caf::anon_send_exit(config, caf::exit_reason::user_shutdown); }
  void sighup() { caf::anon_send(config, signal_msg{SIGHUP, 4242, "tester"}); }
  int running_workers() {
    auto s = request<config::settings>(config, 5s, caf::get_atom::value);
    REQUIRE(s);
    return s->jobs.workers;
  }
};

}  // namespace

TEST_CASE("config reload: the gateway hears first, then the job queue gets the new worker count",
          "[actors][config]") {
  reload_fixture f;
  f.dir.write("config.toml", "[jobs]\nworkers = 5\n[server]\nauth_token = \"t0ken-t0ken-t0ken\"\n");
  f.sighup();
  auto workers = f.p->workers.get_future();
  REQUIRE(workers.wait_for(5s) == std::future_status::ready);
  CHECK(workers.get() == 5);
  {
    std::lock_guard<std::mutex> lock(f.p->mutex);
    REQUIRE(f.p->updates.size() == 1);
    CHECK(f.p->updates[0] == "t0ken-t0ken-t0ken");
  }
  CHECK(f.running_workers() == 5);
}

TEST_CASE("config reload: a refusal by the gateway applies nothing anywhere", "[actors][config]") {
  reload_fixture f;
  f.p->refuse = "the token cannot be removed while listening beyond loopback";
  f.dir.write("config.toml", "[jobs]\nworkers = 7\n");
  f.sighup();
  REQUIRE(f.p->told.get_future().wait_for(5s) == std::future_status::ready);
  // The error reaches the gateway after the config actor has handled the refusal: it is over.
  CHECK(f.running_workers() == 2);
  CHECK(f.p->workers.get_future().wait_for(0s) == std::future_status::timeout);
  std::lock_guard<std::mutex> lock(f.p->mutex);
  REQUIRE(f.p->errors.size() == 1);
  CHECK_THAT(f.p->errors[0], Catch::Contains("loopback"));
}

TEST_CASE("config reload: a file that no longer loads keeps the running settings and says why",
          "[actors][config]") {
  reload_fixture f;
  f.dir.write("config.toml", "[jobs]\nworkers = \"many\"\n");
  f.sighup();
  REQUIRE(f.p->told.get_future().wait_for(5s) == std::future_status::ready);
  CHECK(f.running_workers() == 2);
  std::lock_guard<std::mutex> lock(f.p->mutex);
  CHECK(f.p->updates.empty());
  REQUIRE(f.p->errors.size() == 1);
  CHECK_THAT(f.p->errors[0], Catch::Contains("jobs.workers"));
}
