// job_store.cpp: prepared statements for the jobs and files tables (SQLite).
#include "store/job_store.hpp"

#include <algorithm>

#include "db/statement.hpp"

namespace vpo::store {
namespace {

constexpr const char* columns =
    "id, job_type, status, priority, file_path, progress_percent, attempts, created_at, "
    "started_at, completed_at, error_message, summary_json";

job read_job(const db::statement& s) {
  job j;
  j.id = s.column_text(0);
  j.type = s.column_text(1);
  j.status = s.column_text(2);
  j.priority = static_cast<int>(s.column_int(3));
  j.path = s.column_text(4);
  j.progress_percent = s.column_double(5);
  j.attempts = static_cast<int>(s.column_int(6));
  j.created_at = s.column_text(7);
  j.started_at = s.column_optional_text(8);
  j.completed_at = s.column_optional_text(9);
  j.error = s.column_optional_text(10);
  j.summary_json = s.column_optional_text(11);
  return j;
}

std::string select(const std::string& rest) {
  return std::string("SELECT ") + columns + rest;
}

}  // namespace

// Files are upserted `upsert_group` rows per statement: one statement run per row costs as much as
// the row itself in SQLite's VDBE.
constexpr int upsert_group = 32;

std::string upsert_rows_sql(int rows) {
  std::string sql =
      "INSERT INTO files (path, size, modified_at, mtime_ns, extension, scanned_at, missing, "
      "missing_since) VALUES ";
  for (int i = 0; i < rows; ++i) sql += i ? ",(?,?,?,?,?,?,0,NULL)" : "(?,?,?,?,?,?,0,NULL)";
  return sql +
         " ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
         "modified_at = excluded.modified_at, mtime_ns = excluded.mtime_ns, extension = "
         "excluded.extension, scanned_at = excluded.scanned_at, missing = 0, missing_since = NULL";
}

struct job_store::statements {
  explicit statements(db::connection& c)
      : insert(c,
               "INSERT INTO jobs (id, job_type, status, priority, file_path, progress_percent, "
               "created_at, origin, attempts) VALUES (?, ?, 'queued', ?, ?, 0, ?, 'daemon', 0)"),
        claim(c, std::string("UPDATE jobs SET status = 'running', started_at = ?1, "
                             "worker_pid = ?2, worker_heartbeat = ?1, attempts = attempts + 1, "
                             "progress_percent = 0, completed_at = NULL, error_message = NULL, "
                             "summary_json = NULL "
                             "WHERE id = (SELECT id FROM jobs WHERE status = 'queued' "
                             "ORDER BY priority, created_at, rowid LIMIT 1) RETURNING ") +
                     columns),
        progress(c,
                 "UPDATE jobs SET progress_percent = ?, worker_heartbeat = ?, "
                 "summary_json = coalesce(?, summary_json) WHERE id = ? AND status = 'running'"),
        finish(c,
               "UPDATE jobs SET status = ?, completed_at = ?, error_message = ?, "
               "summary_json = ?, progress_percent = CASE WHEN ? = 'completed' THEN 100 "
               "ELSE progress_percent END WHERE id = ? AND status = 'running'"),
        requeue(c,
                "UPDATE jobs SET status = 'queued', worker_pid = NULL, progress_percent = 0, "
                "summary_json = coalesce(?, summary_json) WHERE id = ? AND status = 'running'"),
        unclaim(c,
                "UPDATE jobs SET status = 'queued', worker_pid = NULL, progress_percent = 0, "
                "started_at = NULL, attempts = max(attempts - 1, 0) "
                "WHERE id = ? AND status = 'running'"),
        cancel(c,
               "UPDATE jobs SET status = 'cancelled', completed_at = ? "
               "WHERE id = ? AND status = 'queued'"),
        get(c, select(" FROM jobs WHERE id = ?")),
        list_matching(c, select(" FROM jobs WHERE (?1 IS NULL OR status = ?1) AND "
                                "(?2 IS NULL OR job_type = ?2) AND (?5 IS NULL OR (created_at, "
                                "rowid) < (SELECT created_at, rowid FROM jobs WHERE id = ?5)) "
                                "ORDER BY created_at DESC, rowid DESC LIMIT ?3 OFFSET ?4")),
        count_matching(c,
                       "SELECT count(*) FROM jobs WHERE (?1 IS NULL OR status = ?1) AND "
                       "(?2 IS NULL OR job_type = ?2)"),
        count_by_status(c, "SELECT status, count(*) FROM jobs GROUP BY status"),
        count_files(c, "SELECT count(*), coalesce(sum(missing), 0) FROM files"),
        upsert_many(c, upsert_rows_sql(upsert_group)),
        upsert_file(c,
                    "INSERT INTO files (path, size, modified_at, mtime_ns, extension, "
                    "scanned_at, missing, missing_since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, "
                    "NULL) ON CONFLICT (path) DO UPDATE SET size = ?2, "
                    "modified_at = ?3, mtime_ns = ?4, extension = ?5, scanned_at = ?6, "
                    "missing = 0, missing_since = NULL"),
        missing_path(c,
                     "UPDATE files SET missing = 1, missing_since = ? WHERE path = ? AND "
                     "missing = 0"),
        retry(c,
              "UPDATE jobs SET status = 'queued', error_message = NULL, completed_at = NULL, "
              "started_at = NULL, worker_pid = NULL, progress_percent = 0 "
              "WHERE id = ?1 AND status IN ('failed', 'cancelled') AND NOT EXISTS "
              "(SELECT 1 FROM jobs o WHERE o.job_type = jobs.job_type AND o.file_path IS "
              "jobs.file_path AND o.status IN ('queued', 'running'))"),
        find_active(c, select(" FROM jobs WHERE job_type = ? AND file_path = ? AND status IN "
                              "('queued', 'running') ORDER BY created_at LIMIT 1")),
        purge(c,
              "DELETE FROM jobs WHERE rowid IN (SELECT rowid FROM jobs WHERE status IN "
              "('completed', 'failed', 'cancelled') AND coalesce(completed_at, created_at) < ?1 "
              "LIMIT ?2)"),
        // The files below a folder are one range of paths: (under + "/", under + "0") ('0'
        // follows '/').
        files_page(c,
                   "SELECT path, size, modified_at, missing, missing_since, scanned_at FROM files "
                   "WHERE (?1 IS NULL OR missing = ?1) AND (?2 IS NULL OR (path > ?2 AND path < "
                   "?3)) AND (?6 IS NULL OR path > ?6) ORDER BY path LIMIT ?4 OFFSET ?5"),
        files_count(c,
                    "SELECT count(*) FROM files WHERE (?1 IS NULL OR missing = ?1) AND (?2 IS "
                    "NULL OR (path > ?2 AND path < ?3))"),
        library_sums(c,
                     "SELECT count(*), coalesce(sum(missing), 0), "
                     "coalesce(sum(CASE WHEN missing = 0 THEN size END), 0), max(scanned_at) "
                     "FROM files"),
        library_extensions(c,
                           "SELECT extension, count(*) FROM files GROUP BY extension "
                           "ORDER BY count(*) DESC, extension"),
        last_scan(c,
                  "SELECT max(completed_at) FROM jobs WHERE job_type = 'scan' AND status = "
                  "'completed'") {}

