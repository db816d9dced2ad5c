// job.hpp: a job as a plain value, and the request that creates one.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vpo::jobs {

/// Job statuses as stored and shown.
namespace status_name {
inline const char* queued = "queued";
inline const char* running = "running";
inline const char* completed = "completed";
inline const char* failed = "failed";
inline const char* cancelled = "cancelled";
}  // namespace status_name

/// True for one of the five statuses.
bool is_status(const std::string& s);
/// completed, failed or cancelled.
bool is_finished(const std::string& status);

/// What a client asks for (validated before it reaches the store).
struct job_spec {
  std::string type;    ///< "scan"
  std::string path;    ///< absolute directory
  int priority = 100;  ///< 0..1000, lower runs first
};

/// One row of the jobs table.
struct job {
  std::string id;
  std::string type;
  std::string status = status_name::queued;
  int priority = 100;
  std::string path;
  double progress_percent = 0;
  int attempts = 0;
  std::string created_at;
  std::optional<std::string> started_at;
  std::optional<std::string> completed_at;
  std::optional<std::string> error;
  std::optional<std::string> summary_json;  ///< a JSON object as text
};

/// One row of the library, as `GET /api/files` shows it.
struct file_row {
  std::string path;
  long long size = 0;
  std::string modified_at;
  bool missing = false;
  std::optional<std::string> missing_since;
  std::string scanned_at;
};
/// The library's totals, as `GET /api/library` shows them.
struct library_totals {
  long long files = 0, missing = 0, bytes = 0;                  ///< bytes: of the files not missing
  std::vector<std::pair<std::string, long long>> by_extension;  ///< every row, by extension
  std::optional<std::string> last_scan_at;  ///< the newest completed scan (or file scanned)
};

/// A new random (version 4) UUID in canonical text form.
std::string new_uuid();

/// Now as RFC 3339 UTC with milliseconds (`2026-11-22T01:02:03.456Z`).
std::string now_rfc3339();

}  // namespace vpo::jobs
