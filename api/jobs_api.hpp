// jobs_api.hpp: the `/api/jobs` HTTP surface: request -> job_query, job_answer -> response.
// Pure functions (no CAF, no Beast), so every error case is unit-testable.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "jobs/job.hpp"
#include "net/http_types.hpp"
#include "util/error.hpp"

namespace vpo::api {

/// What the gateway asks job_queue.
struct job_query {
  enum class op { create, list, get, cancel, retry, files, library } what = op::list;
  jobs::job_spec spec;          ///< create
  std::string id;               ///< get, cancel
  std::string status;           ///< list filter; empty = any
  std::string type;             ///< list filter; empty = any
  int limit = 100;              ///< list
  long long offset = 0;         ///< list, files: matches skipped
  std::optional<bool> missing;  ///< files filter; unset = both
  std::string under;            ///< files filter: a folder (absolute, no trailing '/'); "" = all
  std::optional<std::string> after;  ///< files: keyset paging, the paths after this one
  std::string before;                ///< list: keyset paging, the jobs older than this one
};

/// job_queue's answer: a success (`result`) with its data, or `error` (its kind decides the
/// HTTP status through api/errors.hpp).
struct job_answer {
  enum class outcome { ok, created, accepted } result = outcome::ok;
  std::vector<jobs::job> jobs;
  std::vector<jobs::file_row> files;  ///< files
  jobs::library_totals library;       ///< library
  long long total = 0;
  vpo::error error;  ///< set: the request failed (nothing changed)
  std::string code;  ///< with error: the contract's specific code (JOB_NOT_FOUND, ...), or ""
};

/// A failed answer of this kind, with the contract's `code` ("" for the table's default).
job_answer failed_answer(errc kind, std::string message, std::string code = {});

/// Parses an `/api/...` request into a query, or returns the error response (400, 404, 405).
/// Touches no file system: job_queue checks that a scan's directory exists.
std::variant<job_query, net::http_response> parse_job_request(const net::http_request& r);

/// Renders an answer (201/200/202 with the job or list; 404, 409, 503, 500 errors).
net::http_response render_job_answer(const job_query& q, const job_answer& a);

/// One job as the contract's JSON object.
std::string job_json(const jobs::job& j);

/// True when `header` is exactly `Bearer <token>` (constant-time in the token's length).
bool bearer_matches(const std::string& header, const std::string& token);

}  // namespace vpo::api
