// http_gateway.cpp: the only file where CAF meets net/ (Beast stays behind net::server).
#include "actors/http_gateway.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <memory>

#include "actors/errors.hpp"
#include "actors/guard.hpp"
#include "actors/messages.hpp"
#include "api/errors.hpp"
#include "logging/log.hpp"
#include "net/rate_limit.hpp"
#include "net/server.hpp"
#include "os/systemd_notify.hpp"

namespace vpo::actors {
namespace {

struct gateway_state {
  http_gateway_options options;
  caf::actor jobs;
  std::unique_ptr<net::server> server;
  net::rate_limiter limiter;
  net::health_snapshot snapshot;
  bool database_readable = false;
  std::chrono::microseconds watchdog{0};  // half of systemd's WATCHDOG_USEC; 0: off
  bool ticking = false;
  std::string last_status;  // the last STATUS= sent to systemd
  std::int64_t running = 0, queued = 0;
  caf::response_promise drain_promise;
  bool drain_pending = false;
  logging::logger log{"vpo.http"};
  static inline const char* name = "vpo.http_gateway";

  ~gateway_state() {
    if (server) server->stop();  // joins the io threads before the hooks (and this) go away
  }
};

using gateway = caf::stateful_actor<gateway_state>;

void publish(gateway* self) {
  self->state.server->publish(self->state.snapshot);
}

// The bridge: io threads turn requests into messages to this actor.
net::server_hooks make_hooks(gateway* self) {
  caf::actor me = caf::actor_cast<caf::actor>(self);
  net::server_hooks hooks;
  hooks.api = [me](net::http_request r, net::reply_fn reply) {
    caf::anon_send(me, http_call{std::move(r), std::move(reply)});
  };
  hooks.livez = [me](net::http_request, net::reply_fn reply) {
    caf::anon_send(me, livez_call{std::move(reply)});
  };
  hooks.drained = [me] { caf::anon_send(me, http_idle_atom::value); };
  hooks.failed = [me](const std::string& what) { caf::anon_send(me, io_failed{what}); };
  return hooks;
}

// A non-loopback address without a token is refused unless the operator accepted the risk.
std::string check_exposure(gateway_state& st) {
  if (st.server->bound_to_loopback() || st.options.auth_token) return {};
  std::string where = st.server->local_endpoint();
  if (!st.options.allow_unauthenticated)
    return "refusing to listen on " + where +
           " without authentication: it is not a loopback address and server.auth_token is "
           "unset. Set server.auth_token (or VPO_AUTH_TOKEN), bind 127.0.0.1, or set "
           "server.allow_unauthenticated = true to accept the risk.";
  st.log.warn("listening on " + where +
              " without authentication (server.allow_unauthenticated = true): anyone who can "
              "reach this address can submit and cancel jobs");
  return {};
}

// A SIGHUP reload: the token and allow_unauthenticated apply to the next request. Refused (and
// nothing applied) when it would leave a non-loopback listener without authentication.
std::string on_config_update(gateway* self, const config_update& u) {
  auto& st = self->state;
  if (st.server && !st.server->bound_to_loopback() && !u.settings.server.auth_token &&
      !u.settings.server.allow_unauthenticated)
    return "the new configuration has no server.auth_token, but vpo listens on " +
           st.server->local_endpoint() +
           ", which is not a loopback address: set a token (or server.allow_unauthenticated = "
           "true) and reload again.";
  st.options.auth_token = u.settings.server.auth_token;
  st.options.allow_unauthenticated = u.settings.server.allow_unauthenticated;
  st.options.rate_limit = u.settings.server.rate_limit;
  st.limiter.configure(st.options.rate_limit);
  st.snapshot.reload = u.status;
  if (st.server) publish(self);
  return {};
}

init_result on_init(gateway* self) {
  auto& st = self->state;
  net::server_options opts;
  st.server = std::make_unique<net::server>(make_hooks(self), opts);
  // Socket activation (vpo.socket): the listening socket comes from systemd, so connections made
  // while the service restarts wait in its queue instead of being refused.
  auto fds = os::systemd::listen_fds();
  std::string err = fds.empty() ? st.server->listen(st.options.bind, st.options.port)
                                : st.server->adopt(fds.front());
  if (fds.size() > 1)
    st.log.warn("socket activation: systemd passed " + std::to_string(fds.size()) +
                " sockets; vpo serves on the first only (give vpo.socket one ListenStream=)");
  if (err.empty()) err = check_exposure(st);
  if (!err.empty()) {
    st.server.reset();
    return {false, err};
  }
  publish(self);
  st.server->run();
  if (!fds.empty())
    st.log.info("listening on " + st.server->local_endpoint() +
                    " (socket activation: the socket comes from systemd; server.bind and "
                    "server.port are not used)",
                {{"fd", fds.front()}});
  else
    st.log.info("listening on " + st.server->local_endpoint(),
                {{"bind", st.options.bind}, {"port", static_cast<int>(st.options.port)}});
  return {true, {}};
}

void deliver_drained(gateway* self) {
  auto& st = self->state;
  if (!st.drain_pending) return;
  st.drain_pending = false;
  st.drain_promise.deliver(drained_atom::value, participant_report{"http", 0, 0});
}

// STATUS= for `systemctl status`: "serving: 1 running, 3 queued", or during a drain
// "draining: 1 jobs, 27 s left". Sent when it changes.
void update_status(gateway* self) {
  auto& st = self->state;
  if (!st.snapshot.ready) return;
  std::string text;
  if (st.snapshot.shutting_down) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(st.snapshot.drain_deadline -
                                                                 std::chrono::steady_clock::now())
                    .count();
    text = "draining: " + std::to_string(st.snapshot.jobs_in_flight) + " jobs, " +
           std::to_string(std::max<long long>(0, left)) + " s left";
  } else {
    text = "serving: " + std::to_string(st.running) + " running, " + std::to_string(st.queued) +
           " queued";
  }
  if (text == st.last_status) return;
  st.last_status = text;
  os::systemd::status(text);
}

// The watchdog and the drain's countdown. WATCHDOG=1 goes out only when both this actor (the
// tick arrived) and the io thread (it ran the callback) answer: a hung daemon stops pinging.
void start_ticking(gateway* self) {
  auto& st = self->state;
  if (st.ticking || (st.watchdog.count() == 0 && !st.snapshot.shutting_down)) return;
  st.ticking = true;
  self->send(self, tick_atom::value);
}

void on_tick(gateway* self) {
  auto& st = self->state;
  if (st.watchdog.count() > 0 && st.server) {
    caf::actor me = caf::actor_cast<caf::actor>(self);
    st.server->on_io_thread([me] { caf::anon_send(me, alive_atom::value); });
  }
  update_status(self);
  if (st.snapshot.shutting_down) {
    // The drain goes on until its deadline, and the process ends by deadline + 2 s whatever
    // happens: systemd need not kill it before (a unit's TimeoutStopSec may be shorter).
    auto left = st.snapshot.drain_deadline - std::chrono::steady_clock::now();
    if (left > std::chrono::steady_clock::duration::zero())
      os::systemd::extend_timeout(
          std::chrono::duration_cast<std::chrono::microseconds>(left + std::chrono::seconds(3)));
  }
  auto every = std::chrono::duration_cast<std::chrono::milliseconds>(st.watchdog);
  if (every.count() <= 0 || every > std::chrono::seconds(1)) every = std::chrono::seconds(1);
  self->delayed_send(self, every, tick_atom::value);
}

caf::response_promise on_drain(gateway* self, std::int64_t ms_left) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  st.snapshot.shutting_down = true;
  st.snapshot.drain_phase = "draining";
  st.snapshot.drain_deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(ms_left);
  if (!st.server) {
    rp.deliver(drained_atom::value, participant_report{"http", 0, 0});
    return rp;
  }
  publish(self);
  update_status(self);
  start_ticking(self);
  st.drain_promise = rp;
  st.drain_pending = true;
  st.server->begin_drain();  // the listener closes; idle connections close
  st.log.info("draining: listener closed, idle connections closed",
              {{"requests_in_flight", static_cast<long long>(st.server->requests_in_flight())}});
  if (st.server->requests_in_flight() == 0) deliver_drained(self);
  return rp;
}

