// errors.hpp: the one table from vpo's error kinds (util/error.hpp) to HTTP: status, default
// code and Retry-After. Every /api/* error answer is made here; net/ answers only HTTP-level
// faults itself (malformed requests, limits, its own timeouts). docs/errors.md.
#pragma once

#include <string>

#include "net/http_types.hpp"
#include "util/error.hpp"

namespace vpo::api {

/// How one kind of error is answered.
struct http_mapping {
  int status;
  const char* code;   ///< the default `code` of the answer (contract §6)
  int retry_after_s;  ///< Retry-After in seconds; 0: none
};

/// The table.
http_mapping http_mapping_of(errc kind);

/// The JSON error answer for `e`: the status and Retry-After from the table, `code` when given
/// (a more specific one the contract names: JOB_NOT_FOUND, PATH_CHECK_TIMEOUT, ...) else the
/// table's, `e.message` as the message. `retry_after_s` > 0 replaces the table's Retry-After.
net::http_response error_response(const vpo::error& e, const std::string& code = {},
                                  int retry_after_s = 0);

}  // namespace vpo::api
