// job.cpp: status names, UUIDs and timestamps for jobs.
#include "jobs/job.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>

#include "logging/formatter.hpp"

namespace vpo::jobs {

bool is_status(const std::string& s) {
  return s == status_name::queued || s == status_name::running || is_finished(s);
}

bool is_finished(const std::string& s) {
  return s == status_name::completed || s == status_name::failed || s == status_name::cancelled;
}

std::string new_uuid() {
  static std::mutex mutex;
  static std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t hi, lo;
  {
    std::lock_guard<std::mutex> lock(mutex);
    hi = rng();
    lo = rng();
  }
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

std::string now_rfc3339() {
  return logging::rfc3339_ms(std::chrono::system_clock::now());
}

}  // namespace vpo::jobs
