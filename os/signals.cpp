// signals.cpp: sigwaitinfo loop with a deadline (sigtimedwait) for the exit watchdog.
#include "os/signals.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace vpo::os {
namespace {

// SIGUSR2 sent by the destructor to this very thread ends the loop.
constexpr int stop_signal = SIGUSR2;

// Every signal whose default action ends the process, except SIGKILL and SIGSTOP (which cannot
// be caught) and the faults a process raises on itself (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT:
// a real crash must still crash, with a core). Blocked in every thread and received here, so a
// stray `kill -USR1` is logged instead of ending the daemon. SIGTRAP and SIGSYS are in the set:
// sent by another process they are strays like the rest, while a real one (a breakpoint, a
// seccomp kill) is raised by the kernel with force_sig, which ignores the mask: it still ends
// the process with a core.
sigset_t daemon_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF,
                SIGIO, SIGPWR, SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGTRAP, SIGSYS})
    sigaddset(&set, s);
  for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) sigaddset(&set, s);
  return set;
}

std::string process_name(pid_t pid) {
  if (pid <= 0) return {};
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

}  // namespace

void block_daemon_signals() {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set = daemon_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string signal_name(int signo) {
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) return "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
  if (signo == SIGIO) return "SIGIO";  // glibc says POLL; kill -l and most docs say IO
  if (const char* abbrev = ::sigabbrev_np(signo)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(signo);
}

bool is_stop_signal(int signo) {
  return signo == SIGTERM || signo == SIGINT || signo == SIGQUIT;
}

signal_thread::signal_thread(handler on_signal, std::chrono::milliseconds grace,
                             last_words before_exit)
    : on_signal_(std::move(on_signal)), grace_(grace), before_exit_(std::move(before_exit)) {
  thread_ = std::thread([this] { loop(); });
}

signal_thread::~signal_thread() {
  pthread_kill(thread_.native_handle(), stop_signal);
  thread_.join();
}

void signal_thread::loop() {
  using clock = std::chrono::steady_clock;
  sigset_t set = daemon_set();
  bool armed = false;
  int exit_signal = 0;
  clock::time_point deadline{};
  for (;;) {
    siginfo_t info{};
    int signo;
    if (!armed) {
      signo = sigwaitinfo(&set, &info);
    } else {
      auto left = deadline - clock::now();
      if (left <= clock::duration::zero()) {
        if (before_exit_) before_exit_(128 + exit_signal);
        _exit(128 + exit_signal);
      }
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
      signo = sigtimedwait(&set, &info, &ts);
    }
    if (signo < 0) continue;  // EINTR or EAGAIN (the deadline check above decides)
    if (signo == stop_signal && info.si_pid == ::getpid()) return;  // the destructor
    signal_event ev{signo, info.si_pid, process_name(info.si_pid)};
    if (signo == SIGTERM || signo == SIGINT || signo == SIGQUIT) {
      auto limit = clock::now() + (signo == SIGQUIT ? std::chrono::milliseconds(2000) : grace_);
      if (!armed || limit < deadline) {
        deadline = limit;
        if (!armed || signo == SIGQUIT) exit_signal = signo;
      }
      armed = true;
    }
    on_signal_(ev);
  }
}

}  // namespace vpo::os
