// signals_test.cpp: the signal thread reports the sender, and its watchdog ends a process that
// outlives the grace period after a stop signal.
#include "os/signals.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>

using namespace std::chrono_literals;

namespace {

// Waits for a child with a timeout; returns its raw status or -1.
int wait_child(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    ::poll(nullptr, 0, 10);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

}  // namespace

TEST_CASE("the watchdog exits 128 + signo when the process outlives the grace period",
          "[signals]") {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  auto started = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    vpo::os::block_daemon_signals();
    vpo::os::signal_thread t([](const vpo::os::signal_event&) {}, 300ms,
                              [&](int code) {
                                char c = static_cast<char>(code);
                                if (::write(out[1], &c, 1) != 1) _exit(99);
                              });
    ::kill(::getpid(), SIGTERM);
    for (;;) ::pause();  // a "hung shutdown": only the watchdog can end this
  }
  int status = wait_child(pid, 5000ms);
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 143);
  CHECK(took >= 250ms);
  CHECK(took < 3000ms);
  char code = 0;
  REQUIRE(::read(out[0], &code, 1) == 1);
  CHECK(static_cast<unsigned char>(code) == 143);
  ::close(out[0]);
  ::close(out[1]);
}

TEST_CASE("the signal thread delivers each signal with the sender's pid and name", "[signals]") {
  vpo::os::block_daemon_signals();
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<vpo::os::signal_event> seen;
  {
    vpo::os::signal_thread t(
        [&](const vpo::os::signal_event& e) {
          std::lock_guard<std::mutex> lock(mutex);
          seen.push_back(e);
          cv.notify_all();
        },
        60000ms, nullptr);
    ::kill(::getpid(), SIGHUP);
    std::unique_lock<std::mutex> lock(mutex);
    REQUIRE(cv.wait_for(lock, 5s, [&] { return !seen.empty(); }));
  }
  CHECK(seen[0].signo == SIGHUP);
  CHECK(seen[0].sender_pid == ::getpid());
  CHECK_FALSE(seen[0].sender_name.empty());
  CHECK(vpo::os::signal_name(SIGTERM) == "SIGTERM");
}
