// http.hpp: the vpo client's one HTTP call (Beast lives in http.cpp only).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace vpo::cli::client {

/// Where the daemon is: `http://host:port`, parsed.
struct endpoint {
  std::string url;   ///< as shown to the user, without a trailing '/'
  std::string host;  ///< a name or an address (IPv6 without brackets)
  std::string port;
};

/// Parses `http://host[:port][/]`; nullopt and `why` when it is not such a URL.
std::optional<endpoint> parse_url(const std::string& text, std::string& why);

/// One answered (or not) request.
struct response {
  bool reached = false;  ///< false: no HTTP answer (refused, timed out, reset); see `error`
  /// Something answered, but not with HTTP a vpo daemon sends (garbled, truncated, or larger
  /// than `max_answer_bytes`): `reached` is false and `error` says what was wrong.
  bool malformed = false;
  std::string error;  ///< why it was not reached, in words
  int status = 0;
  std::string body;
  std::string retry_after;  ///< the Retry-After header, if any
};

/// The largest answer body the client reads (a page of 1,000 jobs is well under 1 MiB).
constexpr std::uint64_t max_answer_bytes = 16u << 20;

/// Sends one request (`Connection: close`) and waits at most `timeout` for the whole answer.
response call(const endpoint& at, const std::string& method, const std::string& target,
              const std::string& body, const std::optional<std::string>& token,
              std::chrono::milliseconds timeout);

}  // namespace vpo::cli::client
