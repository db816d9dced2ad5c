// daemon.hpp: starts the real `vpo serve` on a free loopback port in a private HOME.
#pragma once

#include <signal.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace vpo::test {

/// The text of the record that marks the end of start-up.
inline const char* ready_line = "vpo.supervisor: ready";

class daemon_process {
 public:
  daemon_process();
  /// Starts `vpo serve --port <port> <args>` with HOME=home() plus `env`.
  void start(std::vector<std::string> args = {}, std::map<std::string, std::string> env = {});
  /// start() and wait for the ready record (false: did not become ready in 10 s).
  bool start_ready(std::vector<std::string> args = {}, std::map<std::string, std::string> env = {});
  process& proc() { return *proc_; }
  std::uint16_t port() const { return port_; }
  const temp_dir& home() const { return home_; }
  std::string db_path() const { return home_.path() + "/.vpo/library.db"; }
  /// Keeps a copy of the database, then atomically replaces the file with garbage (rename).
  void replace_database_with_garbage();
  /// Puts the copy made by replace_database_with_garbage() back in place (rename).
  void restore_database();
  /// Sends a signal and waits for the exit code (nullopt after `timeout`).
  std::optional<int> stop(int signo, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  temp_dir home_;
  std::uint16_t port_;
  std::unique_ptr<process> proc_;
};

/// Options to run `vpo <args>` once with HOME=home.
process_options vpo_command(const temp_dir& home, std::vector<std::string> args,
                            std::map<std::string, std::string> env = {});

}  // namespace vpo::test
