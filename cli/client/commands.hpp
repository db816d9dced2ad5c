// commands.hpp: the client commands (`vpo status`, `jobs ...`, `scan`, `files`): each asks the
// running daemon over its HTTP API and prints a table, or with --json the API's JSON unchanged.
#pragma once

#include <optional>
#include <string>

namespace vpo::cli::client {

/// The options every client command takes, and each command's own.
struct options {
  std::optional<std::string> config;  ///< -c/--config (finds server.bind/port and the token)
  std::optional<std::string> url;     ///< --url (else VPO_URL, else the config layers)
  bool json = false;
  std::string timeout = "5";  ///< --timeout SECONDS, per request

  // jobs list / files
  std::string status, type;
  std::string limit, offset;
  // jobs show|cancel|retry
  std::string id;
  // scan
  std::string dir;
  std::string priority;
  bool wait = false;
  // files
  bool missing = false;
  std::string under;
};

/// Runs `command` ("status", "jobs list", "jobs show", "jobs cancel", "jobs retry", "scan",
/// "files"); returns the exit code: 0 done; 1 the daemon answered an error (or, for `status`, is
/// not healthy; for `scan --wait`, the job did not complete); 2 usage; 3 the daemon cannot be
/// reached.
int run(const std::string& command, const options& o);

}  // namespace vpo::cli::client
