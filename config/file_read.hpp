// file_read.hpp: reading a file that an operator (or an attacker with write access to a config
// path) points the daemon at: only a regular file, at most a size, within a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace vpo::config {

/// A config file larger than this is refused (vpo's own example is 5 KiB).
constexpr std::size_t max_config_bytes = 1024 * 1024;
/// Reading it may take this long (a hung network mount); then the read is abandoned.
constexpr std::chrono::milliseconds config_read_timeout{5000};

struct bounded_read {
  std::optional<std::string> content;  ///< the whole file, when it could be read
  int err = 0;                         ///< errno of a failed open or read (ENOENT: absent)
  std::string problem;                 ///< otherwise: what is wrong with it, in words
  std::string fix;                     ///< and what to do about it
};

/// Reads `path` whole when it is a regular file (after symlinks) of at most `max_bytes`. The
/// open never blocks (a FIFO is refused, not waited on) and the read runs on its own thread,
/// abandoned after `timeout` (that thread ends when the read does; the caller goes on).
bounded_read read_bounded_file(const std::string& path, std::size_t max_bytes,
                               std::chrono::milliseconds timeout);

/// "a FIFO", "a directory", "a character device", ... for a stat mode.
const char* file_kind(unsigned mode);

}  // namespace vpo::config
