// config_actor.cpp: the settings' single owner and the SIGHUP reload (contract §5): every layer
// is loaded again; log level/format and jobs.workers (and the token) apply live; bind, port,
// database and shutdown_timeout are logged as "needs restart"; an invalid or missing file keeps
// the running configuration. RELOADING=1 ... READY=1 to systemd around it.
#include "actors/config_actor.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/guard.hpp"
#include "config/reload.hpp"
#include "logging/formatter.hpp"
#include "logging/log.hpp"
#include "logging/setup.hpp"
#include "os/signals.hpp"
#include "os/systemd_notify.hpp"

namespace vpo::actors {
namespace {

struct config_state {
  config::settings running;
  config::load_input input;
  bool file_loaded = false;  // the running settings came from a config file
  caf::actor gateway, jobs;  // set once the daemon is ready (subscribe_atom)
  net::reload_status status;
  bool reloading = false;
  bool again = false;  // a SIGHUP arrived during a reload: reload once more after it
  logging::logger log{"vpo.config"};
  static inline const char* name = "vpo.config";
};

using config_actor = caf::stateful_actor<config_state>;

void reload(config_actor* self);

void finish(config_actor* self) {
  auto& st = self->state;
  os::systemd::ready();
  st.reloading = false;
  if (std::exchange(st.again, false)) reload(self);
}

void failed(config_actor* self, const std::string& why) {
  auto& st = self->state;
  st.log.error("config reload failed: " + why + " The running configuration is kept.");
  st.status.error = why;
  if (st.gateway) self->send(st.gateway, st.status);
  finish(self);
}

std::string change_list(const std::vector<config::setting_change>& changes, bool live) {
  std::string out;
  for (const auto& c : changes) {
    if (c.live != live) continue;
    if (!out.empty()) out += ", ";
    out += c.key + " " + c.from + " -> " + c.to;
  }
  return out;
}

void apply(config_actor* self, const config::settings& next,
           const std::vector<config::setting_change>& changes, net::reload_status status) {
  auto& st = self->state;
  st.log.info("config reloaded: " + change_list(changes, true),
              {{"config_reload_count", static_cast<long long>(status.count)}});
  if (next.jobs.workers != st.running.jobs.workers && st.jobs)
    self->send(st.jobs, workers_atom::value, static_cast<std::int32_t>(next.jobs.workers));
  if ((next.jobs.retention_days != st.running.jobs.retention_days ||
       next.jobs.auto_purge != st.running.jobs.auto_purge) &&
      st.jobs)
    self->send(st.jobs, retention_atom::value, static_cast<std::int32_t>(next.jobs.retention_days),
               next.jobs.auto_purge);
  if (next.logging.level != st.running.logging.level ||
      next.logging.format != st.running.logging.format)
    logging::setup(next.logging);
  st.running = next;
  st.status = std::move(status);
  finish(self);
}

void reload(config_actor* self) {
  auto& st = self->state;
  st.reloading = true;
  os::systemd::reloading();
  config::loaded_config loaded = config::load(st.input);
  for (const auto& w : loaded.warnings) st.log.warn(w.message, {{"key", w.key}});
  if (!loaded.errors.empty()) {
    std::string why;
    for (const auto& e : loaded.errors) why += (why.empty() ? "" : " ") + e.message;
    return failed(self, why);
  }
  if (st.file_loaded && !loaded.config_file_loaded)
    return failed(self, "the config file " + loaded.config_path +
                            " is gone (it was read at start-up); put it back, then reload.");
  st.file_loaded = loaded.config_file_loaded;
  auto changes = config::diff(st.running, loaded.values);
  for (const auto& c : changes)
    if (!c.live)
      st.log.warn(c.key + " changed from " + c.from + " to " + c.to +
                      ": needs a restart to apply (still using " + c.from + ")",
                  {{"key", c.key}});
  bool any_live = std::any_of(changes.begin(), changes.end(), [](auto& c) { return c.live; });
  if (!any_live) {
    st.log.info(changes.empty() ? "config reloaded: no changes"
                                : "config reloaded: nothing to apply live");
    bool had_error = !st.status.error.empty();
    st.status.error.clear();
    if (had_error && st.gateway) self->send(st.gateway, st.status);
    return finish(self);
  }
  auto next = config::apply_live(st.running, loaded.values);
  net::reload_status status = st.status;
  status.error.clear();
  status.count += 1;
  status.last = logging::rfc3339_ms(std::chrono::system_clock::now());
  if (!st.gateway) return apply(self, next, changes, status);
  // The gateway first: it may refuse (a token removed while listening beyond loopback); then
  // nothing is applied anywhere.
  self->request(st.gateway, std::chrono::seconds(2), config_update{next, status})
      .then(
          [=](const std::string& refused) {
            if (!refused.empty()) return failed(self, refused);
            apply(self, next, changes, status);
          },
          [=](caf::error& err) {
            failed(self, "the HTTP gateway did not answer (" + self->system().render(err) + ").");
          });
}

caf::behavior config_impl(config_actor* self, config::settings settings, config::load_input input,
                          bool file_loaded) {
  install_guards(self, "config");
  self->state.running = std::move(settings);
  self->state.input = std::move(input);
  self->state.file_loaded = file_loaded;
  return {
      [=](caf::get_atom) { return self->state.running; },
      [=](subscribe_atom, const caf::actor& gateway, const caf::actor& jobs) {
        self->state.gateway = gateway;
        self->state.jobs = jobs;
      },
      [=](const signal_msg& sig) {
        auto& st = self->state;
        std::string who = "pid " + std::to_string(sig.sender_pid) +
                          (sig.sender_name.empty() ? "" : " (" + sig.sender_name + ")");
        st.log.info("received SIGHUP from " + who + ": reloading the configuration",
                    {{"signal", "SIGHUP"},
                     {"sender_pid", sig.sender_pid},
                     {"sender_name", sig.sender_name}});
        if (st.reloading) {
          st.again = true;
          return;
        }
        reload(self);
      },
  };
}

}  // namespace

caf::actor spawn_config_actor(caf::actor_system& sys, config::settings settings,
                              config::load_input input, bool file_loaded) {
  // Detached: a reload reads the file and may resolve server.bind (DNS); that must never hold
  // one of the two scheduler threads.
  return sys.spawn<caf::detached>(config_impl, std::move(settings), std::move(input), file_loaded);
}

}  // namespace vpo::actors
