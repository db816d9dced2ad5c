// rate_limit.hpp: per-client request limits on /api/* (`[server.rate_limit]`), fixed windows.
// Plain state owned by one thread (the http_gateway actor); no Beast, no CAF.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "config/settings.hpp"

namespace vpo::net {

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  explicit rate_limiter(config::rate_limit_settings s = {}) : settings_(s) {}
  /// New limits apply to the next request; counts already made in this window are kept.
  void configure(const config::rate_limit_settings& s) { settings_ = s; }

  /// Counts one request from `client`; returns 0 when it may go on, else the whole seconds
  /// (at least 1) until its window ends (the 429's Retry-After). `mutate`: not GET/HEAD.
  int admit(const std::string& client, bool mutate, clock::time_point now);

  /// Clients tracked (expired windows are dropped as the table grows).
  std::size_t tracked() const { return windows_.size(); }

 private:
  struct window {
    clock::time_point start;
    std::int32_t reads = 0;
    std::int32_t writes = 0;
  };
  void sweep(clock::time_point now);

  config::rate_limit_settings settings_;
  std::unordered_map<std::string, window> windows_;
  std::size_t sweep_at_ = 1024;  // the table size that triggers the next sweep
};

}  // namespace vpo::net
