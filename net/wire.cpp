// wire.cpp: request conversion and read-error answers (see wire.hpp).
#include "net/wire.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

namespace vpo::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

http_request to_http_request(wire_request& req) {
  http_request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  r.body = std::move(req.body());
  r.authorization = std::string(req[http::field::authorization]);
  return r;
}

std::optional<http_response> read_error_response(const boost::system::error_code& ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::eof)
    return std::nullopt;
  if (ec == http::error::header_limit)
    return json_error(431, "HEADERS_TOO_LARGE", "request header block exceeds 16 KiB");
  if (ec == http::error::body_limit)
    return json_error(413, "PAYLOAD_TOO_LARGE", "request body is larger than 1 MiB");
  return json_error(400, "BAD_REQUEST", "malformed HTTP request: " + ec.message());
}

}  // namespace vpo::net
