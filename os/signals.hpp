// signals.hpp: the one thread that receives the daemon's signals (sigwaitinfo): the stop signals,
// SIGHUP, and every other signal whose default would end the process (reported, to be logged and
// ignored); and the last-resort exit watchdog it runs once a stop has begun.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace vpo::os {

/// A received signal and who sent it.
struct signal_event {
  int signo = 0;
  pid_t sender_pid = 0;
  std::string sender_name;  ///< /proc/<pid>/comm when readable, else empty
};

/// Blocks the daemon's signals in the calling thread; call before any other thread starts so
/// every thread inherits the mask and only the signal thread receives them. Ignores SIGPIPE.
/// Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT) keep their defaults.
void block_daemon_signals();

/// The name of a signal ("SIGTERM", "SIGUSR1", "SIGRTMIN+3").
std::string signal_name(int signo);

/// SIGTERM, SIGINT, SIGQUIT: the signals that stop the daemon.
bool is_stop_signal(int signo);

class signal_thread {
 public:
  using handler = std::function<void(const signal_event&)>;
  /// Called by the watchdog just before `_exit(code)`.
  using last_words = std::function<void(int code)>;

  /// Starts the thread. `on_signal` runs on it for every signal. After the first SIGTERM/SIGINT
  /// the watchdog allows `grace` (shutdown_timeout + 2 s); after SIGQUIT, 2 s. Then it calls
  /// `before_exit` and `_exit(128 + signo)`.
  signal_thread(handler on_signal, std::chrono::milliseconds grace, last_words before_exit);
  /// Stops and joins the thread (the watchdog is disarmed).
  ~signal_thread();
  signal_thread(const signal_thread&) = delete;
  signal_thread& operator=(const signal_thread&) = delete;

 private:
  void loop();
  handler on_signal_;
  std::chrono::milliseconds grace_;
  last_words before_exit_;
  std::thread thread_;
};

}  // namespace vpo::os
