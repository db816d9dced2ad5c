// job_queue_state.hpp: job_queue's state and the helpers its two source files share. Internal:
// only actors/job_queue.cpp (dispatch, claims, ends, drain, force) and actors/job_queue_api.cpp
// (the API's requests) include it.
#pragma once

#include <caf/all.hpp>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "actors/job_queue.hpp"
#include "actors/messages.hpp"
#include "logging/log.hpp"

namespace vpo::actors::job_queue_detail {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
constexpr auto high = caf::message_priority::high;
using retry_atom = caf::atom_constant<caf::atom("retry")>;           // timer: claim or finish again
using call_timeout_atom = caf::atom_constant<caf::atom("calltmo")>;  // + call id: no reply in time

struct slot {
  caf::actor worker;
  std::optional<jobs::job> current;
  std::optional<job_done> done;  // reported by the worker, not yet recorded by the store
  bool retiring = false;         // jobs.workers was lowered: the slot goes once its job has ended
};

// A store call waiting for its reply (or its timeout).
struct pending_call {
  std::function<void(const store_reply&)> done;
  std::function<void(const std::string&)> failed;
};

struct queue_state {
  job_queue_options options;
  store_actor store;
  reader_actor reader;  // the first reader: counts, and API reads with the others below
  // More readers, each a thread with its own connection, spawned when API reads overlap (an idle
  // daemon keeps one): `extra_readers` share ordinary reads with `reader` (the least busy takes
  // the next), `deep_reader` alone takes reads that skip many rows (a deep `offset`), so those
  // wait for each other and never for ordinary reads.
  std::vector<reader_actor> extra_readers;
  std::vector<int> reads_in_progress;  // per reader: [0] is `reader`, then extra_readers
  reader_actor deep_reader;
  std::vector<slot> slots;
  std::vector<caf::actor> subscribers;
  bool draining = false;
  bool forcing = false;
  bool claiming = false;
  bool retry_armed = false;
  bool store_failing = false;  // log a failing store once per streak
  bool counting = false, counts_dirty = false;
  bool database_connected = true;
  caf::response_promise drain_promise;
  bool drain_pending = false;
  int unclaims = 0;                                    // claims being given back
  std::optional<caf::response_promise> force_waiting;  // the force waits for claims to settle
  std::int32_t completed_in_drain = 0;
  std::map<std::string, std::int64_t> finished;  // "type outcome" -> count, this process
  std::map<std::uint64_t, pending_call> calls;   // store calls in flight, by id
  std::uint64_t last_call = 0;
  // Path checks past their deadline and still alive: each is a thread stuck in stat() while its
  // file system hangs. Checks that answer in time are not counted (they end at once).
  std::set<caf::actor_addr> stuck_path_checks;
  int retention_days = 30;             // jobs.retention_days (0: keep everything)
  bool auto_purge = true;              // jobs.auto_purge
  std::uint64_t purge_generation = 0;  // only the newest purge timer counts
  bool purging = false;                // a purge step is with the store
  long long purged = 0;                // deleted by the current purge run
  logging::logger log{"vpo.jobs"};
  static inline const char* name = "vpo.job_queue";
};

using queue = caf::stateful_actor<queue_state>;

// A job transition for the store, sent with high priority so that it overtakes the scan batches
// waiting in the store's mailbox. The store's answer comes back as a message with the call's id,
// and a timer message stands for the timeout. (CAF 0.17.6's request<high> keeps the priority only
// with a caf::duration timeout; the std::chrono overload drops it: tests/unit/actors/
// priority_test.cpp.)
struct call_store {
  call_store(queue* s, std::chrono::milliseconds t, store_op o)
      : self(s), timeout(t), op(std::move(o)) {}
  queue* self;
  std::chrono::milliseconds timeout;
  store_op op;
  template <class Done, class Failed>
  void then(Done done, Failed failed) {
    auto& st = self->state;
    op.call_id = ++st.last_call;
    st.calls.emplace(op.call_id, pending_call{std::move(done), std::move(failed)});
    self->delayed_send(self, timeout, call_timeout_atom::value, op.call_id);
    self->send<high>(st.store, std::move(op));
  }
};

/// One record about a job, with its context fields (and the status it ended with, if any).
void log_job(const logging::logger& log, config::log_level level, const std::string& message,
             const jobs::job& j, const std::string& status = "");
/// The slot running job `id`, or null.
slot* slot_of(queue* self, const std::string& id);
/// Slots with a job.
std::size_t busy(queue* self);
/// Slots that take new jobs (the configured `jobs.workers`).
std::size_t active(queue* self);
/// Asks the reader for the counts and pushes them to the subscribers (coalesced).
void publish_counts(queue* self);
/// Claims the next job for a free slot unless draining, disconnected or already claiming.
void dispatch(queue* self);
/// The API's requests: create (path check, insert), cancel, list/get (delegated to the reader).
caf::response_promise on_query(queue* self, const job_query& q);

}  // namespace vpo::actors::job_queue_detail
