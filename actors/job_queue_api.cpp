// job_queue_api.cpp: job_queue's side of the API: create (the path check off the control path,
// then an insert with a deadline), cancel, and reads delegated to the reader.
#include "actors/job_queue_state.hpp"
#include "actors/store.hpp"

namespace vpo::actors::job_queue_detail {

void answer(caf::response_promise rp, job_answer a) {
  rp.deliver(std::move(a));
}

job_answer unavailable(std::string code, std::string message) {
  return api::failed_answer(errc::unavailable, std::move(message), std::move(code));
}

void insert_job(queue* self, caf::response_promise rp, const job_query& q) {
  jobs::job j;
  j.id = jobs::new_uuid();
  j.type = q.spec.type;
  j.priority = q.spec.priority;
  j.path = q.spec.path;
  j.created_at = jobs::now_rfc3339();
  store_op op;
  op.what = store_op::kind::insert;
  op.job = j;
  op.not_after = clock::now() + 1500ms;
  call_store(self, 2500ms, std::move(op))
      .then(
          [=](const store_reply& r) mutable {
            if (!r.ok || r.expired)
              return answer(rp, unavailable("DATABASE_UNAVAILABLE",
                                            r.expired ? "the job store was too slow; the job was "
                                                        "not created, retry"
                                                      : "the job was not created: " + r.error));
            if (!r.changed && r.job) {  // the same tree is already waiting: that job answers
              self->state.log.info(
                  "scan not queued again: job " + r.job->id +
                      " for this "
                      "directory is already " +
                      r.job->status,
                  {{"job_id", r.job->id}, {"job_type", r.job->type}, {"file_path", r.job->path}});
              job_answer a;
              a.jobs.push_back(*r.job);
              return answer(rp, std::move(a));
            }
            self->state.log.info("job queued", {{"job_id", j.id},
                                                {"job_type", j.type},
                                                {"file_path", j.path},
                                                {"priority", j.priority}});
            job_answer a;
            a.result = job_answer::outcome::created;
            a.jobs.push_back(j);
            answer(rp, std::move(a));
            publish_counts(self);
            dispatch(self);
          },
          [=](const std::string&) mutable {
            answer(rp, unavailable("DATABASE_UNAVAILABLE",
                                   "the job store did not answer in time; the job was not "
                                   "created, retry"));
          });
}

// At most this many checks may be stuck on a hung file system (a thread each) before new
// submissions are refused; any number of checks that answer in time may run at once (the HTTP
// server bounds the API requests in progress).
constexpr std::size_t max_stuck_path_checks = 16;

caf::response_promise on_create(queue* self, const job_query& q) {
  auto rp = self->make_response_promise();
  if (self->state.stuck_path_checks.size() >= max_stuck_path_checks) {
    answer(rp, unavailable("PATH_CHECK_TIMEOUT",
                           std::to_string(self->state.stuck_path_checks.size()) +
                               " directory checks are still waiting for their file system (a "
                               "hung mount?); nothing was created, retry"));
    return rp;
  }
  auto check = spawn_path_check(self->system(), q.spec.path);
  self->monitor(check);  // a stuck check is counted until it ends (down_msg)
  self->request(check, 1500ms, check_atom::value)
      .then(
          [=](const std::string& why) mutable {
            if (!why.empty()) {
              return answer(rp, api::failed_answer(errc::invalid,
                                                   "field 'path' must name an existing "
                                                   "directory (" +
                                                       why + ")"));
            }
            insert_job(self, rp, q);
          },
          [=](caf::error& err) mutable {
            // The check's thread stays blocked until its file system answers; it ends then (its
            // down message comes after this timeout, and takes it off the list).
            if (err == caf::sec::request_timeout)
              self->state.stuck_path_checks.insert(check.address());
            answer(rp, unavailable("PATH_CHECK_TIMEOUT",
                                   "the file system did not answer within 1.5 s when checking "
                                   "field 'path'; nothing was created"));
          });
  return rp;
}

// One store transition of the job `id` (cancel a queued job, retry): the store's errors, its
// silence and an unknown id are answered here; `decide` answers for a job that exists.
template <class Decide>
void transition(queue* self, caf::response_promise rp, store_op::kind what, const std::string& id,
                Decide decide) {
  store_op op;
  op.what = what;
  op.id = id;
  call_store(self, 3s, std::move(op))
      .then(
          [=](const store_reply& r) mutable {
            if (!r.ok) return answer(rp, unavailable("DATABASE_UNAVAILABLE", r.error));
            if (!r.job) return answer(rp, api::failed_answer(errc::not_found, "", "JOB_NOT_FOUND"));
            answer(rp, decide(r));
          },
          [=](const std::string&) mutable {
            answer(rp, unavailable("DATABASE_UNAVAILABLE", "the job store did not answer"));
          });
}

caf::response_promise on_cancel(queue* self, const std::string& id) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  if (auto* sl = slot_of(self, id)) {
    // Running here: the worker ends it at once (high priority: never behind its steps).
    if (!sl->done) self->send<high>(sl->worker, cancel_atom::value, id);
    log_job(st.log, config::log_level::info, "job cancellation requested", *sl->current);
    job_answer a;
    a.result = job_answer::outcome::accepted;
    a.jobs.push_back(*sl->current);
    answer(rp, std::move(a));
    return rp;
  }
  transition(self, rp, store_op::kind::cancel_queued, id, [=](const store_reply& r) {
    auto& s = self->state;
    job_answer a;
    if (r.changed) {
      log_job(s.log, config::log_level::info, "job cancelled", *r.job);
      ++s.finished[r.job->type + " " + jobs::status_name::cancelled];
      a.jobs.push_back(*r.job);
      publish_counts(self);
    } else if (jobs::is_finished(r.job->status)) {
      a = api::failed_answer(errc::conflict, "job " + r.job->id + " is already " + r.job->status,
                             "JOB_FINISHED");
    } else if (auto* sl = slot_of(self, id)) {
      // Claimed meanwhile: the store answered the claim first (one sender, in order).
      if (!sl->done) self->send<high>(sl->worker, cancel_atom::value, id);
      log_job(s.log, config::log_level::info, "job cancellation requested", *r.job);
      a.result = job_answer::outcome::accepted;
      a.jobs.push_back(*r.job);
    } else {  // a claim being given back at the drain: queued again in a moment
      a = unavailable("JOB_BUSY", "job " + id + " is being handed back to the queue; retry");
    }
    return a;
  });
  return rp;
}

