// store.cpp: the single writer (store), the API's reader and the one-shot path check.
#include "actors/store.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <cerrno>
#include <cstring>
#include <memory>

#include "actors/messages.hpp"
#include "actors/guard.hpp"
#include "db/library.hpp"
#include "logging/log.hpp"
#include "store/job_store.hpp"

namespace vpo::actors {
namespace {

// A connection and the queue_store on it; reopened when the database file comes back.
struct db_handle {
  std::string path;
  db::connection conn;
  std::unique_ptr<store::queue_store> store;  // finalized before conn closes (reset first)
  bool connected = true;

  // `check_schema`: prepare every statement now (the writer, before its first write); the
  // reader prepares the few it runs at their first use.
  db::status open(bool check_schema) {
    store.reset();
    db::connection fresh;
    db::file_identity id;
    auto s = db::open_library(path, db::open_mode::existing_only, 5000, fresh, id);
    if (!s.ok()) return s;
    conn = std::move(fresh);
    auto js = std::make_unique<store::job_store>(conn);
    if (check_schema)
      if (auto p = js->prepared(); !p.ok()) return p;
    store = std::move(js);
    return {};
  }
  ~db_handle() { store.reset(); }

  // db_health's verdict. When the file comes back (restored or replaced by a valid copy), this
  // connection may still point at the old, unlinked file: reopen it.
  void on_status(const db_status& s, logging::logger& log, const char* who, bool reads_only) {
    // The reader only needs reads: a locked or full database is still usable for it.
    bool usable = reads_only ? s.readable : s.connected;
    bool came_back = usable && !connected;
    connected = usable;
    if (!came_back) return;
    if (auto r = open(!reads_only); !r.ok())
      log.error(std::string(who) + ": cannot reopen the database: " + r.message);
    else
      log.info(std::string(who) + " reopened the database", {{"file_path", path}});
  }
};

db::status not_open() {
  return db::status(errc::unavailable, "the database is not open");
}

// ---- store -------------------------------------------------------------------------------
struct store_state {
  db_handle db;
  logging::logger log{"vpo.store"};
  static inline const char* name = "vpo.store";
};
using store_ptr = store_actor::stateful_pointer<store_state>;

store_reply apply(store_state& st, store_op& op) {
  store_reply r;
  r.call_id = op.call_id;
  db::status s;
  auto* q = st.db.store.get();
  auto opt = [](const std::string& v) {
    return v.empty() ? std::nullopt : std::optional<std::string>(v);
  };
  if (op.not_after && std::chrono::steady_clock::now() > *op.not_after) {
    r.expired = true;  // the caller gave up: doing it now would contradict its error answer
    return r;
  }
  if (!q) {
    s = not_open();
  } else {
    switch (op.what) {
      case store_op::kind::insert:
        // The one writer: nothing can queue the same tree between the look and the insert.
        s = q->find_active(op.job.type, op.job.path, r.job);
        if (s.ok() && !r.job) {
          s = q->insert(op.job);
          r.changed = s.ok();
        }
        break;
      case store_op::kind::claim:
        s = q->claim_next(::getpid(), r.job);
        r.changed = r.job.has_value();
        break;
      case store_op::kind::unclaim:
        s = q->unclaim(op.id, r.changed);
        break;
      case store_op::kind::finish:
        s = q->finish(op.id, op.status, opt(op.error), opt(op.summary_json), r.changed);
        break;
      case store_op::kind::requeue:
        for (auto& j : op.jobs) {
          bool changed = false;
          s = q->requeue(j.id, j.summary_json, changed);
          if (!s.ok()) break;
          if (changed) r.ids.push_back(j.id);
        }
        r.changed = !r.ids.empty();
        break;
      case store_op::kind::cancel_queued:
        s = q->cancel_queued(op.id, r.changed, r.job);
        break;
      case store_op::kind::retry:
        s = q->retry(op.id, r.changed, r.job);
        break;
      case store_op::kind::purge:
        s = q->purge_finished(op.cutoff, op.limit, r.deleted);
        r.changed = r.deleted > 0;
        break;
    }
  }
  if (!s.ok()) {
    r.ok = false;
    r.error = s.message;
  }
  return r;
}

store_recovery on_store_init(store_ptr self, int max_attempts) {
  auto& st = self->state;
  store_recovery out;
  db::status s = st.db.open(true);
  if (s.ok()) {
    store::queue_store::recovery rec;
    s = st.db.store->recover(max_attempts, rec);
    out.requeued = std::move(rec.requeued);
    out.failed = std::move(rec.failed);
  }
  if (!s.ok()) {
    out.ok = false;
    out.error = "job store: " + s.message + ". " + s.fix;
  }
  return out;
}

store_actor::behavior_type store_impl(store_ptr self, std::string path) {
  install_guards(self, "store");
  self->state.db.path = std::move(path);
  return {
      [=](init_atom, int max_attempts) -> store_recovery {
        return on_store_init(self, max_attempts);
      },
      [=](store_op& op) -> store_reply { return apply(self->state, op); },
      [=](jobs::scan_batch& b) -> batch_ack {
        batch_ack a;
        long long marked = 0;
        auto* q = self->state.db.store.get();
        db::status s = q ? q->apply_scan_batch(b, marked) : not_open();
        a.ok = s.ok();
        a.error = s.message;
        a.missing_marked = marked;
        a.unwritable = !s.ok() && (!q || s.is(errc::busy) || s.is(errc::full) ||
                                   s.is(errc::read_only) || s.is(errc::permission_denied) ||
                                   s.is(errc::unavailable) || s.is(errc::not_found));
        return a;
      },
      [=](const db_status& s) { self->state.db.on_status(s, self->state.log, "store", false); },
  };
}

// ---- reader ------------------------------------------------------------------------------
struct reader_state {
  db_handle db;
  logging::logger log{"vpo.store"};
  static inline const char* name = "vpo.reader";
};
using reader_ptr = reader_actor::stateful_pointer<reader_state>;

job_answer on_read(reader_state& st, const job_query& q) {
  job_answer a;
  db::status s;
  auto* store = st.db.store.get();
  if (!store) {
    s = not_open();
  } else if (q.what == job_query::op::list) {
    std::optional<jobs::job> cursor;
    if (!q.before.empty()) s = store->get(q.before, cursor);
    if (s.ok() && !q.before.empty() && !cursor) {
      return api::failed_answer(errc::invalid,
                                "field 'before' names no job (it may have been purged); page "
                                "again from the start, without 'before'");
    }
    if (s.ok()) s = store->list({q.status, q.type, q.limit, q.offset, q.before}, a.jobs, a.total);
  } else if (q.what == job_query::op::files) {
    s = store->files({q.missing, q.under, q.limit, q.offset, q.after}, a.files, a.total);
  } else if (q.what == job_query::op::library) {
    s = store->library(a.library);
  } else {
    std::optional<jobs::job> j;
    s = store->get(q.id, j);
    if (j)
      a.jobs.push_back(*j);
    else
      a = api::failed_answer(errc::not_found, "", "JOB_NOT_FOUND");
  }
  if (!s.ok()) {
    st.log.error("cannot read the library database: " + s.message);
    // Whatever SQLite said, for the client the database cannot answer now: 503.
    a = api::failed_answer(errc::unavailable, "the library database cannot be read: " + s.message);
  }
  return a;
}

reader_actor::behavior_type reader_impl(reader_ptr self, std::string path) {
  install_guards(self, "reader");
  self->state.db.path = std::move(path);
  return {
      [=](init_atom) -> init_result {
        auto s = self->state.db.open(false);
        return init_result{s.ok(), s.ok() ? "" : "job reader: " + s.message + ". " + s.fix};
      },
      [=](const job_query& q) -> job_answer { return on_read(self->state, q); },
      [=](count_atom) -> caf::result<store::queue_store::status_counts> {
        store::queue_store::status_counts n;
        auto* store = self->state.db.store.get();
        db::status s = store ? store->counts(n) : not_open();
        if (!s.ok()) return caf::sec::runtime_error;
        return n;
      },
      [=](const db_status& s) { self->state.db.on_status(s, self->state.log, "job reader", true); },
  };
}

}  // namespace

store_actor spawn_store(caf::actor_system& sys, std::string database_path) {
  return sys.spawn<caf::detached>(store_impl, std::move(database_path));
}

reader_actor spawn_reader(caf::actor_system& sys, std::string database_path) {
  return sys.spawn<caf::detached>(reader_impl, std::move(database_path));
}

caf::actor spawn_path_check(caf::actor_system& sys, const std::string& path) {
  // The path is a spawn argument: CAF 0.17 dereferences a null argument tuple when a function
  // actor takes none (UBSan reports it).
  return sys.spawn<caf::detached>(
      [](caf::event_based_actor* self, std::string p) -> caf::behavior {
        install_guards(self, "path_check");
        return {
            [=](check_atom) -> std::string {
              self->quit();
              struct stat st {};
              if (::stat(p.c_str(), &st) != 0) return std::strerror(errno);
              if (!S_ISDIR(st.st_mode)) return std::strerror(ENOTDIR);
              return "";
            },
        };
      },
      path);
}

}  // namespace vpo::actors
