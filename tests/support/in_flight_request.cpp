// in_flight_request.cpp: POST /api/hold with half its body.
#include "tests/support/in_flight_request.hpp"

#include <catch2/catch.hpp>

namespace vpo::test {

in_flight_request::in_flight_request(daemon_process& d) : conn(d.port()) {
  REQUIRE(conn.send_raw("POST /api/hold HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234"));
  REQUIRE(d.proc().wait_for_stderr("path=/api/hold", std::chrono::seconds(5)));
}

std::optional<http_reply> in_flight_request::finish() {
  if (!conn.send_raw("56789")) return std::nullopt;
  return conn.read_reply();
}

}  // namespace vpo::test
