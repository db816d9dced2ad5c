// wire.cpp: request conversion and read-error answers (see wire.hpp).
#include "net/wire.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <cstdint>
#include <cstdio>
#include <random>

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
  auto sent = req["X-Request-ID"];
  r.request_id = usable_request_id(std::string_view(sent.data(), sent.size()));
  if (r.request_id.empty()) r.request_id = new_request_id();
  return r;
}

bool usable_request_id(std::string_view sent, std::string& out) {
  out.clear();
  if (sent.empty() || sent.size() > 128) return false;
  for (char c : sent) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=';
    if (!ok) return false;
  }
  out.assign(sent);
  return true;
}

std::string usable_request_id(std::string_view sent) {
  std::string out;
  usable_request_id(sent, out);
  return out;
}

void new_request_id(std::string& out) {
  // 64 random bits per thread-local generator: unique enough to find one request in the logs.
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::uint64_t words[2] = {gen(), gen()};
  static constexpr char hex[] = "0123456789abcdef";
  out.resize(32);
  for (int w = 0; w < 2; ++w)
    for (int i = 0; i < 16; ++i)
      out[static_cast<std::size_t>(w * 16 + i)] = hex[(words[w] >> (60 - 4 * i)) & 0xf];
}

std::string new_request_id() {
  std::string id;
  new_request_id(id);
  return id;
}

std::optional<http_response> header_rule_violation(const wire_request& req) {
  auto bad = [](const std::string& why) {
    return json_error(400, "BAD_REQUEST", "malformed HTTP request: " + why);
  };
  auto te = req.count(http::field::transfer_encoding);
  if (te > 1) return bad("more than one Transfer-Encoding header");
  if (te == 1) {
    auto v = req[http::field::transfer_encoding];
    // Exactly "chunked": a leading space is what an obs-folded value leaves after Beast unfolds
    // it; a list (identity, chunked) or another coding is not spoken here.
    if (!beast::iequals(v, "chunked"))
      return bad(
          "Transfer-Encoding must be exactly 'chunked' (no list, no other coding, no "
          "line folding)");
  }
  if (req.version() >= 11 && req.count(http::field::host) != 1)
    return bad(req.count(http::field::host) == 0 ? "an HTTP/1.1 request needs a Host header"
                                                 : "more than one Host header");
  if (req.count(http::field::authorization) > 1) return bad("more than one Authorization header");
  return std::nullopt;
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