  db::lazy_statement insert, claim, progress, finish, requeue, unclaim, cancel, get, list_matching,
      count_matching, count_by_status, count_files, upsert_many, upsert_file, missing_path, retry,
      find_active, purge, files_page, files_count, library_sums, library_extensions, last_scan;

  // Prepares every statement: the first that does not prepare (a schema the code does not
  // match), "" when all do.
  std::string first_error() {
    for (db::lazy_statement* s : {&insert,          &claim,
                                  &progress,        &finish,
                                  &requeue,         &unclaim,
                                  &cancel,          &get,
                                  &list_matching,   &count_matching,
                                  &count_by_status, &count_files,
                                  &upsert_many,     &upsert_file,
                                  &missing_path,    &retry,
                                  &find_active,     &purge,
                                  &files_page,      &files_count,
                                  &library_sums,    &library_extensions,
                                  &last_scan})
      if (const auto& e = s->prepare(); !e.empty()) return e;
    return {};
  }
};

namespace {
// Job transitions are rare and must survive a power cut: each commits with a full sync.
struct durable {
  explicit durable(db::connection& c) : c_(c) { c_.exec("PRAGMA synchronous = FULL"); }
  ~durable() { c_.exec("PRAGMA synchronous = NORMAL"); }
  durable(const durable&) = delete;
  durable& operator=(const durable&) = delete;
  db::connection& c_;
};
}  // namespace

db::status job_store::prepared() {
  auto e = st_->first_error();
  if (e.empty()) return {};
  return db::sqlite_error(SQLITE_ERROR, 0,
                          "the job store's statements do not prepare on this database (" + e +
                              "): the library's schema is not the one this vpo expects");
}

job_store::job_store(db::connection& c) : c_(c), st_(std::make_unique<statements>(c)) {
  // db_health checkpoints every 500 ms (passive, off the write path); committing only checkpoints
  // as a safety net when the WAL grows past ~160 MiB (db_health cannot, e.g. while disconnected):
  // a checkpoint inside a commit waits for the disk, and the API waits for the commit.
  long long page = 4096;
  c_.query_int("PRAGMA page_size", page);
  long long pages = (160LL << 20) / std::max(page, 512LL);  // ~160 MiB of WAL, whatever the pages
  c_.exec("PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = " + std::to_string(pages));
}
job_store::~job_store() = default;

db::status job_store::insert(const job& j) {
  durable sync(c_);
  return st_->insert.reset()
      .bind(1, j.id)
      .bind(2, j.type)
      .bind(3, static_cast<long long>(j.priority))
      .bind(4, j.path)
      .bind(5, j.created_at)
      .run("cannot insert job");
}

db::status job_store::claim_next(long long worker_pid, std::optional<job>& out) {
  out.reset();
  durable sync(c_);
  auto& s = st_->claim.reset().bind(1, jobs::now_rfc3339()).bind(2, worker_pid);
  int rc = s.step();
  if (rc == SQLITE_ROW) {
    out = read_job(s);
    rc = s.step();
  }
  if (rc != SQLITE_DONE) return s.failure(rc, "cannot claim a job");
  return {};
}

db::status job_store::finish(const std::string& id, const std::string& status,
                             const std::optional<std::string>& error,
                             const std::optional<std::string>& summary_json, bool& changed) {
  durable sync(c_);
  auto s = st_->finish.reset()
               .bind(1, status)
               .bind(2, jobs::now_rfc3339())
               .bind(3, error)
               .bind(4, summary_json)
               .bind(5, status)
               .bind(6, id)
               .run("cannot finish job");
  changed = s.ok() && sqlite3_changes(c_.handle()) == 1;
  return s;
}

db::status job_store::requeue(const std::string& id, const std::optional<std::string>& summary_json,
                              bool& changed) {
  durable sync(c_);
  auto s = st_->requeue.reset().bind(1, summary_json).bind(2, id).run("cannot requeue job");
  changed = s.ok() && sqlite3_changes(c_.handle()) == 1;
  return s;
}

db::status job_store::unclaim(const std::string& id, bool& changed) {
  durable sync(c_);
  auto s = st_->unclaim.reset().bind(1, id).run("cannot give back a claimed job");
  changed = s.ok() && sqlite3_changes(c_.handle()) == 1;
  return s;
}

db::status job_store::cancel_queued(const std::string& id, bool& changed, std::optional<job>& now) {
  {
    durable sync(c_);
    auto s = st_->cancel.reset().bind(1, jobs::now_rfc3339()).bind(2, id).run("cannot cancel job");
    changed = s.ok() && sqlite3_changes(c_.handle()) == 1;
    if (!s.ok()) return s;
  }
  return get(id, now);
}

db::status job_store::retry(const std::string& id, bool& changed, std::optional<job>& now) {
  {
    durable sync(c_);
    auto s = st_->retry.reset().bind(1, id).run("cannot retry job");
    changed = s.ok() && sqlite3_changes(c_.handle()) == 1;
    if (!s.ok()) return s;
  }
  return get(id, now);
}

db::status job_store::find_active(const std::string& type, const std::string& path,
                                  std::optional<job>& out) {
  out.reset();
  auto& s = st_->find_active.reset().bind(1, type).bind(2, path);
  int rc = s.step();
  if (rc == SQLITE_ROW) {
    out = read_job(s);
    rc = s.step();
  }
  if (rc != SQLITE_DONE) return s.failure(rc, "cannot look for a waiting job");
  return {};
}

db::status job_store::purge_finished(const std::string& cutoff, int limit, long long& deleted) {
  auto s = st_->purge.reset()
               .bind(1, cutoff)
               .bind(2, static_cast<long long>(limit))
               .run("cannot delete old jobs");
  deleted = s.ok() ? sqlite3_changes(c_.handle()) : 0;
  return s;
}

db::status job_store::files(const files_filter& f, std::vector<file_row>& out, long long& total) {
  out.clear();
  std::optional<std::string> lo, hi;
  if (!f.under.empty() && f.under != "/") {
    lo = f.under + "/";
    hi = f.under + "0";
  }
  auto bind_filter = [&](db::statement& st) -> db::statement& {
    if (f.missing)
      st.bind(1, static_cast<long long>(*f.missing ? 1 : 0));
    else
      st.bind_null(1);
    return st.bind(2, lo).bind(3, hi);
  };
  auto& s = bind_filter(st_->files_page.reset())
                .bind(4, static_cast<long long>(f.limit))
                .bind(5, f.offset)
                .bind(6, f.after);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW)
    out.push_back({s.column_text(0), s.column_int(1), s.column_text(2), s.column_int(3) != 0,
                   s.column_optional_text(4), s.column_text(5)});
  if (rc != SQLITE_DONE) return s.failure(rc, "cannot list files");
  auto& c = bind_filter(st_->files_count.reset());
  rc = c.step();
  if (rc != SQLITE_ROW) return c.failure(rc, "cannot count files");
  total = c.column_int(0);
  c.reset();
  return {};
}

