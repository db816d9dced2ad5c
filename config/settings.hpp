// settings.hpp: the plain value structs that hold vpo's effective configuration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vpo::config {

/// Log verbosity, ordered from most to least verbose.
enum class log_level { debug, info, warning, error };

/// Log line layout on stderr.
enum class log_format { text, json };

/// Per-client request limits on `/api/*` (config section `[server.rate_limit]`, as VPO's).
struct rate_limit_settings {
  bool enabled = true;
  int get_max_requests = 120;    ///< GET/HEAD requests per window per client address
  int mutate_max_requests = 30;  ///< other methods (POST, ...) per window per client address
  int window_seconds = 60;
};

/// The HTTP server's settings (config section `[server]`).
struct server_settings {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8321;
  double shutdown_timeout = 30.0;         ///< seconds, > 0
  std::optional<std::string> auth_token;  ///< secret; never logged or printed
  bool allow_unauthenticated = false;
  rate_limit_settings rate_limit;
};

/// Logging settings (config section `[logging]`).
struct logging_settings {
  log_level level = log_level::info;
  log_format format = log_format::text;
};

/// Job execution settings (config section `[jobs]`).
struct jobs_settings {
  int workers = 2;          ///< 1..64
  int retention_days = 30;  ///< finished jobs older than this are deleted; 0 keeps everything
  bool auto_purge = true;   ///< false: never delete finished jobs
};

/// Everything `vpo serve` needs once configuration is loaded; actors receive copies of these.
struct settings {
  std::string database_path;  ///< absolute or relative to the working directory
  server_settings server;
  logging_settings logging;
  jobs_settings jobs;
};

/// Lower-case name of a level as the contract spells it (`debug`, `info`, `warning`, `error`).
const char* to_string(log_level level);
/// Name of a format (`text`, `json`).
const char* to_string(log_format format);

}  // namespace vpo::config
