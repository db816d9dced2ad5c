// job_queue.cpp: enqueue, claim, progress, finish, requeue, recover; dispatch to workers.
#include "actors/job_queue.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <map>
#include <memory>
#include <optional>

#include "actors/job_worker.hpp"
#include "actors/messages.hpp"
#include "actors/unexpected.hpp"
#include "db/library.hpp"
#include "jobs/job_store.hpp"
#include "logging/log.hpp"

namespace vpo::actors {
namespace {

struct slot {
  caf::actor worker;
  std::optional<jobs::job> current;
};

struct queue_state {
  job_queue_options options;
  db::connection conn;
  std::unique_ptr<jobs::job_store> store;  // after conn: its statements finalize first
  std::vector<slot> slots;
  std::vector<caf::actor> subscribers;
  bool draining = false;
  bool forcing = false;
  caf::response_promise drain_promise;
  bool drain_pending = false;
  std::int32_t completed_in_drain = 0;
  std::map<std::string, std::int64_t> finished;  // "type outcome" -> count, this process
  bool database_connected = true;
  logging::logger log{"vpo.jobs"};
  static inline const char* name = "vpo.job_queue";
};

using queue = caf::stateful_actor<queue_state>;

std::size_t running(queue* self) {
  std::size_t n = 0;
  for (auto& s : self->state.slots) n += s.current ? 1 : 0;
  return n;
}

void publish_counts(queue* self) {
  auto& st = self->state;
  jobs::job_store::status_counts n;
  if (auto s = st.store->counts(n); !s.ok()) {
    st.log.error("cannot count jobs: " + s.error);
    return;
  }
  job_counts c{n.queued,   n.running,   n.completed,
               n.failed,   n.cancelled, static_cast<std::int32_t>(st.slots.size()),
               st.finished};
  for (auto& sub : st.subscribers) self->send(sub, c);
}

void dispatch(queue* self) {
  auto& st = self->state;
  if (st.draining) return;
  for (auto& sl : st.slots) {
    if (sl.current) continue;
    std::optional<jobs::job> next;
    if (auto s = st.store->claim_next(::getpid(), next); !s.ok()) {
      st.log.error("cannot claim a job: " + s.error);
      break;
    }
    if (!next) break;
    st.log.info("job started", {{"job_id", next->id},
                                {"job_type", next->type},
                                {"file_path", next->path},
                                {"attempt", next->attempts}});
    sl.current = next;
    self->send(sl.worker, run_job{*next});
  }
  publish_counts(self);
}

void check_drained(queue* self) {
  auto& st = self->state;
  if (!st.drain_pending || running(self) > 0) return;
  st.drain_pending = false;
  st.drain_promise.deliver(drained_atom::value,
                           participant_report{"jobs", st.completed_in_drain, 0});
}

init_result on_init(queue* self) {
  auto& st = self->state;
  db::file_identity id;
  db::status s =
      db::open_library(st.options.database_path, db::open_mode::existing_only, 5000, st.conn, id);
  if (!s.ok()) return {false, "job queue: " + s.error + ". " + db::fix_hint(s)};
  st.store = std::make_unique<jobs::job_store>(st.conn);
  jobs::job_store::recovery rec;
  if (s = st.store->recover(st.options.max_attempts, rec); !s.ok())
    return {false, "job queue: cannot recover interrupted jobs: " + s.error};
  for (auto& j : rec.requeued)
    st.log.warn(
        "job left running by a stopped process put back to queued",
        {{"job_id", j.id}, {"job_type", j.type}, {"file_path", j.path}, {"attempts", j.attempts}});
  for (auto& j : rec.failed) ++st.finished[j.type + " " + jobs::status_name::failed];
  for (auto& j : rec.failed)
    st.log.error(
        "job failed: " + *j.error,
        {{"job_id", j.id}, {"job_type", j.type}, {"file_path", j.path}, {"attempts", j.attempts}});
  job_worker_options wo;
  wo.database_path = st.options.database_path;
  apply_test_throttle(wo);
  for (int i = 0; i < st.options.workers; ++i) {
    auto w = spawn_job_worker(self->system(), caf::actor_cast<caf::actor>(self), wo);
    self->link_to(w);  // workers end with the queue
    st.slots.push_back({w, std::nullopt});
  }
  dispatch(self);
  return {true, {}};
}

db::status on_create(queue* self, const job_query& q, job_answer& a) {
  auto& st = self->state;
  struct stat dir {};
  if (::stat(q.spec.path.c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode)) {
    a.result = job_answer::outcome::invalid;
    a.message = "field 'path' must name an existing directory";
    return {};
  }
  jobs::job j;
  j.id = jobs::new_uuid();
  j.type = q.spec.type;
  j.priority = q.spec.priority;
  j.path = q.spec.path;
  j.created_at = jobs::now_rfc3339();
  if (auto s = st.store->insert(j); !s.ok()) return s;
  st.log.info(
      "job queued",
      {{"job_id", j.id}, {"job_type", j.type}, {"file_path", j.path}, {"priority", j.priority}});
  a.result = job_answer::outcome::created;
  dispatch(self);
  // The row may have moved to running already: answer with what is stored now.
  std::optional<jobs::job> now;
  auto s = st.store->get(j.id, now);
  a.jobs.push_back(now ? *now : j);
  return s;
}

db::status on_cancel(queue* self, const std::string& id, job_answer& a) {
  auto& st = self->state;
  std::optional<jobs::job> j;
  if (auto s = st.store->get(id, j); !s.ok()) return s;
  if (!j) {
    a.result = job_answer::outcome::not_found;
    return {};
  }
  if (jobs::is_finished(j->status)) {
    a.result = job_answer::outcome::conflict;
    a.message = "job " + j->id + " is already " + j->status;
    return {};
  }
  if (j->status == jobs::status_name::queued) {
    bool changed = false;
    if (auto s = st.store->cancel_queued(id, changed); !s.ok()) return s;
    st.log.info("job cancelled", {{"job_id", id}, {"job_type", j->type}});
    ++st.finished[j->type + " " + jobs::status_name::cancelled];
    publish_counts(self);
    auto s = st.store->get(id, j);
    if (j) a.jobs.push_back(*j);
    return s;
  }
  // Running: the worker stops at its next step and reports the job cancelled.
  for (auto& sl : st.slots)
    if (sl.current && sl.current->id == id) self->send(sl.worker, cancel_atom::value, id);
  st.log.info("job cancellation requested", {{"job_id", id}, {"job_type", j->type}});
  a.result = job_answer::outcome::accepted;
  a.jobs.push_back(*j);
  return {};
}

job_answer on_query(queue* self, const job_query& q) {
  auto& st = self->state;
  job_answer a;
  db::status s;
  switch (q.what) {
    case job_query::op::create:
      s = on_create(self, q, a);
      break;
    case job_query::op::list:
      s = st.store->list(q.status, q.limit, a.jobs, a.total);
      break;
    case job_query::op::get: {
      std::optional<jobs::job> j;
      s = st.store->get(q.id, j);
      if (j)
        a.jobs.push_back(*j);
      else
        a.result = job_answer::outcome::not_found;
      break;
    }
    case job_query::op::cancel:
      s = on_cancel(self, q.id, a);
      break;
  }
  if (!s.ok()) {
    st.log.error("job store error: " + s.error);
    a = {};
    a.result = job_answer::outcome::failed;
    a.message = "the job store failed: " + s.error;
  }
  return a;
}

void on_done(queue* self, const job_done& d) {
  auto& st = self->state;
  for (auto& sl : st.slots)
    if (sl.current && sl.current->id == d.id) {
      bool changed = false;
      auto opt = [](const std::string& v) {
        return v.empty() ? std::nullopt : std::optional<std::string>(v);
      };
      if (auto s = st.store->finish(d.id, d.status, opt(d.error), opt(d.summary_json), changed);
          !s.ok())
        st.log.error("cannot record the end of job " + d.id + ": " + s.error);
      logging::fields ctx = {{"job_id", d.id},
                             {"job_type", sl.current->type},
                             {"file_path", sl.current->path},
                             {"status", d.status}};
      if (changed) ++st.finished[sl.current->type + " " + d.status];
      if (d.status == jobs::status_name::failed)
        st.log.error("job failed: " + d.error, ctx);
      else
        st.log.info("job " + d.status, ctx);
      sl.current.reset();
      if (st.draining && d.status == jobs::status_name::completed) ++st.completed_in_drain;
    }
  if (st.draining) {
    publish_counts(self);
    return check_drained(self);
  }
  dispatch(self);
}

caf::response_promise on_force(queue* self) {
  auto& st = self->state;
  st.draining = st.forcing = true;
  auto rp = std::make_shared<caf::response_promise>(self->make_response_promise());
  auto pending = std::make_shared<std::size_t>(running(self));
  auto requeued = std::make_shared<std::int32_t>(0);
  if (*pending == 0) {
    rp->deliver(forced_atom::value, participant_report{"jobs", st.completed_in_drain, 0});
    return *rp;
  }
  for (auto& sl : st.slots) {
    if (!sl.current) continue;
    auto j = *sl.current;
    auto put_back = [=]() {
      auto& s2 = self->state;
      bool changed = false;
      if (auto s = s2.store->requeue(j.id, changed); !s.ok()) {
        s2.log.error("cannot put job " + j.id + " back to queued: " + s.error);
      } else if (changed) {  // not changed: it finished just before the force arrived
        ++*requeued;
        s2.log.warn("job stopped by the forced shutdown and put back to queued",
                    {{"job_id", j.id},
                     {"job_type", j.type},
                     {"file_path", j.path},
                     {"attempts", j.attempts}});
      }
      for (auto& other : s2.slots)
        if (other.current && other.current->id == j.id) other.current.reset();
      if (--*pending == 0) {
        publish_counts(self);
        rp->deliver(forced_atom::value,
                    participant_report{"jobs", s2.completed_in_drain, *requeued});
      }
    };
    self->request(sl.worker, std::chrono::milliseconds(900), force_atom::value)
        .then([=](forced_atom, const std::string&) { put_back(); },
              [=](caf::error&) { put_back(); });
  }
  return *rp;
}

// db_health's verdict. When the file comes back (restored or replaced by a valid copy), this
// connection may still point at the old, unlinked file: reopen it so jobs land in the real one.
void on_db_status(queue* self, const db_status& s) {
  auto& st = self->state;
  bool came_back = s.connected && !st.database_connected;
  st.database_connected = s.connected;
  if (!came_back) return;
  db::connection fresh;
  db::file_identity id;
  if (auto r =
          db::open_library(st.options.database_path, db::open_mode::existing_only, 5000, fresh, id);
      !r.ok()) {
    st.log.error("job queue: cannot reopen the database: " + r.error);
    return;
  }
  st.store.reset();  // finalize statements before their connection closes
  st.conn = std::move(fresh);
  st.store = std::make_unique<jobs::job_store>(st.conn);
  st.log.info("job queue reopened the database", {{"file_path", st.options.database_path}});
  dispatch(self);
}

caf::behavior queue_impl(queue* self, job_queue_options options) {
  log_unexpected_messages(self, "job_queue");
  self->state.options = std::move(options);
  return {
      [=](init_atom) { return on_init(self); },
      [=](subscribe_atom, const caf::actor& sub) {
        self->state.subscribers.push_back(sub);
        publish_counts(self);
        return caf::ok_atom::value;
      },
      [=](const job_query& q) { return on_query(self, q); },
      [=](const db_status& s) { on_db_status(self, s); },
      [=](const job_progress& p) {
        if (auto s = self->state.store->set_progress(p.id, p.percent); !s.ok())
          self->state.log.warn("cannot record progress: " + s.error, {{"job_id", p.id}});
      },
      [=](const job_done& d) { on_done(self, d); },
      [=](drain_atom, std::int64_t) -> caf::response_promise {
        auto& st = self->state;
        st.draining = true;
        auto rp = self->make_response_promise();
        st.drain_promise = rp;
        st.drain_pending = true;
        auto n = running(self);
        if (n > 0)
          st.log.info("draining: waiting for " + std::to_string(n) + " running job(s)",
                      {{"jobs_in_flight", static_cast<long long>(n)}});
        check_drained(self);
        return rp;
      },
      [=](force_atom) { return on_force(self); },
  };
}

}  // namespace

caf::actor spawn_job_queue(caf::actor_system& sys, job_queue_options options) {
  return sys.spawn<caf::detached>(queue_impl, std::move(options));
}

}  // namespace vpo::actors