db::status job_store::library(library_totals& out) {
  out = {};
  auto& s = st_->library_sums.reset();
  int rc = s.step();
  if (rc != SQLITE_ROW) return s.failure(rc, "cannot total the library");
  out.files = s.column_int(0);
  out.missing = s.column_int(1);
  out.bytes = s.column_int(2);
  auto newest_file = s.column_optional_text(3);
  s.reset();  // never leave a statement on its row (it pins the read snapshot)
  auto& e = st_->library_extensions.reset();
  while ((rc = e.step()) == SQLITE_ROW)
    out.by_extension.emplace_back(e.column_text(0), e.column_int(1));
  if (rc != SQLITE_DONE) return e.failure(rc, "cannot count the library's extensions");
  auto& l = st_->last_scan.reset();
  if ((rc = l.step()) != SQLITE_ROW) return l.failure(rc, "cannot find the last scan");
  out.last_scan_at = l.column_optional_text(0);
  l.reset();
  if (!out.last_scan_at) out.last_scan_at = newest_file;  // its jobs purged: the files tell
  return {};
}

db::status job_store::apply_scan_batch(const scan_batch& b, long long& missing_marked) {
  missing_marked = 0;
  db::transaction tx(c_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  std::size_t i = 0, n = b.upserts.size();
  for (; i + upsert_group <= n; i += upsert_group) {
    auto& st = st_->upsert_many.reset();
    for (int r = 0; r < upsert_group; ++r) {
      const auto& f = b.upserts[i + static_cast<std::size_t>(r)];
      int k = r * 6;
      st.bind_static(k + 1, f.path)
          .bind(k + 2, f.size)
          .bind_static(k + 3, f.modified_at)
          .bind(k + 4, f.mtime_ns)
          .bind_static(k + 5, f.extension)
          .bind_static(k + 6, b.scanned_at);
    }
    if (auto s = st.run("cannot record files"); !s.ok()) return s;
  }
  for (; i < n; ++i) {
    const auto& f = b.upserts[i];
    auto s = st_->upsert_file.reset()
                 .bind_static(1, f.path)
                 .bind(2, f.size)
                 .bind_static(3, f.modified_at)
                 .bind(4, f.mtime_ns)
                 .bind_static(5, f.extension)
                 .bind_static(6, b.scanned_at)
                 .run("cannot record file");
    if (!s.ok()) return s;
  }
  std::string now = jobs::now_rfc3339();
  for (const auto& p : b.missing_paths) {
    auto s = st_->missing_path.reset().bind(1, now).bind(2, p).run("cannot mark a file missing");
    if (!s.ok()) return s;
    missing_marked += sqlite3_changes(c_.handle());
  }
  auto s = st_->progress.reset()
               .bind(1, b.progress)
               .bind(2, now)
               .bind(3, b.summary_json.empty() ? std::nullopt
                                               : std::optional<std::string>(b.summary_json))
               .bind(4, b.job_id)
               .run("cannot record progress");
  if (!s.ok()) return s;
  return tx.commit();
}

db::status job_store::get(const std::string& id, std::optional<job>& out) {
  out.reset();
  auto& s = st_->get.reset().bind(1, id);
  int rc = s.step();
  if (rc == SQLITE_ROW) {
    out = read_job(s);
    rc = s.step();
  }
  if (rc != SQLITE_DONE) return s.failure(rc, "cannot read job");
  return {};
}

db::status job_store::list(const list_filter& f, std::vector<job>& out, long long& total) {
  out.clear();
  auto or_null = [](const std::string& v) {
    return v.empty() ? std::optional<std::string>() : std::optional<std::string>(v);
  };
  auto& s = st_->list_matching.reset()
                .bind(1, or_null(f.status))
                .bind(2, or_null(f.type))
                .bind(3, static_cast<long long>(f.limit))
                .bind(4, f.offset)
                .bind(5, or_null(f.before));
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_job(s));
  if (rc != SQLITE_DONE) return s.failure(rc, "cannot list jobs");
  auto& c = st_->count_matching.reset().bind(1, or_null(f.status)).bind(2, or_null(f.type));
  rc = c.step();
  if (rc != SQLITE_ROW) return c.failure(rc, "cannot count jobs");
  total = c.column_int(0);
  c.reset();
  return {};
}

