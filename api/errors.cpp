// errors.cpp: the table from error kinds to HTTP answers.
#include "api/errors.hpp"

namespace vpo::api {

http_mapping http_mapping_of(errc kind) {
  switch (kind) {
    case errc::invalid:
      return {400, "INVALID_FIELD", 0};
    case errc::unauthorized:
      return {401, "UNAUTHORIZED", 0};
    case errc::not_found:
      return {404, "NOT_FOUND", 0};
    case errc::conflict:
    case errc::constraint:
    case errc::stale:
      return {409, "CONFLICT", 0};
    case errc::rate_limited:
      return {429, "RATE_LIMITED", 1};
    // The database (or the file system under it) cannot do it now; nothing changed.
    case errc::busy:
    case errc::unavailable:
    case errc::full:
    case errc::read_only:
    case errc::permission_denied:
    case errc::corrupt:
    case errc::io:
      return {503, "DATABASE_UNAVAILABLE", 2};
    case errc::timeout:
      return {503, "UNAVAILABLE", 2};
    case errc::overloaded:
      return {503, "OVERLOADED", 1};
    case errc::cancelled:
      return {503, "SHUTTING_DOWN", 1};
    case errc::internal:
      return {500, "INTERNAL_ERROR", 0};
  }
  return {500, "INTERNAL_ERROR", 0};
}

net::http_response error_response(const vpo::error& e, const std::string& code, int retry_after_s) {
  auto kind =
      e.code.category() == vpo_category() ? static_cast<errc>(e.code.value()) : errc::internal;
  auto m = http_mapping_of(kind);
  auto res = net::json_error(m.status, code.empty() ? m.code : code, e.message);
  int retry = retry_after_s > 0 ? retry_after_s : m.retry_after_s;
  if (retry > 0) res.headers.emplace_back("Retry-After", std::to_string(retry));
  if (kind == errc::unauthorized) res.headers.emplace_back("WWW-Authenticate", "Bearer");
  return res;
}

}  // namespace vpo::api
