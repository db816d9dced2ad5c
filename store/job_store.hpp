// job_store.hpp: the SQLite implementation of queue_store (jobs and files tables).
#pragma once

#include <memory>

#include "store/queue_store.hpp"

namespace vpo::store {

/// Prepared statements on one connection. Job transitions commit with synchronous=FULL (a job
/// the API acknowledged survives a power cut); scan batches with NORMAL (a lost batch is found
/// again by the next scan).
class job_store final : public queue_store {
 public:
  explicit job_store(db::connection& c);
  ~job_store() override;

  db::status insert(const job& j) override;
  db::status claim_next(long long worker_pid, std::optional<job>& out) override;
  db::status unclaim(const std::string& id, bool& changed) override;
  db::status finish(const std::string& id, const std::string& status,
                    const std::optional<std::string>& error,
                    const std::optional<std::string>& summary_json, bool& changed) override;
  db::status requeue(const std::string& id, const std::optional<std::string>& summary_json,
                     bool& changed) override;
  db::status cancel_queued(const std::string& id, bool& changed, std::optional<job>& now) override;
  db::status retry(const std::string& id, bool& changed, std::optional<job>& now) override;
  db::status find_active(const std::string& type, const std::string& path,
                         std::optional<job>& out) override;
  db::status purge_finished(const std::string& cutoff, int limit, long long& deleted) override;
  db::status recover(int max_attempts, recovery& out) override;
  db::status apply_scan_batch(const scan_batch& b, long long& missing_marked) override;
  db::status get(const std::string& id, std::optional<job>& out) override;
  db::status list(const list_filter& filter, std::vector<job>& out, long long& total) override;
  db::status counts(status_counts& out) override;
  db::status files(const files_filter& filter, std::vector<file_row>& out,
                   long long& total) override;
  db::status library(library_totals& out) override;
  /// Prepares every statement now (they are otherwise prepared at their first use): an error
  /// names the first that does not prepare, i.e. a schema this code does not match. The writer
  /// checks it before its first write; a statement that did not prepare never runs (its calls
  /// fail with the preparation's error).
  db::status prepared();

 private:
  struct statements;
  db::connection& c_;
  std::unique_ptr<statements> st_;
};

}  // namespace vpo::store
