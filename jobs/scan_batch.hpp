// scan_batch.hpp: what one step of a scan found, as the store applies it in one transaction.
#pragma once

#include <string>
#include <vector>

namespace vpo::jobs {

/// A video file as the library records it.
struct file_record {
  std::string path;
  std::string extension;    ///< lower case, without the dot
  std::string modified_at;  ///< mtime as RFC 3339 UTC (milliseconds)
  long long size = 0;
  long long mtime_ns = 0;  ///< mtime in nanoseconds since the epoch: exact, for change detection
};

/// One step's changes to the library plus the job's progress. Unchanged files are not in it.
struct scan_batch {
  std::string job_id;
  double progress = 0;
  std::string summary_json;          ///< the job's summary so far (kept if the job is interrupted)
  std::string scanned_at;            ///< RFC 3339 UTC, the scan's start
  std::vector<file_record> upserts;  ///< new files, changed files, files that came back
  std::vector<std::string> missing_paths;  ///< files gone from a listed or vanished folder
  bool empty() const { return upserts.empty() && missing_paths.empty(); }
};

}  // namespace vpo::jobs
