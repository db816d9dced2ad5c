// job_worker.cpp: the scan job driven as a sequence of `step` messages.
#include "actors/job_worker.hpp"

#include <caf/all.hpp>
#include <cstdlib>
#include <memory>
#include <optional>

#include "actors/messages.hpp"
#include "actors/unexpected.hpp"
#include "db/library.hpp"
#include "jobs/scan.hpp"
#include "logging/log.hpp"

namespace vpo::actors {
namespace {

struct worker_state {
  job_worker_options options;
  caf::actor queue;
  db::connection conn;                    // this worker's own connection (files table)
  std::unique_ptr<jobs::scan_walk> scan;  // declared after conn: finalized before it closes
  std::optional<jobs::job> current;
  bool cancel_requested = false;
  logging::logger log{"vpo.jobs"};
  static inline const char* name = "vpo.job_worker";
};

using worker = caf::stateful_actor<worker_state>;

void end_job(worker* self, const std::string& status, const std::string& error) {
  auto& st = self->state;
  job_done done{st.current->id, status, error, {}};
  if (st.scan && status == jobs::status_name::completed)
    done.summary_json = st.scan->summary().to_json();
  st.scan.reset();
  st.current.reset();
  st.cancel_requested = false;
  self->send(st.queue, std::move(done));
}

// A fresh connection per job (cheap next to a walk): a database file that was replaced and
// restored since the last job is the one this job writes to.
db::status open_files_db(worker* self) {
  auto& st = self->state;
  st.conn.close();
  db::file_identity id;
  return db::open_library(st.options.database_path, db::open_mode::existing_only, 5000, st.conn,
                          id);
}

void on_run(worker* self, run_job& msg) {
  auto& st = self->state;
  st.current = std::move(msg.job);
  st.cancel_requested = false;
  db::status s = open_files_db(self);
  if (s.ok()) {
    st.scan = std::make_unique<jobs::scan_walk>(st.conn, st.current->path, st.current->id, st.log);
    s = st.scan->start();
  }
  if (!s.ok()) return end_job(self, jobs::status_name::failed, s.error);
  self->send(self, step_atom::value);
}

void on_step(worker* self) {
  auto& st = self->state;
  if (!st.current || !st.scan) return;  // a step left over from a job that was stopped
  if (st.cancel_requested) return end_job(self, jobs::status_name::cancelled, "cancelled");
  bool done = false;
  db::status s = st.scan->step(st.options.step_budget, st.options.step_entries, done);
  if (!s.ok()) return end_job(self, jobs::status_name::failed, s.error);
  if (done) return end_job(self, jobs::status_name::completed, "");
  self->send(st.queue, job_progress{st.current->id, st.scan->progress()});
  if (st.options.step_pause.count() > 0)
    self->delayed_send(self, st.options.step_pause, step_atom::value);
  else
    self->send(self, step_atom::value);
}

caf::behavior worker_impl(worker* self, caf::actor queue, job_worker_options options) {
  log_unexpected_messages(self, "job_worker");
  self->state.queue = std::move(queue);
  self->state.options = std::move(options);
  return {
      [=](run_job& msg) { on_run(self, msg); },
      [=](step_atom) { on_step(self); },
      [=](cancel_atom, const std::string& id) {
        if (self->state.current && self->state.current->id == id)
          self->state.cancel_requested = true;
      },
      [=](force_atom) -> caf::result<forced_atom, std::string> {
        auto& st = self->state;
        std::string id = st.current ? st.current->id : "";
        st.scan.reset();  // the last step's batch is committed; nothing is half-written
        st.current.reset();
        return {forced_atom::value, id};
      },
  };
}

}  // namespace

void apply_test_throttle(job_worker_options& o) {
  const char* v = std::getenv("VPO_TEST_SCAN_THROTTLE");
  if (!v) return;
  char* end = nullptr;
  long entries = std::strtol(v, &end, 10);
  if (!end || *end != ':' || entries <= 0) return;
  long pause = std::strtol(end + 1, nullptr, 10);
  o.step_entries = static_cast<std::size_t>(entries);
  o.step_pause = std::chrono::milliseconds(pause);
}

caf::actor spawn_job_worker(caf::actor_system& sys, const caf::actor& queue,
                            job_worker_options options) {
  return sys.spawn<caf::detached>(worker_impl, queue, std::move(options));
}

}  // namespace vpo::actors
