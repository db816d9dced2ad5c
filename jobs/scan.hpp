// scan.hpp: the `scan` job's directory walk, in bounded steps. It reads the library through its
// own connection and writes nothing: each step hands its changes over as a scan_batch, which the
// store applies (one writer per database).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "db/connection.hpp"
#include "jobs/scan_batch.hpp"
#include "logging/log.hpp"

namespace vpo::jobs {

/// The summary a scan writes (`summary_json`), also for a cancelled or interrupted scan.
struct scan_summary {
  long long files_found = 0;
  long long files_new = 0;
  long long files_updated = 0;
  long long files_missing = 0;
  long long errors = 0;  ///< folders that could not be read (nothing below them turned missing)
  long long folders = 0;
  std::string to_json() const;
};

/// True for mkv, mp4, avi, webm, m4v, mov in any case.
bool is_video_file(const std::string& name);
bool is_video_name(const char* name, std::size_t len);

/// One scan of `root`. Helper threads list the tree (folder_lister: readdir, fstatat); the
/// walk compares each folder's listing with the folder's known files (a range of the library's
/// paths) and hands over the difference (new, changed, gone) in batches. The walk does not follow
/// symlinks, skips names starting with '.', never visits a folder twice (device and inode), and
/// marks nothing missing below a folder it could not read. A subfolder the library knows that a
/// folder's listing no longer has is a vanished subtree: its files turn missing. Not thread-safe.
class scan_walk {
 public:
  scan_walk(db::connection& library, std::string root, std::string job_id, logging::logger log);
  ~scan_walk();
  scan_walk(const scan_walk&) = delete;
  scan_walk& operator=(const scan_walk&) = delete;

  /// Checks the root (an error fails the job) and reads how many files the library knows
  /// under it (the basis of the progress).
  db::status start();
  /// Walks until `budget` has passed, `max_entries` entries were listed or `out` holds
  /// `max_changes` changes. `done` turns true when the tree is finished and nothing is left to
  /// hand over. `out` gets the job's progress.
  db::status step(std::chrono::milliseconds budget, std::size_t max_entries,
                  std::size_t max_changes, scan_batch& out, bool& done);
  /// What the store reported for a batch: how many files it marked missing.
  void add_missing(long long n);
  /// Monotonic, 0..100 (100 only when done): the share of the files the library knew under the
  /// root that were seen again, or, for a tree never scanned, the share of the tree walked.
  double progress() const;
  const scan_summary& summary() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace vpo::jobs
