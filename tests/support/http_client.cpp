// http_client.cpp: raw-socket HTTP client with poll() timeouts.
#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace vpo::test {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string http_reply::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

http_connection::http_connection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

http_connection::~http_connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool http_connection::send_raw(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads more bytes: `more` when some arrived, `closed` on EOF or error, `timeout` at the deadline.
http_connection::read_result http_connection::read_more(
    std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
  if (left <= 0) return read_result::timeout;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left)) <= 0) return read_result::timeout;
  char buf[8192];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return read_result::closed;
  buffer_.append(buf, static_cast<std::size_t>(n));
  return read_result::more;
}

std::optional<http_reply> http_connection::read_reply(bool head,
                                                      std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (read_more(deadline) != read_result::more) return std::nullopt;
  http_reply r;
  std::string head_block = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  std::size_t line_end = head_block.find("\r\n");
  std::string status_line = head_block.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;
  r.status = std::atoi(status_line.c_str() + 9);
  r.status_line = status_line;
  std::size_t pos = line_end == std::string::npos ? head_block.size() : line_end + 2;
  while (pos < head_block.size()) {
    std::size_t e = head_block.find("\r\n", pos);
    if (e == std::string::npos) e = head_block.size();
    std::string line = head_block.substr(pos, e - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[lower(line.substr(0, colon))] = value;
    }
    pos = e + 2;
  }
  std::size_t length = head ? 0 : std::strtoull(r.header("content-length").c_str(), nullptr, 10);
  while (buffer_.size() < length)
    if (read_more(deadline) != read_result::more) return std::nullopt;
  r.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return r;
}

std::optional<http_reply> http_connection::request(const std::string& method,
                                                   const std::string& target,
                                                   const std::string& body,
                                                   const std::string& extra_headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
  if (!body.empty() || method == "POST")
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  if (!send_raw(req)) return std::nullopt;
  return read_reply(method == "HEAD");
}

bool http_connection::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  read_result r;
  while ((r = read_more(deadline)) == read_result::more) {
  }
  return r == read_result::closed;
}

std::optional<http_reply> http_get(std::uint16_t port, const std::string& target) {
  http_connection c(port);
  if (!c.connected()) return std::nullopt;
  return c.request("GET", target);
}

listener::listener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(0);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 1) == 0) {
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
}

listener::~listener() {
  ::close(fd_);
}

int tiny_window_connection(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::uint16_t free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(0);
  ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(s);
  return ntohs(addr.sin_port);
}

bool connection_refused(std::uint16_t port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(port);
  int rc = ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::close(s);
  return rc != 0 && err == ECONNREFUSED;
}

}  // namespace vpo::test
