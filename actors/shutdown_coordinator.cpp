// shutdown_coordinator.cpp: the drain protocol (architecture.md §2).
#include "actors/shutdown_coordinator.hpp"

#include <signal.h>

#include <algorithm>
#include <caf/all.hpp>
#include <cmath>
#include <cstdio>
#include <map>

#include "actors/messages.hpp"
#include "actors/guard.hpp"
#include "logging/log.hpp"
#include "os/signals.hpp"
#include "os/systemd_notify.hpp"

namespace vpo::actors {
namespace {

using clock = std::chrono::steady_clock;

struct coordinator_state {
  caf::actor report_to;
  caf::actor config;  // reloads on SIGHUP
  std::chrono::milliseconds timeout{};
  std::vector<caf::actor> participants;
  std::map<caf::actor_addr, caf::actor> pending;  // not yet drained / forced
  bool draining = false;
  bool forcing = false;
  bool finished = false;
  signal_msg first;
  int exit_signal = 0;
  clock::time_point started;
  clock::time_point deadline;
  participant_report totals;
  logging::logger log{"vpo.shutdown"};
  static inline const char* name = "vpo.shutdown_coordinator";
};

using coordinator = caf::stateful_actor<coordinator_state>;

void add(participant_report& total, const participant_report& r) {
  total.completed += r.completed;
  total.requeued += r.requeued;
}

void finish(coordinator* self) {
  auto& st = self->state;
  if (st.finished) return;
  st.finished = true;
  shutdown_report r;
  r.exit_code = st.forcing ? 128 + st.exit_signal : 0;
  r.reason = os::signal_name(st.first.signo);
  r.sender_pid = st.first.sender_pid;
  r.sender_name = st.first.sender_name;
  r.duration_seconds = std::chrono::duration<double>(clock::now() - st.started).count();
  r.outcome = st.forcing ? "forced" : "drained";
  r.completed = st.totals.completed;
  r.requeued = st.totals.requeued;
  self->send(st.report_to, std::move(r));
}

void force(coordinator* self) {
  auto& st = self->state;
  if (st.forcing || st.finished) return;
  st.forcing = true;
  if (st.pending.empty()) return finish(self);
  for (auto& [addr, p] : st.pending) {
    auto target = p;
    self->request(target, std::chrono::seconds(1), force_atom::value)
        .then(
            [=](forced_atom, const participant_report& r) {
              add(self->state.totals, r);
              self->state.pending.erase(target.address());
              if (self->state.pending.empty()) finish(self);
            },
            [=](caf::error& err) {
              self->state.log.warn("drain participant did not confirm the forced stop in 1 s",
                                   {{"error", self->system().render(err)}});
              self->state.pending.erase(target.address());
              if (self->state.pending.empty()) finish(self);
            });
  }
}

void start_drain(coordinator* self, const signal_msg& sig) {
  auto& st = self->state;
  st.draining = true;
  st.first = sig;
  st.exit_signal = sig.signo;
  st.started = clock::now();
  st.deadline = st.started + st.timeout;
  os::systemd::stopping();
  for (auto& p : st.participants) st.pending.emplace(p.address(), p);
  if (sig.signo == SIGQUIT) return force(self);
  self->delayed_send(self, st.timeout, deadline_atom::value);
  if (st.pending.empty()) return finish(self);
  auto ms = static_cast<std::int64_t>(st.timeout.count());
  for (auto& p : st.participants) {
    auto target = p;
    // The reply may take until the deadline; the deadline timer, not this timeout, forces.
    self->request(target, st.timeout + std::chrono::seconds(5), drain_atom::value, ms)
        .then(
            [=](drained_atom, const participant_report& r) {
              if (self->state.forcing) return;
              add(self->state.totals, r);
              self->state.pending.erase(target.address());
              if (self->state.pending.empty()) finish(self);
            },
            [=](caf::error&) {
              // Dead or silent participant: the deadline timer forces the rest.
            });
  }
}

// Seconds as an operator reads them: "30", "0.5", "0.05", "2.25" (never 0.5 shown as "1").
std::string seconds_text(double secs) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", std::max(0.0, secs));
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

void on_signal(coordinator* self, const signal_msg& sig) {
  auto& st = self->state;
  std::string who = "pid " + std::to_string(sig.sender_pid) +
                    (sig.sender_name.empty() ? "" : " (" + sig.sender_name + ")");
  logging::fields ctx = {{"signal", os::signal_name(sig.signo)},
                         {"sender_pid", sig.sender_pid},
                         {"sender_name", sig.sender_name}};
  if (sig.signo == SIGHUP) {
    if (!st.draining && st.config) return self->send(st.config, sig);
    st.log.info("received SIGHUP from " + who + " during the drain: ignored (no reload while " +
                    "stopping)",
                ctx);
    return;
  }
  if (!st.draining) {
    double secs = std::chrono::duration<double>(st.timeout).count();
    if (sig.signo == SIGQUIT)
      st.log.warn("received SIGQUIT from " + who + ": forced stop now", ctx);
    else
      st.log.info("received " + os::signal_name(sig.signo) + " from " + who +
                      ": draining, deadline in " + seconds_text(secs) + " s",
                  ctx);
    return start_drain(self, sig);
  }
  if (sig.signo == SIGQUIT) {
    st.log.warn("received SIGQUIT from " + who + " during the drain: forced stop now", ctx);
    st.exit_signal = SIGQUIT;
    return force(self);
  }
  double left = std::chrono::duration<double>(st.deadline - clock::now()).count();
  // Tenths: "0.4 s left", "12.3 s left".
  st.log.info("received " + os::signal_name(sig.signo) + " from " + who + ": already draining, " +
                  seconds_text(std::round(std::max(0.0, left) * 10) / 10) + " s left",
              ctx);
}

caf::behavior coordinator_impl(coordinator* self, caf::actor report_to, caf::actor config,
                               std::chrono::milliseconds timeout) {
  install_guards(self, "shutdown_coordinator");
  self->state.report_to = std::move(report_to);
  self->state.config = std::move(config);
  self->state.timeout = timeout;
  return {
      [=](register_atom, const caf::actor& participant) {
        self->state.participants.push_back(participant);
      },
      [=](const signal_msg& sig) { on_signal(self, sig); },
      [=](deadline_atom) {
        if (self->state.finished) return;
        self->state.log.warn("drain deadline reached: forcing the stop");
        force(self);
      },
  };
}

}  // namespace

caf::actor spawn_shutdown_coordinator(caf::actor_system& sys, const caf::actor& report_to,
                                      const caf::actor& config,
                                      std::chrono::milliseconds shutdown_timeout) {
  return sys.spawn(coordinator_impl, report_to, config, shutdown_timeout);
}

}  // namespace vpo::actors
