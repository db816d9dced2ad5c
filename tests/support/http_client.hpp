// http_client.hpp: a tiny blocking HTTP/1.1 client over loopback for tests, with timeouts.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace vpo::test {

struct http_reply {
  std::string status_line;  ///< e.g. "HTTP/1.1 200 OK"
  int status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const;
};

/// One TCP connection to 127.0.0.1:port; every call has a timeout (default 5 s).
class http_connection {
 public:
  explicit http_connection(std::uint16_t port);
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send_raw(const std::string& bytes);
  /// Sends a request (keep-alive) and reads the reply; nullopt on timeout or closed connection.
  std::optional<http_reply> request(const std::string& method, const std::string& target,
                                    const std::string& body = "",
                                    const std::string& extra_headers = "");
  /// Reads one reply (after send_raw); HEAD replies have no body.
  std::optional<http_reply> read_reply(bool head = false,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// True when the server closes the connection (EOF or reset) within the timeout.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  enum class read_result { more, closed, timeout };
  read_result read_more(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
};

/// GET on a fresh connection.
std::optional<http_reply> http_get(std::uint16_t port, const std::string& target);

/// A socket listening on 127.0.0.1 (a port in use) until destroyed.
class listener {
 public:
  listener();
  ~listener();
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  std::uint16_t port() const { return port_; }  ///< 0 when binding failed

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// A socket connected to 127.0.0.1:port whose receive window is a few KiB: a client that sends
/// requests and never reads the answers fills it at once. -1 when the connect fails.
int tiny_window_connection(std::uint16_t port);

/// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t free_port();

/// True when a TCP connect to 127.0.0.1:port is refused.
bool connection_refused(std::uint16_t port);

/// Polls `condition` every 20 ms until it holds or `timeout` passes (for states that can only
/// be observed by asking, like an HTTP status).
template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout);

}  // namespace vpo::test

#include <thread>

template <class F>
bool vpo::test::eventually(F condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}
