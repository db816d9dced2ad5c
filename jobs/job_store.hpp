// job_store.hpp: the SQL of the jobs table: enqueue, claim, progress, finish, requeue, recover.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/connection.hpp"
#include "jobs/job.hpp"

namespace vpo::jobs {

/// Owned by job_queue, on its own connection. Every transition checks the current status, so an
/// illegal one changes nothing and says so.
class job_store {
 public:
  explicit job_store(db::connection& c);
  ~job_store();

  /// Inserts a new queued job.
  db::status insert(const job& j);
  /// Atomically moves the next queued job (lowest priority, then oldest) to running, counting
  /// an attempt; `out` is empty when nothing is queued.
  db::status claim_next(long long worker_pid, std::optional<job>& out);
  db::status set_progress(const std::string& id, double percent);
  /// running -> completed/failed/cancelled. `changed` is false when the job was not running.
  db::status finish(const std::string& id, const std::string& status,
                    const std::optional<std::string>& error,
                    const std::optional<std::string>& summary_json, bool& changed);
  /// running -> queued, attempts kept (a forced stop).
  db::status requeue(const std::string& id, bool& changed);
  /// queued -> cancelled. `changed` is false when the job was not queued.
  db::status cancel_queued(const std::string& id, bool& changed);
  db::status get(const std::string& id, std::optional<job>& out);
  /// Jobs matching `status` (any when empty), newest first, at most `limit`; `total` counts all.
  db::status list(const std::string& status, int limit, std::vector<job>& out, long long& total);
  /// How many jobs are in each status.
  struct status_counts {
    long long queued = 0, running = 0, completed = 0, failed = 0, cancelled = 0;
  };
  db::status counts(status_counts& out);

  /// What recover() did, per job.
  struct recovery {
    std::vector<job> requeued;
    std::vector<job> failed;
  };
  /// At startup, under the single-instance lock: jobs left running by a dead process go back to
  /// queued when attempts < `max_attempts`, else become failed.
  db::status recover(int max_attempts, recovery& out);

 private:
  struct statements;
  db::connection& c_;
  std::unique_ptr<statements> st_;
};

}  // namespace vpo::jobs
