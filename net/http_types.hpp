// http_types.hpp: plain request/response values that cross from net/ to the actors (no Beast).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vpo::net {

/// A complete request as the actors see it.
struct http_request {
  std::string method;  ///< e.g. "GET"
  std::string target;  ///< path and query, as sent
  std::string path;    ///< target without the query string
  std::string query;   ///< after '?', may be empty
  std::string body;
  std::string authorization;   ///< the Authorization header, may be empty
  std::string request_id;      ///< X-Request-ID as sent when usable, else generated (never empty)
  std::string client_address;  ///< the peer's IP address (API requests; rate limits key on it)
};

/// A response; `headers` are extra fields (Allow, Retry-After, WWW-Authenticate, ...).
struct http_response {
  int status = 200;
  std::string_view content_type = "application/json";  ///< always a string literal
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Delivers the response; callable from any thread, exactly once.
using reply_fn = std::function<void(http_response)>;
/// Handles a request asynchronously; must eventually call the reply_fn (a deadline guards it).
using request_handler = std::function<void(http_request, reply_fn)>;

/// `{"error": message, "code": code}` with the given status.
http_response json_error(int status, const std::string& code, const std::string& message);

/// Escapes a string for a JSON string literal (quotes not included).
std::string json_escape(const std::string& text);

}  // namespace vpo::net
