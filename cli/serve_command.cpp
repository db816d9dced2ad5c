// serve_command.cpp: `vpo serve`: the start/stop sequence of the daemon: signal thread, actor
// system, supervisor; then main's part of the shutdown protocol: wait for the supervisor's report,
// tear down in order, log the summary as the last record. The signal thread's watchdog bounds it.
#include "cli/serve_command.hpp"

#include <caf/all.hpp>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/supervisor.hpp"
#include "db/library.hpp"
#include "logging/log.hpp"
#include "logging/setup.hpp"
#include "os/signals.hpp"
#include "os/systemd_notify.hpp"

namespace vpo::cli {
namespace {

using actors::shutdown_report;

// Where the signal thread sends signals; cleared before the actor system goes away.
struct signal_target {
  std::mutex mutex;
  caf::actor supervisor;
};

void log_summary(const shutdown_report& r) {
  logging::logger log("vpo.daemon");
  logging::fields ctx = {
      {"reason", r.reason},           {"sender_pid", r.sender_pid},
      {"sender_name", r.sender_name}, {"duration_ms", std::llround(r.duration_seconds * 1000)},
      {"outcome", r.outcome},         {"jobs_completed", r.completed},
      {"jobs_requeued", r.requeued},  {"exit_code", r.exit_code}};
  std::string msg = "shutdown summary: " + r.outcome + " after " + r.reason + ", exit " +
                    std::to_string(r.exit_code);
  if (r.exit_code == 0)
    log.info(msg, ctx);
  else
    log.warn(msg, ctx);
}

// CAF's work-stealing defaults spin after every message (100 polls, then 500 polls 50 us apart) and
// wake each idle scheduler thread every 10 ms to steal. On a 2-core machine that spinning took a
// fifth of a core away from the scan and the store, and cost 2 % of a core per thread when idle.
// A message enqueued from outside wakes a sleeping thread at once (condition variable), so a
// short spin and a long idle sleep lose no latency; stealing only matters for a thread's own
// backlog, which it works off itself within one handler's time.
void tune_scheduler(caf::actor_system_config& cfg) {
  using namespace std::chrono_literals;
  cfg.set("work-stealing.aggressive-poll-attempts", 10);
  cfg.set("work-stealing.aggressive-steal-interval", 5);
  cfg.set("work-stealing.moderate-poll-attempts", 10);
  cfg.set("work-stealing.moderate-steal-interval", 2);
  cfg.set("work-stealing.moderate-sleep-duration", caf::timespan{50us});
  cfg.set("work-stealing.relaxed-steal-interval", 1);
  cfg.set("work-stealing.relaxed-sleep-duration", caf::timespan{250ms});
}

// Under systemd: the unit must give the drain its time (shutdown_timeout + 2 s at most), or a
// `systemctl stop` can end in SIGKILL. Unknown (no D-Bus): not checked.
void check_stop_timeout(const config::settings& settings) {
  auto stop = os::systemd::unit_stop_timeout();
  logging::logger log("vpo.daemon");
  if (!stop) {
    if (std::getenv("INVOCATION_ID"))
      log.debug("the unit's stop timeout cannot be read (no system bus): not checked");
    return;
  }
  double need = settings.server.shutdown_timeout + 2.0;
  double have = std::chrono::duration<double>(*stop).count();
  if (*stop == std::chrono::microseconds::max() || have >= need) return;
  auto secs = [](double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", s);
    return std::string(buf);
  };
  log.warn("the unit's stop timeout (TimeoutStopSec=" + secs(have) +
               " s) is shorter than server.shutdown_timeout + 2 s (" + secs(need) +
               " s): a long drain relies on vpo's EXTEND_TIMEOUT_USEC, and a stop job that "
               "cannot extend ends in SIGKILL. Raise TimeoutStopSec= above " +
               secs(need) + " s (systemctl edit vpo) or lower server.shutdown_timeout.",
           {{"timeout_stop_sec", have}, {"shutdown_timeout", settings.server.shutdown_timeout}});
}

// The signal thread's handler: stop signals and SIGHUP go to the supervisor; any other signal
// whose default would end the process is logged and ignored, at any time (contract §5: start-up
// and drain included): it never reaches the actors.
void on_signal(signal_target& target, const os::signal_event& e) {
  if (!os::is_stop_signal(e.signo) && e.signo != SIGHUP) {
    // Contract §5: any other signal whose default would end the process is logged and
    // ignored, at any time (start-up and drain included): it never reaches the actors.
    std::string who = "pid " + std::to_string(e.sender_pid) +
                      (e.sender_name.empty() ? "" : " (" + e.sender_name + ")");
    logging::logger("vpo.daemon")
        .warn("received " + os::signal_name(e.signo) + " from " + who +
                  ": ignored (SIGTERM or SIGINT drain, SIGQUIT forces the stop)",
              {{"signal", os::signal_name(e.signo)},
               {"sender_pid", static_cast<long long>(e.sender_pid)},
               {"sender_name", e.sender_name}});
    return;
  }
  std::lock_guard<std::mutex> lock(target.mutex);
  if (target.supervisor)
    caf::anon_send(target.supervisor, actors::signal_msg{e.signo, e.sender_pid, e.sender_name});
}

}  // namespace

int run_serve(const config::loaded_config& loaded, const config::load_input& input) {
  const config::settings& settings = loaded.values;
  logging::logger log("vpo.daemon");
  db::configure_sqlite();
  auto grace = std::chrono::milliseconds(std::llround(settings.server.shutdown_timeout * 1000)) +
               std::chrono::seconds(2);
  auto target = std::make_shared<signal_target>();
  os::signal_thread signals([target](const os::signal_event& e) { on_signal(*target, e); }, grace,
                            [](int code) {
                              // The last resort waits for nothing: not the log queue (a flood, a
                              // stalled reader), not a lock. One direct line if stderr takes it
                              // now; _exit follows.
                              logging::emergency(
                                  config::log_level::error, "vpo.daemon",
                                  "watchdog: still running at shutdown_timeout + 2 s; exiting now",
                                  {{"exit_code", static_cast<long long>(code)}});
                            });

  check_stop_timeout(settings);

  shutdown_report report;
  report.exit_code = 1;
  {
    caf::actor_system_config cfg;  // never parse(): argv belongs to CLI11
    cfg.set("scheduler.max-threads", 2);
    tune_scheduler(cfg);
    actors::register_errors(cfg);
    caf::actor_system sys{cfg};
    auto sup = actors::spawn_supervisor(sys, settings, input, loaded.config_file_loaded);
    {
      std::lock_guard<std::mutex> lock(target->mutex);
      target->supervisor = sup;
    }
    {
      caf::scoped_actor self{sys};
      self->request(sup, caf::infinite, actors::run_atom::value)
          .receive([&](shutdown_report& r) { report = std::move(r); },
                   [&](caf::error& err) {
                     log.error("supervisor failed: " + sys.render(err));
                     report.exit_code = 1;
                   });
    }
    std::lock_guard<std::mutex> lock(target->mutex);
    target->supervisor = nullptr;
  }  // ~actor_system waits for every actor; the watchdog still runs
  // Not after a failed start: the file may be another instance's (the instance lock refused us).
  if (auto s = report.outcome == "startup failed" ? db::status()
                                                  : db::finish_wal(settings.database_path, 1000);
      !s.ok())
    log.warn("the database's write-ahead log stays beside it (the next start reads it): " +
             s.message);
  if (report.outcome != "startup failed") log_summary(report);
  // The final flush too happens under the watchdog: a stalled log reader cannot hold the
  // process past shutdown_timeout + 2 s (the watchdog ends with signals' destructor).
  logging::shutdown();
  return report.exit_code;
}

}  // namespace vpo::cli
