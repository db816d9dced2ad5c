// messages.hpp: the whole actor protocol: atoms and message value types, sectioned per actor.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/jobs_api.hpp"
#include "config/settings.hpp"
#include "jobs/job.hpp"
#include "jobs/scan_batch.hpp"
#include "net/health.hpp"
#include "net/http_types.hpp"
#include "store/queue_store.hpp"

namespace vpo::actors {

// The jobs API's query and answer (api/jobs_api.hpp) travel between the gateway and job_queue.
using api::job_answer;
using api::job_query;

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
  bool connected = false;  ///< readable and writable
  std::string reason;      ///< why disconnected; empty when connected
  bool readable = false;   ///< reads work (also while another process holds the write lock)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, db_status& x) {
  return f(caf::meta::type_name("vpo.db_status"), x.connected, x.reason, x.readable);
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
/// net -> http_gateway: a handler on the io thread threw (its text); the gateway stops the daemon.
struct io_failed {
  std::string what;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, io_failed& x) {
  return f(caf::meta::type_name("vpo.io_failed"), x.what);
}
using http_idle_atom = caf::atom_constant<caf::atom("http_idle")>;  ///< drained: nothing in flight
using tick_atom = caf::atom_constant<caf::atom("tick")>;    ///< gateway: watchdog and status timer
using alive_atom = caf::atom_constant<caf::atom("alive")>;  ///< the io thread answered a tick

// ---- config (SIGHUP reload) -------------------------------------------------------------
/// config -> http_gateway after a reload that changes something: the new settings (the gateway
/// takes `server.auth_token` and `allow_unauthenticated`) and the reload state for /health.
/// Replies a std::string: empty when applied, else why the gateway refused (nothing applied).
struct config_update {
  config::settings settings;
  net::reload_status status;
};
/// config -> job_queue: run this many workers from now on (+ int32).
using workers_atom = caf::atom_constant<caf::atom("workers")>;

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
  std::int64_t library_files = 0;    ///< files in the library (missing ones included)
  std::int64_t library_missing = 0;  ///< of those, marked missing
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_counts& x) {
  return f(caf::meta::type_name("vpo.job_counts"), x.queued, x.running, x.completed, x.failed,
           x.cancelled, x.workers, x.finished, x.library_files, x.library_missing);
}

/// job_queue -> job_worker: run this job (the worker reports with job_done).
struct run_job {
  jobs::job job;
};
/// worker -> itself: the next step of the job of this generation (older ones are dropped).
using step_atom = caf::atom_constant<caf::atom("step")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;  ///< + job id: stop, end cancelled

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

/// job_worker -> job_queue, answering force: the job it stopped ("" when idle) and its summary.
struct job_stopped {
  std::string id;
  std::string summary_json;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_stopped& x) {
  return f(caf::meta::type_name("vpo.job_stopped"), x.id, x.summary_json);
}

using check_atom = caf::atom_constant<caf::atom("check")>;  ///< + path: is it a directory?
using count_atom = caf::atom_constant<caf::atom("count")>;  ///< reader: jobs by status
/// config -> job_queue: `jobs.retention_days` (+ int32) and `jobs.auto_purge` (+ bool) changed.
using retention_atom = caf::atom_constant<caf::atom("retention")>;
using purge_atom = caf::atom_constant<caf::atom("purge")>;  ///< job_queue's timer: purge old jobs

// ---- store (the one writer) --------------------------------------------------------------
/// job_queue -> store: one job transition (sent with high priority: never behind a scan batch).
struct store_op {
  enum class kind {
    insert,  ///< unless a job of that type and path is queued or running (reply: that job)
    claim,
    unclaim,
    finish,
    requeue,
    cancel_queued,
    retry,  ///< failed/cancelled -> queued (reply: the job as stored)
    purge   ///< deletes up to `limit` finished jobs older than `cutoff` (reply: `deleted`)
  } what = kind::claim;
  jobs::job job;                ///< insert
  std::string id;               ///< unclaim, finish, cancel_queued, retry
  std::string cutoff;           ///< purge: RFC 3339 UTC
  int limit = 0;                ///< purge
  std::string status;           ///< finish
  std::string error;            ///< finish; empty = none
  std::string summary_json;     ///< finish; empty = none
  std::vector<jobs::job> jobs;  ///< requeue (with the summary of what each did)
  /// insert, claim: when set, the store does nothing after this time: the caller has given up
  /// (and answered its client with an error) by then, and an error answer changes nothing.
  std::optional<std::chrono::steady_clock::time_point> not_after;
  std::uint64_t call_id = 0;  ///< echoed in the reply (job_queue matches replies by it)
};
/// store -> job_queue.
struct store_reply {
  bool ok = true;
  std::string error;
  bool changed = false;
  bool expired = false;  ///< refused because not_after had passed (nothing changed)
  /// claim: the claimed job; cancel_queued, retry: the job now; insert: the queued or running
  /// job that made it a duplicate (changed false)
  std::optional<jobs::job> job;
  long long deleted = 0;         ///< purge
  std::vector<std::string> ids;  ///< requeue: the jobs put back
  std::uint64_t call_id = 0;     ///< the store_op's
};
/// store -> job_queue at start-up: what recovery did.
struct store_recovery {
  bool ok = true;
  std::string error;
  std::vector<jobs::job> requeued;
  std::vector<jobs::job> failed;
};
/// store -> job_worker: a scan batch was applied (or not).
struct batch_ack {
  bool ok = true;
  std::string error;
  std::int64_t missing_marked = 0;
  /// The database could not be written for a reason outside the job (locked by another
  /// process, full, read-only, not open): the job goes back to `queued`, it does not fail.
  bool unwritable = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_ack& x) {
  return f(caf::meta::type_name("vpo.batch_ack"), x.ok, x.error, x.missing_marked, x.unwritable);
}

// ---- typed handles ------------------------------------------------------------------------
/// The one writer (actors/store.hpp). A message it does not handle is a compile error.
using store_actor =
    caf::typed_actor<caf::replies_to<init_atom, int>::with<store_recovery>,
                     caf::replies_to<store_op>::with<store_reply>,
                     caf::replies_to<jobs::scan_batch>::with<batch_ack>, caf::reacts_to<db_status>>;
/// The API's reader (actors/store.hpp).
using reader_actor =
    caf::typed_actor<caf::replies_to<init_atom>::with<init_result>,
                     caf::replies_to<job_query>::with<job_answer>,
                     caf::replies_to<count_atom>::with<store::queue_store::status_counts>,
                     caf::reacts_to<db_status>>;

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
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::actors::config_update)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::net::reload_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::actors::run_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::api::job_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::api::job_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::actors::store_op)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::actors::store_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::actors::store_recovery)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::jobs::scan_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vpo::store::queue_store::status_counts)
