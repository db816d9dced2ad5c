// rate_limit.cpp: fixed windows per client address, swept as the table grows.
#include "net/rate_limit.hpp"

#include <algorithm>

namespace vpo::net {

int rate_limiter::admit(const std::string& client, bool mutate, clock::time_point now) {
  if (!settings_.enabled) return 0;
  const auto length = std::chrono::seconds(settings_.window_seconds);
  if (windows_.size() >= sweep_at_) sweep(now);
  auto& w = windows_[client];
  if (w.start == clock::time_point{} || now - w.start >= length) w = {now, 0, 0};
  std::int32_t& used = mutate ? w.writes : w.reads;
  std::int32_t limit = mutate ? settings_.mutate_max_requests : settings_.get_max_requests;
  if (used < limit) {
    ++used;
    return 0;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(w.start + length - now);
  return static_cast<int>(std::max<long long>(1, (left.count() + 999) / 1000));
}

// Drops the windows that ended; the next sweep waits until the table doubles again, so a sweep
// costs O(1) per request on average however many clients come and go.
void rate_limiter::sweep(clock::time_point now) {
  const auto length = std::chrono::seconds(settings_.window_seconds);
  for (auto it = windows_.begin(); it != windows_.end();)
    it = now - it->second.start >= length ? windows_.erase(it) : std::next(it);
  sweep_at_ = std::max<std::size_t>(1024, windows_.size() * 2);
}

}  // namespace vpo::net
