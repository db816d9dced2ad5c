// fuzz_check.hpp: what every fuzz target asserts: a violated property aborts (a finding).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "net/http_types.hpp"

namespace vpo::fuzz {

[[noreturn]] inline void violated(const char* what, const std::string& detail) {
  std::fprintf(stderr, "property violated: %s\n%s\n", what, detail.c_str());
  std::abort();
}

/// Every JSON answer is one valid JSON object (valid UTF-8 included) with a sane status; an
/// error answer (`error_shape`, every 4xx/5xx but /health's) has `error` and `code`.
inline void check_response(const net::http_response& r, bool error_shape = true) {
  if (r.status < 200 || r.status > 599) violated("status out of range", std::to_string(r.status));
  if (r.content_type.substr(0, 16) != "application/json") return;
  if (!nlohmann::json::accept(r.body)) violated("body is not valid JSON", r.body);
  auto j = nlohmann::json::parse(r.body);
  if (!j.is_object()) violated("body is not a JSON object", r.body);
  if (error_shape && r.status >= 400 && (!j.contains("error") || !j.contains("code")))
    violated("error body without error and code", r.body);
}

}  // namespace vpo::fuzz
