// queue_store.hpp: the seam between the actors and the database: every write to the jobs and
// files tables, and the reads the API needs. SQLite implements it today (store/job_store); a
// PostgreSQL backend (several hosts sharing one queue) would implement the same interface.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/connection.hpp"
#include "jobs/job.hpp"
#include "jobs/scan_batch.hpp"

namespace vpo::store {

using jobs::job;
using jobs::scan_batch;

/// One owner per instance (not thread-safe). Every job transition checks the current status, so
/// an illegal one changes nothing and says so (`changed` false).
class queue_store {
 public:
  virtual ~queue_store() = default;

  // ---- jobs: writes (the store actor only) ----
  /// Inserts a new queued job.
  virtual db::status insert(const job& j) = 0;
  /// Atomically moves the next queued job (lowest priority, then oldest) to running, counting
  /// an attempt; `out` is empty when nothing is queued.
  virtual db::status claim_next(long long worker_pid, std::optional<job>& out) = 0;
  /// running -> queued, taking back the attempt a claim counted (the job never started).
  virtual db::status unclaim(const std::string& id, bool& changed) = 0;
  /// running -> completed/failed/cancelled.
  virtual db::status finish(const std::string& id, const std::string& status,
                            const std::optional<std::string>& error,
                            const std::optional<std::string>& summary_json, bool& changed) = 0;
  /// running -> queued, attempts kept (a forced stop); keeps the summary of what it did.
  virtual db::status requeue(const std::string& id, const std::optional<std::string>& summary_json,
                             bool& changed) = 0;
  /// queued -> cancelled. `now` is the job as stored afterwards (empty: no such job).
  virtual db::status cancel_queued(const std::string& id, bool& changed,
                                   std::optional<job>& now) = 0;
  /// failed/cancelled -> queued (same id, attempts kept, error cleared), unless another job of
  /// the same type and path is queued or running. `now` is the job as stored afterwards (empty:
  /// no such job).
  virtual db::status retry(const std::string& id, bool& changed, std::optional<job>& now) = 0;
  /// The queued or running job of this type and path, if any (a scan of a tree already waiting).
  virtual db::status find_active(const std::string& type, const std::string& path,
                                 std::optional<job>& out) = 0;
  /// Deletes at most `limit` finished jobs (completed, failed, cancelled) that finished before
  /// `cutoff` (RFC 3339 UTC); `deleted` counts them.
  virtual db::status purge_finished(const std::string& cutoff, int limit, long long& deleted) = 0;

  /// What recover() did, per job.
  struct recovery {
    std::vector<job> requeued;
    std::vector<job> failed;
  };
  /// At startup, under the single-instance lock: jobs left running by a dead process go back to
  /// queued when attempts < `max_attempts`, else become failed.
  virtual db::status recover(int max_attempts, recovery& out) = 0;

  // ---- files: writes (the store actor only) ----
  /// Applies one scan step in one short transaction, with the job's progress; `missing_marked`
  /// counts the files that turned missing.
  virtual db::status apply_scan_batch(const scan_batch& b, long long& missing_marked) = 0;

  // ---- reads (any connection; the API reads on its own) ----
  virtual db::status get(const std::string& id, std::optional<job>& out) = 0;
  /// Which jobs a list returns: the filters (empty: any), then a page of them.
  struct list_filter {
    std::string status;
    std::string type;
    int limit = 100;
    long long offset = 0;
    /// Keyset paging: only the jobs older than this one (the last of the previous page); an
    /// index lookup however deep the page, where `offset` skips rows one by one.
    std::string before;
  };
  /// Jobs matching the filter, newest first, `limit` of them after skipping `offset`; `total`
  /// counts every match (the whole match, not the page).
  virtual db::status list(const list_filter& filter, std::vector<job>& out, long long& total) = 0;
  /// How many jobs are in each status, and how many files the library holds (and of those,
  /// missing).
  struct status_counts {
    long long queued = 0, running = 0, completed = 0, failed = 0, cancelled = 0;
    long long library_files = 0, library_missing = 0;
  };
  virtual db::status counts(status_counts& out) = 0;

  using file_row = jobs::file_row;
  /// Which files a listing returns: `missing` (unset: both), `under` (a folder: the files below
  /// it, at any depth; empty: all), then a page by path.
  struct files_filter {
    std::optional<bool> missing;
    std::string under;
    int limit = 100;
    long long offset = 0;
    /// Keyset paging: only the paths after this one (the last of the previous page).
    std::optional<std::string> after;
  };
  virtual db::status files(const files_filter& filter, std::vector<file_row>& out,
                           long long& total) = 0;
  using library_totals = jobs::library_totals;
  virtual db::status library(library_totals& out) = 0;
};

}  // namespace vpo::store
