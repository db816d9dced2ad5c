// systemd_notify_test.cpp: the notify datagram (path and abstract sockets) and the watchdog's
// environment, as sd_notify(3) and sd_watchdog_enabled(3) define them.
#include "os/systemd_notify.hpp"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "tests/support/notify_socket.hpp"

using namespace vpo;

namespace {

// Restores (or unsets) an environment variable at the end of a test.
struct env_var {
  std::string name;
  bool had;
  std::string old;
  env_var(const char* n, const char* value) : name(n), had(std::getenv(n) != nullptr) {
    if (had) old = std::getenv(n);
    if (value)
      ::setenv(n, value, 1);
    else
      ::unsetenv(n);
  }
  ~env_var() {
    if (had)
      ::setenv(name.c_str(), old.c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
};

}  // namespace

TEST_CASE("notify messages go to NOTIFY_SOCKET as one datagram each", "[systemd]") {
  test::notify_socket sock;
  env_var e("NOTIFY_SOCKET", sock.path().c_str());
  os::systemd::ready();
  CHECK(sock.next(std::chrono::seconds(5)) == "READY=1");
  os::systemd::status("serving: 1 running, 0 queued");
  CHECK(sock.next(std::chrono::seconds(5)) == "STATUS=serving: 1 running, 0 queued");
  os::systemd::stopping();
  CHECK(sock.next(std::chrono::seconds(5)) == "STOPPING=1\nSTATUS=draining");
  os::systemd::extend_timeout(std::chrono::microseconds(32000000));
  CHECK(sock.next(std::chrono::seconds(5)) == "EXTEND_TIMEOUT_USEC=32000000");
  os::systemd::reloading();
  CHECK_THAT(sock.next(std::chrono::seconds(5)), Catch::StartsWith("RELOADING=1\nMONOTONIC_USEC="));
  os::systemd::watchdog();
  CHECK(sock.next(std::chrono::seconds(5)) == "WATCHDOG=1");
}

TEST_CASE("an abstract NOTIFY_SOCKET (@name) is reached too, and none at all is a no-op",
          "[systemd]") {
  std::string name = "vpo-test-notify-" + std::to_string(::getpid());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());  // leading NUL: abstract
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  {
    env_var e("NOTIFY_SOCKET", ("@" + name).c_str());
    os::systemd::ready();
    pollfd p{fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    char buf[64] = {};
    CHECK(::recv(fd, buf, sizeof buf - 1, 0) == 7);
    CHECK(std::string(buf) == "READY=1");
  }
  ::close(fd);
  env_var none("NOTIFY_SOCKET", nullptr);
  os::systemd::ready();  // nothing to send to: returns, no error
  env_var relative("NOTIFY_SOCKET", "relative/path");
  os::systemd::ready();  // neither a path nor abstract: ignored
}

TEST_CASE("the watchdog interval is half of WATCHDOG_USEC, for this process only", "[systemd]") {
  using us = std::chrono::microseconds;
  env_var pid("WATCHDOG_PID", nullptr);
  {
    env_var e("WATCHDOG_USEC", "2000000");
    CHECK(os::systemd::watchdog_interval() == us(1000000));
    env_var mine("WATCHDOG_PID", std::to_string(::getpid()).c_str());
    CHECK(os::systemd::watchdog_interval() == us(1000000));
    env_var other("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str());
    CHECK(os::systemd::watchdog_interval() == us(0));  // meant for another process
  }
  for (const char* bad : {"", "0", "abc", "12x", "-5"}) {
    env_var e("WATCHDOG_USEC", bad);
    CHECK(os::systemd::watchdog_interval() == us(0));
  }
  env_var unset("WATCHDOG_USEC", nullptr);
  CHECK(os::systemd::watchdog_interval() == us(0));
}

TEST_CASE("socket activation's fds are taken only when LISTEN_PID is this process", "[systemd]") {
  env_var fds("LISTEN_FDS", "1");
  {
    env_var other("LISTEN_PID", std::to_string(::getpid() + 1).c_str());
    CHECK(os::systemd::listen_fds().empty());
  }
  env_var none("LISTEN_PID", nullptr);
  CHECK(os::systemd::listen_fds().empty());
  env_var mine("LISTEN_PID", std::to_string(::getpid()).c_str());
  env_var garbage("LISTEN_FDS", "two");
  CHECK(os::systemd::listen_fds().empty());
}

TEST_CASE("outside systemd the unit's stop timeout is not asked for", "[systemd]") {
  env_var e("INVOCATION_ID", nullptr);
  CHECK_FALSE(os::systemd::unit_stop_timeout().has_value());
}
