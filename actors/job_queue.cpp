// job_queue.cpp: dispatch to workers, claims, the jobs' ends, drain and force. No I/O here.
#include "actors/job_queue.hpp"

#include "actors/guard.hpp"
#include "actors/job_queue_state.hpp"
#include "actors/job_worker.hpp"
#include "actors/store.hpp"
#include "logging/formatter.hpp"

namespace vpo::actors {
namespace job_queue_detail {

void on_store_reply(queue* self, const store_reply& r) {
  auto it = self->state.calls.find(r.call_id);
  if (it == self->state.calls.end()) return;  // timed out already
  auto call = std::move(it->second);
  self->state.calls.erase(it);
  call.done(r);
}

void on_call_timeout(queue* self, std::uint64_t id) {
  auto it = self->state.calls.find(id);
  if (it == self->state.calls.end()) return;  // answered
  auto call = std::move(it->second);
  self->state.calls.erase(it);
  call.failed("the job store did not answer in time");
}

// One record about a job, with its context fields (and the status it ended with, if any).
void log_job(const logging::logger& log, config::log_level level, const std::string& message,
             const jobs::job& j, const std::string& status) {
  if (status.empty())
    log.log(
        level, message,
        {{"job_id", j.id}, {"job_type", j.type}, {"file_path", j.path}, {"attempts", j.attempts}});
  else
    log.log(level, message,
            {{"job_id", j.id},
             {"job_type", j.type},
             {"file_path", j.path},
             {"attempts", j.attempts},
             {"status", status}});
}

slot* slot_of(queue* self, const std::string& id) {
  for (auto& s : self->state.slots)
    if (s.current && s.current->id == id) return &s;
  return nullptr;
}

std::size_t busy(queue* self) {
  std::size_t n = 0;
  for (auto& s : self->state.slots) n += s.current ? 1 : 0;
  return n;
}

std::size_t active(queue* self) {
  std::size_t n = 0;
  for (auto& s : self->state.slots) n += s.retiring ? 0 : 1;
  return n;
}

// A slot that takes new jobs and has none.
bool has_free_slot(queue* self) {
  for (auto& s : self->state.slots)
    if (!s.current && !s.retiring) return true;
  return false;
}

void add_slot(queue* self) {
  auto& s = self->state;
  job_worker_options wo;
  wo.database_path = s.options.database_path;
  auto w = spawn_job_worker(self->system(), caf::actor_cast<caf::actor>(self), s.store, wo);
  self->link_to(w);
  s.slots.push_back({w, std::nullopt, std::nullopt, false});
}

// Stops the idle retiring workers (a busy one goes when its job has ended and been recorded).
void drop_retired(queue* self) {
  auto& slots = self->state.slots;
  for (auto it = slots.begin(); it != slots.end();) {
    if (it->retiring && !it->current) {
      self->unlink_from(it->worker);  // its exit must not take the queue with it
      self->send_exit(it->worker, caf::exit_reason::user_shutdown);
      it = slots.erase(it);
    } else {
      ++it;
    }
  }
}

// A reload changed jobs.workers: more slots at once; fewer as soon as their jobs end (a running
// job is never stopped for it).
void resize(queue* self, std::int32_t wanted) {
  auto& st = self->state;
  if (wanted < 1 || st.forcing) return;
  auto want = static_cast<std::size_t>(wanted);
  std::size_t before = active(self);
  for (auto& sl : st.slots)  // taking back a retiring slot keeps its running job
    if (sl.retiring && active(self) < want) sl.retiring = false;
  while (active(self) < want) add_slot(self);
  for (auto it = st.slots.rbegin(); it != st.slots.rend() && active(self) > want; ++it)
    if (!it->retiring && !it->current) it->retiring = true;  // idle ones first
  for (auto it = st.slots.rbegin(); it != st.slots.rend() && active(self) > want; ++it)
    if (!it->retiring) it->retiring = true;
  drop_retired(self);
  st.log.info("jobs.workers " + std::to_string(before) + " -> " + std::to_string(want) +
                  (busy(self) > want ? " (running jobs finish first)" : ""),
              {{"workers", static_cast<long long>(want)}});
  publish_counts(self);
  dispatch(self);
}

// Counts come from the reader after each change; one request at a time, coalesced.
job_counts counts_of(queue* self, const store::queue_store::status_counts& n) {
  auto& s = self->state;
  return {n.queued,   n.running,       n.completed,
          n.failed,   n.cancelled,     static_cast<std::int32_t>(active(self)),
          s.finished, n.library_files, n.library_missing};
}

void publish_counts(queue* self) {
  auto& st = self->state;
  if (st.counting) {
    st.counts_dirty = true;
    return;
  }
  st.counting = true;
  self->request(st.reader, 5s, count_atom::value)
      .then(
          [=](const store::queue_store::status_counts& n) {
            auto& s = self->state;
            job_counts c = counts_of(self, n);
            for (auto& sub : s.subscribers) self->send(sub, c);
            s.counting = false;
            if (std::exchange(s.counts_dirty, false)) publish_counts(self);
          },
          [=](caf::error&) {
            self->state.counting = false;
            self->state.counts_dirty = false;
          });
}

void store_failed(queue* self, const std::string& what, const std::string& error) {
  auto& st = self->state;
  if (!std::exchange(st.store_failing, true)) st.log.error(what + ": " + error + "; retrying");
  if (!std::exchange(st.retry_armed, true)) self->delayed_send(self, 500ms, retry_atom::value);
}

void store_ok(queue* self) {
  if (std::exchange(self->state.store_failing, false))
    self->state.log.info("the job store works again");
}

// No claim in flight and none being given back: the database holds no job of ours in between.
bool settled(queue* self) {
  return !self->state.claiming && self->state.unclaims == 0;
}

void run_force(queue* self, caf::response_promise rp);

// Called whenever a claim settles: a waiting drain or force may go on.
void check_settled(queue* self) {
  auto& st = self->state;
  if (st.force_waiting && settled(self)) {
    auto rp = *st.force_waiting;
    st.force_waiting.reset();
    run_force(self, rp);
  }
}

void check_drained(queue* self) {
  auto& st = self->state;
  if (!st.drain_pending || busy(self) > 0 || !settled(self)) return;
  st.drain_pending = false;
  st.drain_promise.deliver(drained_atom::value,
                           participant_report{"jobs", st.completed_in_drain, 0});
}

void dispatch(queue* self);

void start_job(queue* self, const jobs::job& j) {
  auto& st = self->state;
  for (auto& sl : st.slots)
    if (!sl.current && !sl.retiring) {
      log_job(st.log, config::log_level::info, "job started", j);
      sl.current = j;
      self->send(sl.worker, run_job{j});
      break;
    }
  publish_counts(self);
}

// Claimed just as the drain began: give it back, never started.
void give_back(queue* self, const jobs::job& j) {
  auto& st = self->state;
  ++st.unclaims;
  store_op op;
  op.what = store_op::kind::unclaim;
  op.id = j.id;
  auto settle = [=] {
    --self->state.unclaims;
    check_settled(self);
    check_drained(self);
  };
  call_store(self, 700ms, std::move(op))
      .then([=](const store_reply&) { settle(); },
            [=](const std::string&) {
              self->state.log.error("cannot give back job " + j.id + "; the next start will");
              settle();
            });
}

void on_claimed(queue* self, const store_reply& r) {
  auto& st = self->state;
  st.claiming = false;
  if (!r.ok || r.expired) {
    store_failed(self, "cannot claim a job", r.expired ? "the store was too slow" : r.error);
  } else {
    store_ok(self);
    if (r.job && st.draining) {
      give_back(self, *r.job);
    } else if (r.job) {
      start_job(self, *r.job);
      dispatch(self);
    }
  }
  check_settled(self);
  check_drained(self);
}

void dispatch(queue* self) {
  auto& st = self->state;
  if (st.draining || st.claiming || !st.database_connected || !has_free_slot(self)) return;
  st.claiming = true;
  store_op op;
  op.what = store_op::kind::claim;
  op.not_after = clock::now() + 4s;  // a claim answered too late never happens
  call_store(self, 5s, std::move(op))
      .then([=](const store_reply& r) { on_claimed(self, r); },
            [=](const std::string& err) {
              self->state.claiming = false;
              store_failed(self, "cannot claim a job", err);
              check_settled(self);
              check_drained(self);
            });
}

// Records a job's end (retried until the store takes it); the slot is free only then.
void record_done(queue* self, const std::string& id) {
  auto* sl = slot_of(self, id);
  if (!sl || !sl->done) return;
  store_op op;
  // A job stopped by an unwritable database goes back to queued with its attempt given back
  // (retried every 500 ms, like a finish, until the database takes it).
  bool back = sl->done->status == jobs::status_name::queued;
  op.what = back ? store_op::kind::unclaim : store_op::kind::finish;
  op.id = id;
  op.status = sl->done->status;
  op.error = sl->done->status == jobs::status_name::cancelled ? "" : sl->done->error;
  op.summary_json = sl->done->summary_json;
  call_store(self, 5s, std::move(op))
      .then(
          [=](const store_reply& r) {
            auto& s = self->state;
            auto* slot = slot_of(self, id);
            if (!slot || !slot->done) return;
            if (!r.ok) return store_failed(self, "cannot record the end of job " + id, r.error);
            store_ok(self);
            const auto& d = *slot->done;
            if (r.changed && !back) ++s.finished[slot->current->type + " " + d.status];
            if (back)
              log_job(s.log, config::log_level::warning,
                      "job put back to queued: the database cannot be written (" + d.error +
                          "); it runs again once it can",
                      *slot->current, d.status);
            else if (d.status == jobs::status_name::failed)
              log_job(s.log, config::log_level::error, "job failed: " + d.error, *slot->current,
                      d.status);
            else
              log_job(s.log, config::log_level::info, "job " + d.status, *slot->current, d.status);
            if (s.draining && d.status == jobs::status_name::completed) ++s.completed_in_drain;
            slot->current.reset();
            slot->done.reset();
            drop_retired(self);
            publish_counts(self);
            check_drained(self);
            dispatch(self);
          },
          [=](const std::string& err) {
            store_failed(self, "cannot record the end of job " + id, err);
          });
}

void on_retry(queue* self) {
  auto& st = self->state;
  st.retry_armed = false;
  for (auto& sl : st.slots)
    if (sl.current && sl.done) record_done(self, sl.current->id);
  dispatch(self);
}

void on_done(queue* self, const job_done& d) {
  auto* sl = slot_of(self, d.id);
  if (!sl || sl->done || self->state.forcing) return;
  sl->done = d;
  record_done(self, d.id);
}

caf::response_promise on_force(queue* self) {
  auto& st = self->state;
  st.draining = st.forcing = true;
  auto rp = self->make_response_promise();
  if (settled(self))
    run_force(self, rp);
  else
    st.force_waiting = rp;  // a claim is on its way: it is given back first
  return rp;
}

void run_force(queue* self, caf::response_promise rp) {
  auto& st = self->state;
  auto stopped = std::make_shared<std::vector<jobs::job>>();
  for (auto& sl : st.slots)
    if (sl.current) stopped->push_back(*sl.current);
  if (stopped->empty()) {
    rp.deliver(forced_atom::value, participant_report{"jobs", st.completed_in_drain, 0});
    return;
  }
  auto requeue = [=]() mutable {
    store_op op;
    op.what = store_op::kind::requeue;
    op.jobs = *stopped;
    call_store(self, 700ms, std::move(op))
        .then(
            [=](const store_reply& r) mutable {
              auto& s = self->state;
              if (!r.ok)
                s.log.error("cannot put stopped jobs back to queued: " + r.error +
                            "; the next start will");
              for (const auto& id : r.ids)
                for (auto& j : *stopped)
                  if (j.id == id)
                    log_job(s.log, config::log_level::warning,
                            "job stopped by the forced shutdown and put back to queued", j);
              for (auto& sl : s.slots) sl.current.reset(), sl.done.reset();
              publish_counts(self);
              rp.deliver(forced_atom::value,
                         participant_report{"jobs", s.completed_in_drain,
                                            static_cast<std::int32_t>(r.ids.size())});
            },
            [=](const std::string& err) mutable {
              self->state.log.error("the job store did not put the stopped jobs back to queued (" +
                                    err + "); the next start will");
              rp.deliver(forced_atom::value,
                         participant_report{"jobs", self->state.completed_in_drain, 0});
            });
  };
  auto pending = std::make_shared<std::size_t>(stopped->size());
  for (auto& sl : st.slots) {
    if (!sl.current) continue;
    auto id = sl.current->id;
    auto one_done = [=](const std::string& summary) mutable {
      for (auto& j : *stopped)
        if (j.id == id && !summary.empty()) j.summary_json = summary;
      if (--*pending == 0) requeue();
    };
    // caf::duration, not 100ms: CAF 0.17.6 drops the priority of a request with a std::chrono
    // timeout (tests/unit/actors/priority_test.cpp), and the force must overtake queued steps.
    self->request<high>(sl.worker, caf::duration{100ms}, force_atom::value)
        .then([=](const job_stopped& s) mutable { one_done(s.summary_json); },
              [=](caf::error&) mutable { one_done(""); });
  }
}

caf::response_promise on_drain(queue* self) {
  auto& st = self->state;
  st.draining = true;
  st.drain_promise = self->make_response_promise();
  st.drain_pending = true;
  if (auto n = busy(self); n > 0)
    st.log.info("draining: waiting for " + std::to_string(n) + " running job(s)",
                {{"jobs_in_flight", static_cast<long long>(n)}});
  auto rp = st.drain_promise;
  check_drained(self);
  return rp;
}

// Retention: deletes finished jobs older than jobs.retention_days, 500 per store call, so a
// purge of a big backlog never holds the write lock for long and API writes interleave.
constexpr int purge_step = 500;
constexpr auto purge_interval = std::chrono::hours(1);

void schedule_purge(queue* self, std::chrono::milliseconds after) {
  auto gen = ++self->state.purge_generation;
  if (after.count() == 0)
    self->send(self, purge_atom::value, gen);
  else
    self->delayed_send(self, after, purge_atom::value, gen);
}

void purge_done(queue* self) {
  auto& st = self->state;
  st.purging = false;
  if (st.purged > 0) {
    st.log.info("deleted " + std::to_string(st.purged) + " finished job(s) older than " +
                    std::to_string(st.retention_days) + " days (jobs.retention_days)",
                {{"deleted", st.purged}});
    publish_counts(self);
  }
  st.purged = 0;
  schedule_purge(self, purge_interval);
}

void on_purge(queue* self, std::uint64_t gen) {
  auto& st = self->state;
  if (gen != st.purge_generation || st.purging) return;  // an older timer, or one is running
  if (st.draining) return;
  if (!st.auto_purge || st.retention_days <= 0 || !st.database_connected)
    return schedule_purge(self, purge_interval);
  st.purging = true;
  store_op op;
  op.what = store_op::kind::purge;
  op.cutoff = logging::rfc3339_ms(std::chrono::system_clock::now() -
                                  std::chrono::hours(24) * st.retention_days);
  op.limit = purge_step;
  call_store(self, 10s, std::move(op))
      .then(
          [=](const store_reply& r) {
            auto& s = self->state;
            if (!r.ok) {
              s.log.warn("cannot delete old finished jobs: " + r.error + "; retrying in an hour");
              return purge_done(self);
            }
            s.purged += r.deleted;
            if (r.deleted < purge_step) return purge_done(self);
            s.purging = false;  // more to delete: the next step after what is waiting now
            self->send(self, purge_atom::value, s.purge_generation);
          },
          [=](const std::string& err) {
            self->state.log.warn("cannot delete old finished jobs: " + err +
                                 "; retrying in an hour");
            purge_done(self);
          });
}

void on_recovered(queue* self, const store_recovery& rec) {
  auto& st = self->state;
  for (auto& j : rec.requeued)
    log_job(st.log, config::log_level::warning,
            "job left running by a stopped process put back to queued", j);
  for (auto& j : rec.failed) {
    ++st.finished[j.type + " " + jobs::status_name::failed];
    log_job(st.log, config::log_level::error, "job failed: " + j.error.value_or(""), j);
  }
}

caf::response_promise on_init(queue* self) {
  auto& st = self->state;
  // The store (recovery) and the reader open their connections at the same time, each on its
  // own thread: start-up waits for the slower one, not for both in turn.
  struct pending {
    caf::response_promise rp;
    int waiting = 2;
    std::string store_error, reader_error;
  };
  auto p = std::make_shared<pending>();
  p->rp = self->make_response_promise();
  st.store = spawn_store(self->system(), st.options.database_path);
  st.reader = spawn_reader(self->system(), st.options.database_path);
  self->link_to(st.store);  // they end with the queue
  self->link_to(st.reader);
  auto one_done = [self, p] {
    if (--p->waiting > 0) return;
    if (!p->store_error.empty() || !p->reader_error.empty())
      return p->rp.deliver(
          init_result{false, !p->store_error.empty() ? p->store_error : p->reader_error});
    auto& s = self->state;
    for (int i = 0; i < s.options.workers; ++i) add_slot(self);
    dispatch(self);
    schedule_purge(self, 0ms);
    p->rp.deliver(init_result{true, {}});
  };
  self->request(st.store, 30s, init_atom::value, st.options.max_attempts)
      .then(
          [=](const store_recovery& rec) {
            if (!rec.ok)
              p->store_error = rec.error;
            else
              on_recovered(self, rec);
            one_done();
          },
          [=](caf::error& e) {
            p->store_error = "job store did not start: " + self->system().render(e);
            one_done();
          });
  self->request(st.reader, 30s, init_atom::value)
      .then(
          [=](const init_result& r) {
            if (!r.ok) p->reader_error = r.error;
            one_done();
          },
          [=](caf::error& e) {
            p->reader_error = "job reader did not start: " + self->system().render(e);
            one_done();
          });
  return p->rp;
}

caf::behavior queue_impl(queue* self, job_queue_options options) {
  install_guards(self, "job_queue");
  self->state.options = std::move(options);
  self->state.retention_days = self->state.options.retention_days;
  self->state.auto_purge = self->state.options.auto_purge;
  self->set_down_handler(
      [=](caf::down_msg& dm) { self->state.stuck_path_checks.erase(dm.source); });
  return {
      [=](init_atom) { return on_init(self); },
      [=](subscribe_atom, const caf::actor& sub) {
        // The answer waits for the first counts (sent to `sub` before it), so a daemon that says
        // ready shows its jobs in /health and /metrics; a reader that does not answer within 1 s
        // (a locked database) delays nothing further: start-up never fails on it (the
        // supervisor waits 5 s for this answer).
        self->state.subscribers.push_back(sub);
        auto rp = self->make_response_promise();
        self->request(self->state.reader, 1s, count_atom::value)
            .then(
                [=](const store::queue_store::status_counts& n) mutable {
                  self->send(sub, counts_of(self, n));
                  rp.deliver(caf::ok_atom::value);
                },
                [=](caf::error&) mutable { rp.deliver(caf::ok_atom::value); });
        return rp;
      },
      [=](const job_query& q) { return on_query(self, q); },
      [=](const db_status& s) {
        auto& st = self->state;
        bool came_back = s.connected && !st.database_connected;
        st.database_connected = s.connected;
        // Ahead of any batch: the store reopens before it writes again.
        self->send<high>(st.store, s);
        self->send(st.reader, s);
        for (auto& r : st.extra_readers) self->send(r, s);
        if (st.deep_reader) self->send(st.deep_reader, s);
        if (came_back) dispatch(self);
      },
      [=](const job_done& d) { on_done(self, d); },
      [=](retry_atom) { on_retry(self); },
      [=](const store_reply& r) { on_store_reply(self, r); },
      [=](call_timeout_atom, std::uint64_t id) { on_call_timeout(self, id); },
      [=](drain_atom, std::int64_t) { return on_drain(self); },
      [=](force_atom) { return on_force(self); },
      [=](workers_atom, std::int32_t n) { resize(self, n); },
      [=](purge_atom, std::uint64_t gen) { on_purge(self, gen); },
      [=](retention_atom, std::int32_t days, bool on) {
        auto& st = self->state;
        st.retention_days = days;
        st.auto_purge = on;
        if (!st.purging) schedule_purge(self, 0ms);  // the new rule applies now
      },
  };
}

}  // namespace job_queue_detail

caf::actor spawn_job_queue(caf::actor_system& sys, job_queue_options options) {
  return sys.spawn(job_queue_detail::queue_impl, std::move(options));
}

}  // namespace vpo::actors
