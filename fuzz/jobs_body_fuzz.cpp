// jobs_body_fuzz.cpp: the jobs API's request parser on any body and query: an answer is valid
// JSON; an accepted submission is a scan of an absolute path without control characters and a
// priority in 0..1000.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/jobs_api.hpp"
#include "fuzz/fuzz_check.hpp"

using namespace vpo;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  // First line: the query string of a GET /api/jobs (and the id of a job); the rest: a body.
  auto nl = input.find('\n');
  std::string query = input.substr(0, nl);
  std::string body = nl == std::string::npos ? "" : input.substr(nl + 1);

  net::http_request post{"POST", "/api/jobs", "/api/jobs", "", body, "", "fuzz", "127.0.0.1"};
  auto created = api::parse_job_request(post);
  if (auto* res = std::get_if<net::http_response>(&created)) {
    fuzz::check_response(*res);
  } else {
    const auto& q = std::get<api::job_query>(created);
    if (q.what != api::job_query::op::create) fuzz::violated("POST is not a create", body);
    if (q.spec.type != "scan") fuzz::violated("accepted type", q.spec.type);
    if (q.spec.path.empty() || q.spec.path[0] != '/') fuzz::violated("relative path", body);
    for (unsigned char c : q.spec.path)
      if (c < 0x20 || c == 0x7f) fuzz::violated("control character in path", body);
    if (q.spec.priority < 0 || q.spec.priority > 1000) fuzz::violated("priority", body);
  }
  net::http_request list{"GET",  "/api/jobs?" + query, "/api/jobs", query, "", "",
                         "fuzz", "127.0.0.1"};
  auto listed = api::parse_job_request(list);
  if (auto* res = std::get_if<net::http_response>(&listed)) fuzz::check_response(*res);
  net::http_request files{"GET",      "/api/files?" + query, "/api/files", query, "", "", "fuzz",
                          "127.0.0.1"};
  auto filtered = api::parse_job_request(files);
  if (auto* res = std::get_if<net::http_response>(&filtered)) {
    fuzz::check_response(*res);
  } else {
    const auto& q = std::get<api::job_query>(filtered);
    if (!q.under.empty() && q.under[0] != '/') fuzz::violated("relative under", query);
    for (unsigned char c : q.under)
      if (c < 0x20 || c == 0x7f) fuzz::violated("control character in under", query);
    if (q.limit < 1 || q.limit > 1000) fuzz::violated("limit", query);
  }
  for (const char* suffix : {"", "/cancel", "/retry"}) {
    std::string path = "/api/jobs/" + query + suffix;
    net::http_request one{*suffix ? "POST" : "GET", path, path, "", "", "", "fuzz", "127.0.0.1"};
    auto parsed = api::parse_job_request(one);
    if (auto* res = std::get_if<net::http_response>(&parsed)) fuzz::check_response(*res);
  }
  return 0;
}
