// in_flight_request.hpp: an API request held open (headers sent, body not): it keeps a drain
// from ending until the test finishes it.
#pragma once

#include <optional>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"

namespace vpo::test {

/// The daemon must run with --log-level debug: its "request started" record is the event that
/// proves the server has the headers.
struct in_flight_request {
  explicit in_flight_request(daemon_process& d);
  /// Sends the rest of the body and reads the answer.
  std::optional<http_reply> finish();
  http_connection conn;
};

}  // namespace vpo::test
