// process.hpp: starts a real child process with captured stdout/stderr, signals and awaits it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace vpo::test {

struct process_options {
  std::vector<std::string> args;           ///< args[0] is the program path
  std::map<std::string, std::string> env;  ///< added to a clean environment
  std::string cwd;                         ///< empty: inherit
  /// The child's stderr is this fd instead of a pipe when >= 0 (e.g. a closed pipe's end).
  int stderr_fd = -1;
  /// When set (and we are root), the child runs as this uid/gid (e.g. 65534, nobody).
  std::optional<unsigned> run_as_uid;
};

/// A running child. The destructor kills it (SIGKILL) if it is still alive.
/// The child's environment is the parent's minus VPO_*, JOURNAL_STREAM and NOTIFY_SOCKET,
/// plus `env`; HOME defaults to a value the test passes explicitly.
class process {
 public:
  explicit process(process_options options);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signo) const;
  /// Exit code (128 + signal when killed by one), or nullopt when still running at the timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  /// Waits until stderr contains `needle`; false at the timeout or when the process ended first.
  bool wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout);
  std::string out() const;
  std::string err() const;

 private:
  void reader(int fd, std::string* sink);

  pid_t pid_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string out_, err_;
  std::optional<int> exit_code_;
  int open_pipes_ = 0;
  std::vector<std::thread> threads_;
};

/// Starts, waits up to `timeout` (killing it then) and returns code, stdout and stderr.
struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};
run_result run(process_options options,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(20000));

}  // namespace vpo::test
