// shutdown_coordinator_test.cpp: the drain protocol with fake participants (on time, late, never).
#include "actors/shutdown_coordinator.hpp"

#include <signal.h>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "actors/messages.hpp"

using namespace vpo::actors;
using namespace std::chrono_literals;

namespace {

struct fake_state {
  caf::response_promise pending;
  bool has_pending = false;
  caf::response_promise unanswered_force;  // kept alive, never delivered
};

// A participant that drains after `drain_delay` (never when negative) and answers force at once
// (or never when `answers_force` is false), reporting one completed or requeued job.
caf::behavior fake_participant(caf::stateful_actor<fake_state>* self,
                               std::chrono::milliseconds drain_delay, bool answers_force) {
  return {
      [=](drain_atom, std::int64_t) -> caf::response_promise {
        auto rp = self->make_response_promise();
        if (drain_delay.count() == 0) {
          rp.deliver(drained_atom::value, participant_report{"fake", 1, 0});
        } else if (drain_delay.count() > 0) {
          self->state.pending = rp;
          self->state.has_pending = true;
          self->delayed_send(self, drain_delay, vpo::actors::ready_atom::value);
        }
        return rp;
      },
      [=](vpo::actors::ready_atom) {
        if (self->state.has_pending)
          self->state.pending.deliver(drained_atom::value, participant_report{"fake", 1, 0});
        self->state.has_pending = false;
      },
      [=](force_atom) -> caf::response_promise {
        auto rp = self->make_response_promise();
        if (answers_force)
          rp.deliver(forced_atom::value, participant_report{"fake", 0, 1});
        else
          self->state.unanswered_force = rp;
        return rp;
      },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> actors;
  fixture() {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  ~fixture() {
    for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    actors.clear();
  }
  caf::actor participant(std::chrono::milliseconds delay, bool answers_force = true) {
    actors.push_back(sys->spawn(fake_participant, delay, answers_force));
    return actors.back();
  }
};

// Runs one shutdown: registers participants, sends `signo`, returns the report and how long.
std::pair<shutdown_report, std::chrono::milliseconds> shutdown_with(
    fixture& f, std::vector<caf::actor> participants, int signo,
    std::chrono::milliseconds timeout) {
  caf::scoped_actor self{*f.sys};
  auto coord =
      spawn_shutdown_coordinator(*f.sys, caf::actor_cast<caf::actor>(self), caf::actor{}, timeout);
  f.actors.push_back(coord);
  for (auto& p : participants) self->send(coord, register_atom::value, p);
  auto start = std::chrono::steady_clock::now();
  self->send(coord, signal_msg{signo, 4242, "tester"});
  shutdown_report report;
  bool got = false;
  self->receive([&](shutdown_report& r) { report = r, got = true; },
                caf::after(std::chrono::seconds(10)) >> [] {});
  REQUIRE(got);
  return {report, std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)};
}

}  // namespace

TEST_CASE("coordinator: participants that drain on time give exit 0", "[coordinator]") {
  fixture f;
  auto [r, took] = shutdown_with(f, {f.participant(0ms), f.participant(100ms)}, SIGTERM, 2000ms);
  CHECK(r.exit_code == 0);
  CHECK(r.outcome == "drained");
  CHECK(r.reason == "SIGTERM");
  CHECK(r.sender_pid == 4242);
  CHECK(r.sender_name == "tester");
  CHECK(r.completed == 2);
  CHECK(took >= 90ms);
  CHECK(took < 1500ms);
}

TEST_CASE("coordinator: a late participant is forced at the deadline, exit 128 + signo",
          "[coordinator]") {
  fixture f;
  auto [r, took] = shutdown_with(f, {f.participant(0ms), f.participant(5000ms)}, SIGINT, 300ms);
  CHECK(r.exit_code == 130);
  CHECK(r.outcome == "forced");
  CHECK(r.completed == 1);
  CHECK(r.requeued == 1);
  CHECK(took >= 290ms);
  CHECK(took < 1500ms);
}

TEST_CASE("coordinator: a participant that never answers, not even force, costs at most 1 s more",
          "[coordinator]") {
  fixture f;
  auto [r, took] = shutdown_with(f, {f.participant(-1ms, false)}, SIGTERM, 200ms);
  CHECK(r.exit_code == 143);
  CHECK(r.outcome == "forced");
  CHECK(took >= 1150ms);
  CHECK(took < 2500ms);
}

TEST_CASE("coordinator: SIGQUIT forces at once", "[coordinator]") {
  fixture f;
  auto [r, took] = shutdown_with(f, {f.participant(5000ms)}, SIGQUIT, 30000ms);
  CHECK(r.exit_code == 131);
  CHECK(r.requeued == 1);
  CHECK(took < 1000ms);
}

TEST_CASE("coordinator: no participants means an immediate clean stop", "[coordinator]") {
  fixture f;
  auto [r, took] = shutdown_with(f, {}, SIGTERM, 30000ms);
  CHECK(r.exit_code == 0);
  CHECK(took < 1000ms);
}

TEST_CASE("coordinator: later signals do not start a second drain, but SIGQUIT still forces",
          "[coordinator]") {
  fixture f;
  caf::scoped_actor self{*f.sys};
  auto coord =
      spawn_shutdown_coordinator(*f.sys, caf::actor_cast<caf::actor>(self), caf::actor{}, 30000ms);
  f.actors.push_back(coord);
  self->send(coord, register_atom::value, f.participant(5000ms));
  self->send(coord, signal_msg{SIGTERM, 1, ""});
  self->send(coord, signal_msg{SIGTERM, 1, ""});
  self->send(coord, signal_msg{SIGINT, 1, ""});
  self->send(coord, signal_msg{SIGHUP, 1, ""});
  bool early = false;
  self->receive([&](shutdown_report&) { early = true; }, caf::after(300ms) >> [] {});
  CHECK_FALSE(early);
  self->send(coord, signal_msg{SIGQUIT, 1, ""});
  shutdown_report report;
  self->receive([&](shutdown_report& r) { report = r; },
                caf::after(std::chrono::seconds(5)) >> [] { FAIL("no report after SIGQUIT"); });
  CHECK(report.exit_code == 131);
  CHECK(report.reason == "SIGTERM");
}
