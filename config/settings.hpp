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

/// The HTTP server's settings (config section `[server]`).
struct server_settings {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8321;
  double shutdown_timeout = 30.0;         ///< seconds, > 0
  std::optional<std::string> auth_token;  ///< secret; never logged or printed
  bool allow_unauthenticated = false;
};

/// Logging settings (config section `[logging]`).
struct logging_settings {
  log_level level = log_level::info;
  log_format format = log_format::text;
};

/// Job execution settings (config section `[jobs]`).
struct jobs_settings {
  int workers = 2;  ///< 1..64
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
