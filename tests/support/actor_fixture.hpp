// actor_fixture.hpp: the actor-test set-up every actor unit test shares: an actor system as the
// daemon configures it (two scheduler threads, vpo's error category registered), a scoped actor
// to talk from, and a request helper whose every wait has a timeout.
#pragma once

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "actors/errors.hpp"

namespace vpo::test {

struct actor_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;

  actor_fixture() {
    cfg.set("scheduler.max-threads", 2);
    actors::register_errors(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
  }
  ~actor_fixture() { self.reset(); }  // the system's destructor waits for every actor

  /// Requests `xs` from `dest` and returns the reply of type T, or nullopt after a CAF error or
  /// `timeout` (the error is reported through Catch's INFO/WARN).
  template <class T, class Handle, class... Ts>
  std::optional<T> request(const Handle& dest, std::chrono::milliseconds timeout, Ts&&... xs) {
    std::optional<T> out;
    (*self)
        ->request(dest, timeout, std::forward<Ts>(xs)...)
        .receive([&](T& x) { out = std::move(x); },
                 [&](caf::error& e) { WARN("request failed: " << sys->render(e)); });
    return out;
  }
};

}  // namespace vpo::test
