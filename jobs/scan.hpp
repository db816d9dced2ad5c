// scan.hpp: the `scan` job: walks a directory tree in bounded steps and records video files.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "db/connection.hpp"
#include "logging/log.hpp"

namespace vpo::jobs {

/// The summary a scan writes (`summary_json`).
struct scan_summary {
  long long files_found = 0;
  long long files_new = 0;
  long long files_updated = 0;
  long long files_missing = 0;
  long long errors = 0;
  std::string to_json() const;
};

/// True for mkv, mp4, avi, webm, m4v, mov in any case.
bool is_video_file(const std::string& name);

/// One scan of `root`. The walk does not follow symlinks and skips names starting with '.';
/// unreadable folders are counted and logged, not fatal. Each step() writes its batch in one
/// transaction, so a stop between steps loses nothing. Not thread-safe (one worker owns it).
class scan_walk {
 public:
  scan_walk(db::connection& files_db, std::string root, std::string job_id, logging::logger log);
  ~scan_walk();
  scan_walk(const scan_walk&) = delete;
  scan_walk& operator=(const scan_walk&) = delete;

  /// Opens the root; an error (not a directory, unreadable) fails the job.
  db::status start();
  /// Walks until `budget` has passed or `max_entries` entries were seen. `done` turns true when
  /// the tree is finished (vanished files of this tree are then marked missing).
  db::status step(std::chrono::milliseconds budget, std::size_t max_entries, bool& done);
  /// A monotonic estimate, 0..100 (100 only when done).
  double progress() const;
  const scan_summary& summary() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace vpo::jobs