// The jobs part of /health (JSON) and of /metrics (exposition lines), rendered once per change.
void on_job_counts(gateway* self, const job_counts& c) {
  auto& snap = self->state.snapshot;
  self->state.running = c.running;
  self->state.queued = c.queued;
  snap.jobs_json = "{\"queued\":" + std::to_string(c.queued) +
                   ",\"running\":" + std::to_string(c.running) +
                   ",\"workers\":" + std::to_string(c.workers) + "}";
  snap.jobs_in_flight = static_cast<long>(c.running);
  std::string m =
      "# HELP vpo_jobs Jobs in the library database, by status.\n# TYPE vpo_jobs gauge\n";
  for (auto [status, n] : {std::pair{"queued", c.queued}, std::pair{"running", c.running},
                           std::pair{"completed", c.completed}, std::pair{"failed", c.failed},
                           std::pair{"cancelled", c.cancelled}})
    m += std::string("vpo_jobs{status=\"") + status + "\"} " + std::to_string(n) + "\n";
  m += "# HELP vpo_jobs_finished_total Jobs finished by this process, by type and outcome.\n"
       "# TYPE vpo_jobs_finished_total counter\n";
  // Every series from the start, at 0: rate() and alerts see a job type's first failure.
  for (const char* type : {"scan"})
    for (const char* outcome : {"completed", "failed", "cancelled"}) {
      auto it = c.finished.find(std::string(type) + " " + outcome);
      m += std::string("vpo_jobs_finished_total{type=\"") + type + "\",outcome=\"" + outcome +
           "\"} " + std::to_string(it == c.finished.end() ? 0 : it->second) + "\n";
    }
  m += "# HELP vpo_library_files Files in the library database (missing ones included).\n"
       "# TYPE vpo_library_files gauge\nvpo_library_files " +
       std::to_string(c.library_files) +
       "\n# HELP vpo_library_missing_files Library files marked missing (gone from disk).\n"
       "# TYPE vpo_library_missing_files gauge\nvpo_library_missing_files " +
       std::to_string(c.library_missing) + "\n";
  snap.jobs_metrics = std::move(m);
  if (self->state.server) publish(self);
  update_status(self);
}

