// supervisor.cpp: ordered start-up with a timeout per step, ordered stop, one final report.
#include "actors/supervisor.hpp"

#include <signal.h>

#include <caf/all.hpp>
#include <deque>

#include "actors/config_actor.hpp"
#include "actors/db_health.hpp"
#include "actors/http_gateway.hpp"
#include "actors/job_queue.hpp"
#include "actors/messages.hpp"
#include "actors/shutdown_coordinator.hpp"
#include "actors/guard.hpp"
#include "logging/log.hpp"
#include "os/signals.hpp"
#include "os/systemd_notify.hpp"

namespace vpo::actors {
namespace {

using clock = std::chrono::steady_clock;

struct child {
  std::string name;
  caf::actor handle;
  bool alive = true;
};

struct supervisor_state {
  config::settings settings;
  std::vector<child> children;  // in start order
  caf::actor config;
  caf::actor gateway;
  caf::actor jobs;
  caf::actor coordinator;
  caf::response_promise run_promise;
  bool stopping = false;
  shutdown_report report;
  std::deque<std::size_t> stop_queue;  // indexes into children, reverse start order
  caf::actor_addr waiting_for;
  clock::time_point started = clock::now();
  logging::logger log{"vpo.supervisor"};
  static inline const char* name = "vpo.supervisor";
};

using supervisor = caf::stateful_actor<supervisor_state>;

void stop_next(supervisor* self) {
  auto& st = self->state;
  while (!st.stop_queue.empty()) {
    auto& c = st.children[st.stop_queue.front()];
    st.stop_queue.pop_front();
    if (!c.alive) continue;
    st.waiting_for = c.handle.address();
    self->send_exit(c.handle, caf::exit_reason::user_shutdown);
    return;  // the down message of this child continues the loop
  }
  st.run_promise.deliver(st.report);
  self->quit();
}

void begin_stop(supervisor* self, shutdown_report report) {
  auto& st = self->state;
  if (st.stopping) return;
  st.stopping = true;
  st.report = std::move(report);
  for (std::size_t i = st.children.size(); i-- > 0;) st.stop_queue.push_back(i);
  stop_next(self);
}

void fail(supervisor* self, const std::string& message) {
  if (self->state.stopping) return;
  self->state.log.error(message);
  shutdown_report r;
  r.exit_code = 1;
  r.reason = "startup failure";
  r.outcome = "startup failed";
  begin_stop(self, std::move(r));
}

// Each step's error branch: a start-up step that does not answer in time is a failure too.
auto failed_step(supervisor* self, std::string step) {
  return [=](caf::error& err) {
    fail(self, "cannot start: " + step + " did not answer (" + self->system().render(err) + ")");
  };
}

caf::actor add_child(supervisor* self, std::string name, caf::actor handle) {
  self->monitor(handle);
  // Linked too: should the supervisor itself fail (an exception, actors/guard.hpp), every child
  // ends with it, so the actor system can close and `serve` exits 1 instead of waiting for ever.
  // A child's end reaches the supervisor as a down message; its exit message is ignored below.
  self->link_to(handle);
  self->state.children.push_back({std::move(name), handle, true});
  return handle;
}

// Subscriptions and the ready flag go by request: each reply proves the message it follows has
// reached the gateway's mailbox, so /health never shows "ready" before the database status.
void become_ready(supervisor* self) {
  auto& st = self->state;
  st.coordinator = add_child(
      self, "shutdown_coordinator",
      spawn_shutdown_coordinator(self->system(), caf::actor_cast<caf::actor>(self), st.config,
                                 std::chrono::milliseconds(static_cast<long long>(
                                     st.settings.server.shutdown_timeout * 1000))));
  self->send(st.coordinator, register_atom::value, st.gateway);
  self->send(st.coordinator, register_atom::value, st.jobs);
  self->request(st.gateway, std::chrono::seconds(2), ready_atom::value)
      .then(
          [=](caf::ok_atom) {
            // From now on a SIGHUP reloads (the coordinator forwards it unless draining).
            self->send(self->state.config, subscribe_atom::value, self->state.gateway,
                       self->state.jobs);
            os::systemd::ready();
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() -
                                                                            self->state.started);
            self->state.log.info("ready", {{"startup_ms", static_cast<long long>(ms.count())}});
          },
          failed_step(self, "http_gateway (ready)"));
}

// The three subscriptions go out together; ready follows once all three have answered (each
// answer comes after the first status it promises has been sent to the gateway).
void subscribe_gateway(supervisor* self, caf::actor db) {
  auto& st = self->state;
  auto waiting = std::make_shared<int>(3);
  auto one_done = [=](caf::ok_atom) {
    if (--*waiting == 0 && !self->state.stopping) become_ready(self);
  };
  self->request(db, std::chrono::seconds(2), subscribe_atom::value, st.gateway)
      .then(one_done, failed_step(self, "db_health (subscribe)"));
  self->request(db, std::chrono::seconds(2), subscribe_atom::value, st.jobs)
      .then(one_done, failed_step(self, "db_health (subscribe job_queue)"));
  // job_queue answers once the first counts are sent (1 s at most).
  self->request(st.jobs, std::chrono::seconds(5), subscribe_atom::value, st.gateway)
      .then(one_done, failed_step(self, "job_queue (subscribe)"));
}

// After the lock: the job queue (it recovers jobs left running by a dead process, opens the
// reader and starts the workers) and the gateway (it binds and answers probes with `starting`,
// API calls with 503 STARTING) start at the same time; both must answer before the
// subscriptions. The lock comes first so that a second instance says "already running", not
// "address in use".
void start_jobs_and_http(supervisor* self, caf::actor db) {
  auto& st = self->state;
  job_queue_options jo;
  jo.database_path = st.settings.database_path;
  jo.workers = st.settings.jobs.workers;
  jo.retention_days = st.settings.jobs.retention_days;
  jo.auto_purge = st.settings.jobs.auto_purge;
  st.jobs = add_child(self, "job_queue", spawn_job_queue(self->system(), jo));
  http_gateway_options ho{st.settings.server.bind, st.settings.server.port,
                          st.settings.server.auth_token, st.settings.server.allow_unauthenticated,
                          st.settings.server.rate_limit};
  st.gateway = add_child(self, "http_gateway", spawn_http_gateway(self->system(), ho, st.jobs));
  auto waiting = std::make_shared<int>(2);
  auto one_done = [=](const init_result& r) {
    if (self->state.stopping) return;
    if (!r.ok) return fail(self, r.error);
    if (--*waiting == 0) subscribe_gateway(self, db);
  };
  self->request(st.jobs, std::chrono::seconds(30), init_atom::value)
      .then(one_done, failed_step(self, "job_queue"));
  self->request(st.gateway, std::chrono::seconds(10), init_atom::value)
      .then(one_done, failed_step(self, "http_gateway"));
}

void start_db(supervisor* self) {
  auto& st = self->state;
  db_health_options opts;
  opts.database_path = st.settings.database_path;
  auto db = add_child(self, "db_health", spawn_db_health(self->system(), opts));
  self->request(db, std::chrono::seconds(30), init_atom::value)
      .then(
          [=](const init_result& r) {
            if (self->state.stopping) return;
            if (!r.ok) return fail(self, r.error);
            start_jobs_and_http(self, db);
          },
          failed_step(self, "db_health"));
}

void on_signal(supervisor* self, const signal_msg& sig) {
  auto& st = self->state;
  if (st.coordinator) return self->send(st.coordinator, sig);
  if (st.stopping) return;
  if (sig.signo == SIGHUP) {
    st.log.info("received SIGHUP during start-up: ignored (send it again once ready to reload)",
                {{"signal", "SIGHUP"}, {"sender_pid", sig.sender_pid}});
    return;
  }
  st.log.info("received " + os::signal_name(sig.signo) + " during start-up: stopping",
              {{"signal", os::signal_name(sig.signo)}, {"sender_pid", sig.sender_pid}});
  shutdown_report r;
  r.exit_code = sig.signo == SIGQUIT ? 128 + SIGQUIT : 0;
  r.reason = os::signal_name(sig.signo);
  r.sender_pid = sig.sender_pid;
  r.sender_name = sig.sender_name;
  r.outcome = "stopped during start-up";
  begin_stop(self, std::move(r));
}

void on_down(supervisor* self, const caf::down_msg& dm) {
  auto& st = self->state;
  std::string name = "actor";
  for (auto& c : st.children)
    if (c.handle && c.handle.address() == dm.source) c.alive = false, name = c.name;
  if (st.stopping) {
    // Drop the handles of a child that is gone: the last reference lets its thread (a detached
    // actor's) end now, during the rest of the stop, rather than all of them at the end.
    for (auto* h : {&st.config, &st.gateway, &st.jobs, &st.coordinator})
      if (*h && h->address() == dm.source) *h = nullptr;
    for (auto& c : st.children)
      if (c.handle && c.handle.address() == dm.source) c.handle = nullptr;
    if (dm.source == st.waiting_for) stop_next(self);
    return;
  }
  st.log.error(name + " stopped unexpectedly (" + self->system().render(dm.reason) +
               "): stopping the daemon");
  shutdown_report r;
  r.exit_code = 1;
  r.reason = "internal failure";
  r.outcome = name + " failed";
  begin_stop(self, std::move(r));
}

caf::behavior supervisor_impl(supervisor* self, config::settings settings, config::load_input input,
                              bool file_loaded) {
  install_guards(self, "supervisor");
  self->state.settings = std::move(settings);
  self->set_down_handler([=](caf::down_msg& dm) { on_down(self, dm); });
  self->set_exit_handler([](caf::exit_msg&) {});  // children: handled as down messages
  return {
      [=](run_atom) {
        auto& st = self->state;
        st.run_promise = self->make_response_promise();
        st.config = add_child(self, "config",
                              spawn_config_actor(self->system(), st.settings, input, file_loaded));
        // The config actor holds the same settings (it is their owner for reloads): the
        // database starts at once rather than after a round trip to it.
        start_db(self);
        return st.run_promise;
      },
      [=](const signal_msg& sig) { on_signal(self, sig); },
      [=](const shutdown_report& r) { begin_stop(self, r); },
  };
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, config::settings settings,
                            config::load_input input, bool file_loaded) {
  return sys.spawn(supervisor_impl, std::move(settings), std::move(input), file_loaded);
}

}  // namespace vpo::actors
