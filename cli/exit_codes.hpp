// exit_codes.hpp: the process exit codes of the contract (§6).
#pragma once

namespace vpo::cli::exit_code {

constexpr int ok = 0;               ///< drained cleanly, or `--check` passed
constexpr int startup_failure = 1;  ///< config, database, lock or bind failure; `--check` failed
constexpr int usage = 2;            ///< unknown flag or invalid flag value
/// Drain deadline reached or SIGQUIT: 128 + the signal number (130, 131, 143).
constexpr int forced(int signo) {
  return 128 + signo;
}

}  // namespace vpo::cli::exit_code