caf::response_promise on_retry_job(queue* self, const std::string& id) {
  auto rp = self->make_response_promise();
  transition(self, rp, store_op::kind::retry, id, [=](const store_reply& r) {
    job_answer a;
    if (r.changed) {
      log_job(self->state.log, config::log_level::info, "job queued again (retry)", *r.job);
      a.jobs.push_back(*r.job);
      publish_counts(self);
      dispatch(self);
    } else if (r.job->status == jobs::status_name::failed ||
               r.job->status == jobs::status_name::cancelled) {
      a = api::failed_answer(errc::conflict,
                             "job " + id + " was not queued again: another " + r.job->type +
                                 " of " + r.job->path +
                                 " is already queued or running (see GET /api/jobs?status=queued)",
                             "JOB_DUPLICATE");
    } else {
      a = api::failed_answer(
          errc::conflict,
          "job " + id + " is " + r.job->status + "; only a failed or cancelled job can be retried",
          "JOB_NOT_RETRYABLE");
    }
    return a;
  });
  return rp;
}

// Reads that skip at least this many rows go to the deep reader.
constexpr long long deep_offset = 10000;
// Readers for ordinary reads, the first included.
constexpr std::size_t max_ordinary_readers = 3;

reader_actor start_reader(queue* self) {
  auto r = spawn_reader(self->system(), self->state.options.database_path);
  self->link_to(r);  // it ends with the queue
  // Its open comes first in its mailbox; the read sent next waits for it. A failed open is
  // answered by the read itself (the database cannot be read) and logged by the reader.
  self->request(r, 30s, init_atom::value).then([](const init_result&) {}, [](caf::error&) {});
  return r;
}

caf::response_promise on_read(queue* self, const job_query& q) {
  auto rp = self->make_response_promise();
  auto& st = self->state;
  if (q.offset >= deep_offset) {
    if (!st.deep_reader) st.deep_reader = start_reader(self);
    rp.delegate(st.deep_reader, q);
    return rp;
  }
  if (st.reads_in_progress.empty()) st.reads_in_progress.push_back(0);
  std::size_t pick = 0;
  for (std::size_t i = 1; i < st.reads_in_progress.size(); ++i)
    if (st.reads_in_progress[i] < st.reads_in_progress[pick]) pick = i;
  if (st.reads_in_progress[pick] > 0 && st.reads_in_progress.size() < max_ordinary_readers) {
    st.extra_readers.push_back(start_reader(self));
    st.reads_in_progress.push_back(0);
    pick = st.reads_in_progress.size() - 1;
  }
  reader_actor r = pick == 0 ? st.reader : st.extra_readers[pick - 1];
  ++st.reads_in_progress[pick];
  // The HTTP server answers the client at its own 30 s deadline; this one frees the reader's
  // count if a read never comes back (a hung file system).
  self->request(r, 30s, q).then(
      [=](job_answer& a) mutable {
        --self->state.reads_in_progress[pick];
        rp.deliver(std::move(a));
      },
      [=](caf::error& e) mutable {
        --self->state.reads_in_progress[pick];
        answer(rp, unavailable("DATABASE_UNAVAILABLE",
                               "the library's reader failed: " + self->system().render(e)));
      });
  return rp;
}

caf::response_promise on_query(queue* self, const job_query& q) {
  switch (q.what) {
    case job_query::op::create:
      return on_create(self, q);
    case job_query::op::cancel:
      return on_cancel(self, q.id);
    case job_query::op::retry:
      return on_retry_job(self, q.id);
    default:
      return on_read(self, q);  // reads never wait for a write
  }
}

// The forced stop: stop the workers, then put every job that ran back to queued in one request
// to the store (high priority), before replying. Bounded: 100 ms for the workers, 1 s in all.

}  // namespace vpo::actors::job_queue_detail
