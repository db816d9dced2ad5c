// http.cpp: Beast's HTTP/1.1 client with one deadline for resolve, connect, write and read.
#include "cli/client/http.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>

#include "version.hpp"

namespace vpo::cli::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string describe(const beast::error_code& ec) {
  if (ec == asio::error::connection_refused)
    return "connection refused (nothing listens on that address and port)";
  if (ec == beast::error::timeout) return "";  // the caller words the timeout
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again)
    return "the host name does not resolve";
  if (ec == http::error::end_of_stream || ec == asio::error::eof)
    return "the connection closed before an answer came";
  return ec.message();
}

}  // namespace

std::optional<endpoint> parse_url(const std::string& text, std::string& why) {
  const std::string scheme = "http://";
  if (text.rfind("https://", 0) == 0) {
    why =
        "https is not supported: vpo serves plain HTTP (put a TLS proxy in front and use "
        "http:// to reach vpo itself)";
    return std::nullopt;
  }
  if (text.rfind(scheme, 0) != 0) {
    why = "it must start with http:// (e.g. http://127.0.0.1:8321)";
    return std::nullopt;
  }
  std::string rest = text.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) {
    why = "it must name only a host and a port (http://HOST:PORT), no path";
    return std::nullopt;
  }
  endpoint ep;
  std::string hostport = rest;
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    if (close == std::string::npos) {
      why = "an IPv6 address must be in brackets: http://[::1]:8321";
      return std::nullopt;
    }
    ep.host = hostport.substr(1, close - 1);
    std::string after = hostport.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      why = "expected ':PORT' after the IPv6 address";
      return std::nullopt;
    }
    ep.port = after.empty() ? "80" : after.substr(1);
  } else {
    auto colon = hostport.rfind(':');
    if (colon != std::string::npos && hostport.find(':') != colon) {
      why = "an IPv6 address must be in brackets: http://[::1]:8321";
      return std::nullopt;
    }
    ep.host = hostport.substr(0, colon);
    ep.port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  }
  bool digits = !ep.port.empty() && ep.port.size() <= 5 &&
                ep.port.find_first_not_of("0123456789") == std::string::npos;
  if (ep.host.empty() || !digits || std::stol(ep.port) < 1 || std::stol(ep.port) > 65535) {
    why = "it must be http://HOST:PORT with a port from 1 to 65535";
    return std::nullopt;
  }
  ep.url = scheme + rest;
  return ep;
}

response call(const endpoint& at, const std::string& method, const std::string& target,
              const std::string& body, const std::optional<std::string>& token,
              std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, at.host + ":" + at.port);
  req.set(http::field::user_agent, std::string("vpo/") + VPO_VERSION);
  req.set(http::field::connection, "close");
  if (token) req.set(http::field::authorization, "Bearer " + *token);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_answer_bytes);
  parser.header_limit(64 * 1024);
  response out;
  bool done = false;
  auto fail = [&](beast::error_code ec) {
    out.error = describe(ec);
    done = true;
  };
  stream.expires_after(timeout);
  resolver.async_resolve(
      at.host, at.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
        if (ec) return fail(ec);
        stream.async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
          if (ec2) return fail(ec2);
          http::async_write(stream, req, [&](beast::error_code ec3, std::size_t) {
            if (ec3) return fail(ec3);
            http::async_read(stream, buffer, parser, [&](beast::error_code ec4, std::size_t) {
              // An answer that is not HTTP, or is cut short, or is too big, came from something
              // that listens: it is an answer error (exit 1), not an unreachable daemon (exit 3).
              // A connection closed before any byte stays "not reached".
              if (ec4 &&
                  ec4.category() == beast::error_code(http::error::end_of_stream).category() &&
                  ec4 != http::error::end_of_stream) {
                out.malformed = true;
                out.error = ec4 == http::error::body_limit
                                ? "its answer is larger than " +
                                      std::to_string(max_answer_bytes >> 20) +
                                      " MiB, more than a vpo daemon sends"
                                : "its answer is not valid HTTP (" + ec4.message() + ")";
                done = true;
                return;
              }
              if (ec4) return fail(ec4);
              auto& res = parser.get();
              out.reached = true;
              out.status = static_cast<int>(res.result_int());
              out.body = std::move(res.body());
              if (auto it = res.find(http::field::retry_after); it != res.end())
                out.retry_after = std::string(it->value());
              done = true;
            });
          });
        });
      });
  ioc.run_for(timeout + std::chrono::milliseconds(100));  // resolving has no stream timeout
  if (!done || (!out.reached && out.error.empty())) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", static_cast<double>(timeout.count()) / 1000.0);
    out.error = std::string("no answer within ") + secs + " s (--timeout)";
  }
  return out;
}

}  // namespace vpo::cli::client
