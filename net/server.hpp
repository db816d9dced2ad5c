// server.hpp: the HTTP/1.1 server (Boost.Beast behind a pimpl, so callers never include Beast).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/health.hpp"
#include "net/http_types.hpp"

namespace vpo::net {

/// Limits and threads; the defaults are the contract's.
struct server_options {
  std::size_t max_connections = 1024;
  std::uint32_t header_limit = 16 * 1024;
  std::uint64_t body_limit = 1024 * 1024;
  std::chrono::milliseconds read_timeout{30000};  ///< to receive one whole request
  std::chrono::milliseconds idle_timeout{60000};  ///< keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds handler_timeout{30000};  ///< an API handler's reply deadline
  std::chrono::milliseconds livez_timeout{1000};     ///< the actor system must answer by then
};

/// Callbacks into the actor world; all are called on the io thread and must not block.
struct server_hooks {
  request_handler api;            ///< `/api/...` requests
  request_handler livez;          ///< must reply 200 when the actor system answers
  std::function<void()> drained;  ///< called when draining and no request is in flight
  /// Called when a handler on the io thread threw (a defect): the exception's text. The io
  /// thread goes on serving; the owner is expected to stop the daemon cleanly.
  std::function<void(const std::string& what)> failed;
};

class server {
 public:
  server(server_hooks hooks, server_options options);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Resolves `host` and binds; returns "" or a complete error (what, address, OS reason, fix).
  std::string listen(const std::string& host, std::uint16_t port);
  /// Serves on a listening TCP socket systemd passed (socket activation) instead of binding;
  /// returns "" or a complete error (the fd is not a listening TCP socket).
  std::string adopt(int fd);
  /// Starts accepting on the io thread. One thread serves every connection: its handlers never
  /// run concurrently, so sessions need no strand and the io thread owns the snapshot.
  void run();
  /// Replaces the snapshot /health and /readyz answer from (any thread: it is handed to the io
  /// thread, which alone reads it, without a lock).
  void publish(health_snapshot snapshot);
  /// Drain: close the listener, close idle connections, answer in-flight requests with
  /// `Connection: close`; `hooks.drained` fires once nothing is in flight. Idempotent.
  void begin_drain();
  /// Force: close every connection now.
  void close_all();
  std::size_t requests_in_flight() const;
  /// True when the bound address is a loopback address (127.0.0.0/8, ::1).
  bool bound_to_loopback() const;
  /// "address:port" actually bound.
  std::string local_endpoint() const;
  /// Stops the io threads and joins them.
  void stop();
  /// Runs `f` on an io thread (never, once stopped): proof that the io thread still turns.
  void on_io_thread(std::function<void()> f);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace vpo::net
