// job_worker.cpp: the scan job driven as a sequence of `step` messages, batches to the store.
#include "actors/job_worker.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <memory>
#include <optional>

#include "actors/messages.hpp"
#include "actors/guard.hpp"
#include "db/library.hpp"
#include "jobs/scan.hpp"
#include "logging/log.hpp"

namespace vpo::actors {
namespace {

using clock = std::chrono::steady_clock;

struct worker_state {
  job_worker_options options;
  caf::actor queue;
  store_actor store;
  db::connection conn;                    // this worker's read connection
  std::unique_ptr<jobs::scan_walk> scan;  // declared after conn: finalized before it closes
  std::optional<jobs::job> current;
  std::uint64_t generation = 0;  // of the current job: steps and acks of older jobs are dropped
  int in_flight = 0;
  bool walk_done = false;
  bool waiting = false;  // the next step waits for an acknowledgement
  clock::time_point last_batch;
  logging::logger log{"vpo.jobs"};
  static inline const char* name = "vpo.job_worker";
};

using worker = caf::stateful_actor<worker_state>;

std::string summary_of(worker_state& st) {
  return st.scan ? st.scan->summary().to_json() : std::string();
}

// Drops the current job: steps and acknowledgements still on their way are ignored (batches
// already sent may still land: they only record files).
void drop_job(worker_state& st) {
  st.scan.reset();
  st.current.reset();
  st.conn.close();
  ++st.generation;
}

void end_job(worker* self, const std::string& status, const std::string& error) {
  auto& st = self->state;
  if (!st.current) return;
  job_done done{st.current->id, status, error, summary_of(st)};
  drop_job(st);
  self->send(st.queue, std::move(done));
}

void next_step(worker* self) {
  self->send(self, step_atom::value, self->state.generation);
}

void send_batch(worker* self, jobs::scan_batch&& b) {
  auto& st = self->state;
  ++st.in_flight;
  st.last_batch = clock::now();
  auto gen = st.generation;
  self->request(st.store, std::chrono::seconds(30), std::move(b))
      .then(
          [=](const batch_ack& a) {
            auto& s = self->state;
            if (gen != s.generation) return;  // the job ended meanwhile
            --s.in_flight;
            // Not the job's fault: back to queued; it runs again once the database can be
            // written (the queue claims nothing while db_health says it cannot).
            if (!a.ok && a.unwritable) {
              s.log.warn(
                  "scan stopped: the database cannot be written (" + a.error +
                      "); the job goes back to queued",
                  {{"job_id", s.current ? s.current->id : std::string()}, {"job_type", "scan"}});
              return end_job(self, jobs::status_name::queued, a.error);
            }
            if (!a.ok) return end_job(self, jobs::status_name::failed, a.error);
            s.scan->add_missing(a.missing_marked);
            if (s.waiting) {
              s.waiting = false;
              next_step(self);
            }
          },
          [=](caf::error& err) {
            if (gen != self->state.generation) return;
            end_job(self, jobs::status_name::failed,
                    "the store did not apply a batch: " + self->system().render(err));
          });
}

// A fresh read connection per job (cheap next to a walk): a database file that was replaced and
// restored since the last job is the one this job reads.
void on_run(worker* self, run_job& msg) {
  auto& st = self->state;
  st.current = std::move(msg.job);
  ++st.generation;
  st.in_flight = 0;
  st.walk_done = st.waiting = false;
  st.last_batch = clock::now();
  db::file_identity id;
  db::status s =
      db::open_library(st.options.database_path, db::open_mode::existing_only, 5000, st.conn, id);
  if (s.ok()) {
    st.scan = std::make_unique<jobs::scan_walk>(st.conn, st.current->path, st.current->id, st.log);
    s = st.scan->start();
  }
  if (!s.ok()) return end_job(self, jobs::status_name::failed, s.message);
  next_step(self);
}

void on_step(worker* self, std::uint64_t gen) {
  auto& st = self->state;
  if (gen != st.generation || !st.current || !st.scan) return;
  if (st.walk_done) {
    if (st.in_flight == 0) return end_job(self, jobs::status_name::completed, "");
    st.waiting = true;
    return;
  }
  if (st.in_flight >= st.options.batches_in_flight) {
    st.waiting = true;
    return;
  }
  jobs::scan_batch b;
  bool done = false;
  db::status s = st.scan->step(st.options.step_budget, st.options.step_entries,
                               st.options.batch_changes, b, done);
  if (!s.ok()) return end_job(self, jobs::status_name::failed, s.message);
  st.walk_done = done;
  if (!b.empty() || done || clock::now() - st.last_batch >= st.options.progress_every) {
    b.summary_json = st.scan->summary().to_json();  // what an interrupted scan keeps
    send_batch(self, std::move(b));
  }
  next_step(self);
}

caf::behavior worker_impl(worker* self, caf::actor queue, store_actor store,
                          job_worker_options options) {
  install_guards(self, "job_worker");
  // A detached actor owns its thread: the walk (and its folder listers, which inherit this) yields
  // the CPU to the io thread, the control actors and the store when the cores are busy.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), options.nice);
  self->state.queue = std::move(queue);
  self->state.store = std::move(store);
  self->state.options = std::move(options);
  return {
      [=](run_job& msg) { on_run(self, msg); },
      [=](step_atom, std::uint64_t gen) { on_step(self, gen); },
      [=](cancel_atom, const std::string& id) {
        auto& st = self->state;
        if (st.current && st.current->id == id)
          end_job(self, jobs::status_name::cancelled, "cancelled");
      },
      [=](force_atom) -> job_stopped {
        auto& st = self->state;
        job_stopped r{st.current ? st.current->id : "", summary_of(st)};
        drop_job(st);
        return r;
      },
  };
}

}  // namespace

caf::actor spawn_job_worker(caf::actor_system& sys, const caf::actor& queue,
                            const store_actor& store, job_worker_options options) {
  return sys.spawn<caf::detached>(worker_impl, queue, store, std::move(options));
}

}  // namespace vpo::actors