db::status job_store::counts(status_counts& out) {
  out = {};
  auto& c = st_->count_by_status.reset();
  int rc;
  while ((rc = c.step()) == SQLITE_ROW) {
    std::string status = c.column_text(0);
    long long n = c.column_int(1);
    if (status == jobs::status_name::queued)
      out.queued = n;
    else if (status == jobs::status_name::running)
      out.running = n;
    else if (status == jobs::status_name::completed)
      out.completed = n;
    else if (status == jobs::status_name::failed)
      out.failed = n;
    else if (status == jobs::status_name::cancelled)
      out.cancelled = n;
  }
  if (rc != SQLITE_DONE) return c.failure(rc, "cannot count jobs");
  auto& f = st_->count_files.reset();
  if ((rc = f.step()) != SQLITE_ROW) return f.failure(rc, "cannot count the library's files");
  out.library_files = f.column_int(0);
  out.library_missing = f.column_int(1);
  f.reset();  // a statement left on its row keeps its read snapshot: later reads would see the past
  return {};
}

db::status job_store::recover(int max_attempts, recovery& out) {
  durable sync(c_);
  db::transaction tx(c_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  db::statement running(c_, select(" FROM jobs WHERE status = 'running'"));
  std::vector<job> found;
  int rc;
  while ((rc = running.step()) == SQLITE_ROW) found.push_back(read_job(running));
  if (rc != SQLITE_DONE) return running.failure(rc, "cannot read running jobs");
  std::string now = jobs::now_rfc3339();
  db::statement back(c_,
                     "UPDATE jobs SET status = 'queued', worker_pid = NULL, progress_percent = 0 "
                     "WHERE id = ?");
  db::statement give_up(c_,
                        "UPDATE jobs SET status = 'failed', completed_at = ?, worker_pid = NULL, "
                        "error_message = ? WHERE id = ?");
  for (auto& j : found) {
    db::status s;
    if (j.attempts < max_attempts) {
      s = back.reset().bind(1, j.id).run("cannot requeue job");
      j.status = jobs::status_name::queued;
      out.requeued.push_back(j);
    } else {
      std::string why = "gave up after " + std::to_string(j.attempts) + " interrupted attempts";
      s = give_up.reset().bind(1, now).bind(2, why).bind(3, j.id).run("cannot fail job");
      j.status = jobs::status_name::failed;
      j.error = why;
      out.failed.push_back(j);
    }
    if (!s.ok()) return s;
  }
  return tx.commit();
}

}  // namespace vpo::store
