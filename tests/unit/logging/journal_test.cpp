// journal_test.cpp: the fields of a native journald record.
#include "logging/journal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "tests/support/temp_dir.hpp"

using namespace vpo::logging;
using vpo::config::log_level;

TEST_CASE("journal fields: MESSAGE, PRIORITY, identifier, logger, then each context field",
          "[logging][journal]") {
  record r{
      "vpo.jobs",
      {{"job_id", "1b4e28ba"}, {"file_path", "/v/a\nb.mkv"}, {"attempts", 2}, {"daemon", true}},
      "job started"};
  auto f = journal_fields(log_level::warning, r, "vpo.jobs: job started job_id=1b4e28ba");
  REQUIRE(f.size() == 8);
  CHECK(f[0] == "MESSAGE=vpo.jobs: job started job_id=1b4e28ba");
  CHECK(f[1] == "PRIORITY=4");
  CHECK(f[2] == "SYSLOG_IDENTIFIER=vpo");
  CHECK(f[3] == "VPO_LOGGER=vpo.jobs");
  CHECK(f[4] == "JOB_ID=1b4e28ba");
  CHECK(f[5] == "FILE_PATH=/v/a\nb.mkv");  // sd_journal_sendv sends it binary-safe
  CHECK(f[6] == "ATTEMPTS=2");
  CHECK(f[7] == "DAEMON=true");
}

TEST_CASE("journal fields: priorities as sd-daemon numbers them", "[logging][journal]") {
  record r{"vpo.x", {}, "m"};
  CHECK(journal_fields(log_level::debug, r, "m")[1] == "PRIORITY=7");
  CHECK(journal_fields(log_level::info, r, "m")[1] == "PRIORITY=6");
  CHECK(journal_fields(log_level::warning, r, "m")[1] == "PRIORITY=4");
  CHECK(journal_fields(log_level::error, r, "m")[1] == "PRIORITY=3");
}

TEST_CASE("journal fields: keys that would clash or are not valid names are made safe",
          "[logging][journal]") {
  record r{"vpo.x",
           {{"message", "a"},
            {"priority", "b"},
            {"syslog_identifier", "c"},
            {"code_line", "d"},
            {"_pid", "e"},
            {"9lives", "f"},
            {"bad-key.x", "g"},
            {"vpo_logger", "h"}},
           "m"};
  auto f = journal_fields(log_level::info, r, "m");
  REQUIRE(f.size() == 12);
  CHECK(f[4] == "VPO_MESSAGE=a");
  CHECK(f[5] == "VPO_PRIORITY=b");
  CHECK(f[6] == "VPO_SYSLOG_IDENTIFIER=c");
  CHECK(f[7] == "VPO_CODE_LINE=d");
  CHECK(f[8] == "VPO__PID=e");
  CHECK(f[9] == "VPO_9LIVES=f");
  CHECK(f[10] == "BAD_KEY_X=g");
  CHECK(f[11] == "VPO_VPO_LOGGER=h");
}

TEST_CASE("journal datagram: NAME=value lines, a value with a newline length-prefixed",
          "[logging][journal]") {
  auto d = journal_datagram({"MESSAGE=hi", "FILE_PATH=/v/a\nb.mkv", "not a field", "EMPTY="});
  std::string expected = "MESSAGE=hi\nFILE_PATH\n";
  expected += std::string("\x0a\0\0\0\0\0\0\0", 8) + "/v/a\nb.mkv\n";  // 10 bytes
  expected += "EMPTY=\n";
  CHECK(d == expected);
}

namespace {

// A stand-in for journald's socket: what arrives, as bytes, from a datagram or a passed memfd.
struct fake_journal {
  vpo::test::temp_dir dir;
  std::string path = dir.file("journal.socket");
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  fake_journal() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~fake_journal() { ::close(fd); }
  // The next record (within 5 s) and whether it came as a memfd.
  std::pair<std::string, bool> next() {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return {"", false};
    std::vector<char> buf(1 << 20);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    iovec iov{buf.data(), buf.size()};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    REQUIRE(n >= 0);
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    if (!c) return {std::string(buf.data(), std::size_t(n)), false};
    REQUIRE(c->cmsg_type == SCM_RIGHTS);
    int mfd = -1;
    std::memcpy(&mfd, CMSG_DATA(c), sizeof mfd);
    CHECK(::fcntl(mfd, F_GET_SEALS) & F_SEAL_WRITE);  // journald refuses an unsealed memfd
    std::string text;
    ::lseek(mfd, 0, SEEK_SET);
    for (ssize_t r; (r = ::read(mfd, buf.data(), buf.size())) > 0;) text.append(buf.data(), r);
    ::close(mfd);
    return {text, true};
  }
};

}  // namespace

TEST_CASE("a record reaches the journal socket as one datagram, a huge one as a sealed memfd",
          "[logging][journal]") {
  fake_journal j;
  std::vector<std::string> small = {"MESSAGE=job started", "PRIORITY=6", "JOB_ID=x\ny"};
  REQUIRE(send_to_journal(small, j.path));
  auto [got, as_memfd] = j.next();
  CHECK(got == journal_datagram(small));
  CHECK_FALSE(as_memfd);

  // Beyond the 8 MiB send buffer vpo asks for: EMSGSIZE, then the memfd.
  std::vector<std::string> huge = {"MESSAGE=" + std::string(12 << 20, 'x'), "PRIORITY=3"};
  REQUIRE(send_to_journal(huge, j.path));
  auto [big, big_as_memfd] = j.next();
  CHECK(big_as_memfd);
  CHECK(big == journal_datagram(huge));
}

TEST_CASE("without a journal socket the record is not sent (the caller writes the line)",
          "[logging][journal]") {
  vpo::test::temp_dir dir;
  CHECK_FALSE(send_to_journal({"MESSAGE=x"}, dir.file("absent.socket")));
  std::string plain = dir.write("plain", "not a socket");
  CHECK_FALSE(send_to_journal({"MESSAGE=x"}, plain));
}
