// messages.hpp: the whole actor protocol: atoms and message value types, sectioned per actor.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <cstdint>
#include <map>
#include <string>

#include "actors/jobs_api.hpp"
#include "config/settings.hpp"
#include "jobs/job.hpp"
#include "net/http_types.hpp"

namespace vpo::actors {

// ---- common: lifecycle ------------------------------------------------------------------
using init_atom = caf::atom_constant<caf::atom("init")>;    ///< start-up step; replies init_result
using run_atom = caf::atom_constant<caf::atom("run")>;      ///< main -> supervisor; replies report
using ready_atom = caf::atom_constant<caf::atom("ready")>;  ///< startup finished

/// A start-up step's outcome; `error` is one complete sentence (what, where, OS reason, fix).
struct init_result {
  bool ok = true;
  std::string error;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, init_result& x) {
  return f(caf::meta::type_name("vpo.init_result"), x.ok, x.error);
}

// ---- db_health ---------------------------------------------------------------------------
using probe_atom = caf::atom_constant<caf::atom("probe")>;          ///< timer: probe the database
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;  ///< + actor: push status

/// db_health -> subscribers, on every change (and once on subscription).
struct db_status {
  bool connected = false;
  std::string reason;  ///< why disconnected; empty when connected
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, db_status& x) {
  return f(caf::meta::type_name("vpo.db_status"), x.connected, x.reason);
}

// ---- http_gateway ------------------------------------------------------------------------
/// net -> http_gateway: one API request and how to answer it.
struct http_call {
  net::http_request request;
  net::reply_fn reply;
};
/// net -> http_gateway: a /livez probe; answering proves the actor system runs.
struct livez_call {
  net::reply_fn reply;
};
using http_idle_atom = caf::atom_constant<caf::atom("http_idle")>;  ///< drained: nothing in flight

// ---- job_queue and job_worker -----------------------------------------------------------
/// job_queue -> subscribers (http_gateway) on every change of the counts.
struct job_counts {
  std::int64_t queued = 0;
  std::int64_t running = 0;
  std::int64_t completed = 0;
  std::int64_t failed = 0;
  std::int64_t cancelled = 0;
  std::int32_t workers = 0;
  /// Jobs this process finished, keyed "type outcome" (e.g. "scan completed").
  std::map<std::string, std::int64_t> finished;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_counts& x) {
  return f(caf::meta::type_name("vpo.job_counts"), x.queued, x.running, x.completed, x.failed,
           x.cancelled, x.workers, x.finished);
}

/// job_queue -> job_worker: run this job (the worker reports with job_done).
struct run_job {
  jobs::job job;
};
using step_atom = caf::atom_constant<caf::atom("step")>;      ///< worker -> itself: next step
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;  ///< + job id: stop, end cancelled

/// job_worker -> job_queue after each step.
struct job_progress {
  std::string id;
  double percent = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_progress& x) {
  return f(caf::meta::type_name("vpo.job_progress"), x.id, x.percent);
}

/// job_worker -> job_queue when a job ends (completed, failed or cancelled).
struct job_done {
  std::string id;
  std::string status;
  std::string error;         ///< empty when none
  std::string summary_json;  ///< empty when none
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_done& x) {
  return f(caf::meta::type_name("vpo.job_done"), x.id, x.status, x.error, x.summary_json);
}

// ---- shutdown_coordinator ----------------------------------------------------------------
using drain_atom = caf::atom_constant<caf::atom("drain")>;  ///< + int64 ms left; replies drained
using drained_atom = caf::atom_constant<caf::atom("drained")>;  ///< + participant_report
using force_atom = caf::atom_constant<caf::atom("force")>;      ///< deadline; replies forced
using forced_atom = caf::atom_constant<caf::atom("forced")>;    ///< + participant_report
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using register_atom = caf::atom_constant<caf::atom("register")>;  ///< + actor: drain participant

/// The signal thread -> supervisor -> coordinator.
struct signal_msg {
  int signo = 0;
  std::int32_t sender_pid = 0;
  std::string sender_name;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signal_msg& x) {
  return f(caf::meta::type_name("vpo.signal_msg"), x.signo, x.sender_pid, x.sender_name);
}

/// What a participant did during the drain or force.
struct participant_report {
  std::string name;
  std::int32_t completed = 0;  ///< jobs finished during the drain
  std::int32_t requeued = 0;   ///< jobs put back to queued by a force
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, participant_report& x) {
  return f(caf::meta::type_name("vpo.participant_report"), x.name, x.completed, x.requeued);
}

/// coordinator -> supervisor -> main: how the process ends; main logs it as the last record.
struct shutdown_report {
  std::int32_t exit_code = 0;
  std::string reason;  ///< "SIGTERM", "startup failure", ...
  std::int32_t sender_pid = 0;
  std::string sender_name;
  double duration_seconds = 0;  ///< from the first signal to the end of the drain
  std::string outcome;          ///< "drained", "forced", "startup failed", ...
  std::int32_t completed = 0;
  std::int32_t requeued = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shutdown_report& x) {
  return f(caf::meta::type_name("vpo.shutdown_report"), x.exit_code, x.reason, x.sender_pid,
           x.sender_name, x.duration_seconds, x.outcome, x.completed, x.requeued);
}

}  // namespace vpo::actors

// Local-only messages (never serialized): they carry callbacks or big plain structs.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::actors::http_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::actors::livez_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::config::settings)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::actors::run_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::actors::job_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::actors::job_answer)