// /api/*: auth, validation, the drain's 503, then a request to job_queue with a timeout.
void on_api(gateway* self, http_call& call) {
  auto& st = self->state;
  auto reply = call.reply;
  // First: a client over its limit is refused before anything else is done for it (a token
  // guesser included).
  bool read_only_call = call.request.method == "GET" || call.request.method == "HEAD";
  if (int wait = st.limiter.admit(call.request.client_address, !read_only_call,
                                  std::chrono::steady_clock::now())) {
    return reply(api::error_response(
        vpo::error(errc::rate_limited,
                   "too many " + std::string(read_only_call ? "read" : "write") +
                       " requests from " +
                       (call.request.client_address.empty() ? "this client"
                                                            : call.request.client_address) +
                       ": at most " +
                       std::to_string(read_only_call ? st.options.rate_limit.get_max_requests
                                                     : st.options.rate_limit.mutate_max_requests) +
                       " per " + std::to_string(st.options.rate_limit.window_seconds) +
                       " s (server.rate_limit); retry in " + std::to_string(wait) + " s"),
        "", wait));
  }
  if (st.options.auth_token &&
      !api::bearer_matches(call.request.authorization, *st.options.auth_token)) {
    return reply(api::error_response(vpo::error(
        errc::unauthorized, "missing or wrong bearer token (Authorization: Bearer <token>)")));
  }
  if (!st.snapshot.ready && !st.snapshot.shutting_down) {
    // Bound while the job queue still opens the database (they start together).
    return reply(api::error_response(
        vpo::error(errc::unavailable, "the daemon is starting; retry in a moment"), "STARTING", 1));
  }
  if (st.snapshot.shutting_down && call.request.method == "POST") {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(st.snapshot.drain_deadline -
                                                                 std::chrono::steady_clock::now())
                    .count();
    return reply(api::error_response(
        vpo::error(errc::cancelled, "the daemon is shutting down and accepts no new work"), "",
        static_cast<int>(std::max<long long>(1, left + 1))));
  }
  // Reads go on while only writes fail (another process holds the write lock, a full disk);
  // anything that writes is refused at once, naming why.
  if (!st.snapshot.database_connected && !(read_only_call && st.database_readable)) {
    return reply(
        api::error_response(vpo::error(errc::unavailable, "the library database is disconnected: " +
                                                              st.snapshot.database_reason)));
  }
  auto parsed = api::parse_job_request(call.request);
  if (auto* res = std::get_if<net::http_response>(&parsed)) return reply(std::move(*res));
  auto query = std::get<job_query>(std::move(parsed));
  self->request(st.jobs, std::chrono::seconds(5), query)
      .then([=](const job_answer& a) { reply(api::render_job_answer(query, a)); },
            [=](caf::error& err) {
              reply(api::error_response(vpo::error(
                  errc::timeout, "the job queue did not answer: " + self->system().render(err))));
            });
}

