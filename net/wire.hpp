// wire.hpp: what the session makes of the bytes it read, without a socket: the request the
// router and the actors see, and the answer to a request that could not be read. Shared by the
// server's sessions and the HTTP fuzzer. Includes Beast: only server.cpp and the fuzzer use it.
#pragma once

#include <boost/beast/http.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_types.hpp"

namespace vpo::net {

using wire_request = boost::beast::http::request<boost::beast::http::string_body>;

/// The request as the router and the actors see it (method, target, path, query, body,
/// Authorization, request id). The body is moved out of `req`.
http_request to_http_request(wire_request& req);

/// The client's X-Request-ID when it is usable as a log field and a header (1 to 128 of
/// `A-Z a-z 0-9 - _ . : / + =`), else "" (then the server makes one).
std::string usable_request_id(std::string_view sent);

/// A new request id: 32 hex digits.
std::string new_request_id();

/// The answer to a request that failed to parse: 431 (header block over the limit), 413 (body
/// over the limit), 400 (malformed). nullopt when the failure needs no answer (the client went
/// away or timed out): the connection just closes.
std::optional<http_response> read_error_response(const boost::system::error_code& ec);

/// Whether a header block of `bytes` is over `limit` (Beast's own check lets many small fields
/// through beyond it: the bytes the header took are the exact measure).
inline bool header_over_limit(std::size_t bytes, std::size_t limit) {
  return bytes > limit;
}

}  // namespace vpo::net