caf::behavior gateway_impl(gateway* self, http_gateway_options options, caf::actor jobs) {
  install_guards(self, "http_gateway");
  self->state.options = std::move(options);
  self->state.limiter.configure(self->state.options.rate_limit);
  self->state.jobs = std::move(jobs);
  return {
      [=](init_atom) { return on_init(self); },
      [=](ready_atom) {
        self->state.snapshot.ready = true;
        publish(self);
        self->state.watchdog = os::systemd::watchdog_interval();
        start_ticking(self);
        update_status(self);
        return caf::ok_atom::value;
      },
      [=](tick_atom) { on_tick(self); },
      [=](const config_update& u) { return on_config_update(self, u); },
      [=](const net::reload_status& s) {
        self->state.snapshot.reload = s;
        if (self->state.server) publish(self);
      },
      [=](alive_atom) { os::systemd::watchdog(); },
      [=](const db_status& s) {
        self->state.snapshot.database_connected = s.connected;
        self->state.snapshot.database_reason = s.reason;
        self->state.database_readable = s.readable;
        if (self->state.server) publish(self);
      },
      [=](http_call& call) { on_api(self, call); },
      [=](const job_counts& c) { on_job_counts(self, c); },
      [=](livez_call& call) {
        net::http_response r;
        r.content_type = "text/plain; charset=utf-8";
        r.body = "ok\n";
        call.reply(std::move(r));
      },
      [=](drain_atom, std::int64_t ms_left) { return on_drain(self, ms_left); },
      [=](const io_failed& f) {
        // A defect on the io thread: this actor ends with the error, and the supervisor, which
        // monitors it, stops the daemon with exit 1 (the drain still runs).
        self->state.log.error("the HTTP io thread failed: " + f.what +
                              " (a defect in vpo: please report it); stopping the daemon");
        self->quit(to_caf(vpo::error(errc::internal, "io thread: " + f.what)));
      },
      [=](http_idle_atom) {
        if (self->state.server && self->state.server->requests_in_flight() == 0)
          deliver_drained(self);
      },
      [=](force_atom) -> caf::result<forced_atom, participant_report> {
        if (self->state.server) self->state.server->close_all();
        self->state.snapshot.drain_phase = "forced";
        if (self->state.server) publish(self);
        return {forced_atom::value, participant_report{"http", 0, 0}};
      },
  };
}

}  // namespace

caf::actor spawn_http_gateway(caf::actor_system& sys, http_gateway_options options,
                              const caf::actor& jobs) {
  return sys.spawn(gateway_impl, std::move(options), jobs);
}

}  // namespace vpo::actors
