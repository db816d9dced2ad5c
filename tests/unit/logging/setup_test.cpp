// setup_test.cpp: the whole pipeline (async spdlog, fd sink) into a pipe, levels, broken stderr.
#include "logging/setup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "logging/log.hpp"
#include "tests/support/temp_dir.hpp"

using namespace vpo;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("records reach the fd as JSON lines, filtered by level, all flushed at shutdown",
          "[logging]") {
  test::temp_dir dir;
  std::string path = dir.file("log.txt");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  logging::setup({config::log_level::warning, config::log_format::json}, fd);
  logging::logger log("vpo.test");
  log.info("dropped: below the level");
  for (int i = 0; i < 500; ++i) log.warn("kept \"" + std::to_string(i) + "\"\n", {{"job_id", i}});
  log.error("bad \xff bytes", {{"file_path", "/x\ny"}});
  CHECK_FALSE(log.enabled(config::log_level::info));
  CHECK(log.enabled(config::log_level::error));
  logging::shutdown();
  ::close(fd);

  auto lines = lines_of(test::read_file(path));
  REQUIRE(lines.size() == 501);
  for (const auto& line : lines) {
    auto j = nlohmann::json::parse(line);
    CHECK(j["logger"] == "vpo.test");
    CHECK(j["daemon"] == true);
    CHECK(j["pid"] == ::getpid());
  }
  CHECK(nlohmann::json::parse(lines[0])["job_id"] == 0);
  CHECK(nlohmann::json::parse(lines[500])["file_path"] == "/x\ny");
}

TEST_CASE("setup can switch level and format live", "[logging]") {
  test::temp_dir dir;
  std::string path = dir.file("log.txt");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  logging::setup({config::log_level::info, config::log_format::text}, fd);
  logging::logger log("vpo.test");
  log.debug("hidden");
  log.info("as text");
  logging::setup({config::log_level::debug, config::log_format::json}, fd);
  log.debug("as json");
  logging::shutdown();
  ::close(fd);
  auto lines = lines_of(test::read_file(path));
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::Contains("INFO  vpo.test: as text"));
  CHECK(nlohmann::json::parse(lines[1])["level"] == "debug");
}

TEST_CASE("a broken stderr never stops the process", "[logging]") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  ::close(p[0]);  // nobody will ever read: every write fails with EPIPE
  logging::setup({config::log_level::info, config::log_format::text}, p[1]);
  logging::logger log("vpo.test");
  for (int i = 0; i < 100; ++i) log.error("into the void");
  logging::shutdown();
  ::close(p[1]);
  logging::setup({config::log_level::info, config::log_format::text}, 12345);  // EBADF
  log.error("into a closed fd");
  logging::shutdown();
  // Still alive, and logging still works once stderr is healthy again.
  test::temp_dir dir;
  std::string path = dir.file("after.txt");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  logging::setup({config::log_level::info, config::log_format::text}, fd);
  log.info("back");
  logging::shutdown();
  ::close(fd);
  CHECK_THAT(test::read_file(path), Catch::Contains("vpo.test: back"));
}

TEST_CASE(
    "a stalled reader loses the oldest records, never blocks the logger, and the log says how "
    "many went",
    "[logging]") {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  ::fcntl(p[1], F_SETPIPE_SZ, 4096);  // full after a few lines: the log thread blocks in write
  logging::setup({config::log_level::info, config::log_format::json}, p[1]);
  logging::logger log("vpo.test");
  const int sent = static_cast<int>(logging::log_queue_records) * 5;
  for (int i = 0; i < sent; ++i) log.info("flood", {{"n", i}});  // returns although nobody reads
  std::string text;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) text.append(buf, std::size_t(n));
  });
  logging::shutdown();
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
  long long kept = 0, dropped = 0, last = -1;
  bool ordered = true;
  for (const auto& line : lines_of(text)) {
    auto j = nlohmann::json::parse(line);
    if (j["message"] == "flood") {
      ++kept;
      ordered = ordered && j["n"].get<long long>() > last;
      last = j["n"].get<long long>();
    } else {
      CHECK(j["logger"] == "vpo.logging");
      CHECK(j["level"] == "warning");
      CHECK_THAT(j["message"].get<std::string>(), Catch::Contains("log records dropped"));
      dropped += j["dropped_records"].get<long long>();
    }
  }
  CHECK(ordered);
  CHECK(dropped > 0);
  CHECK(kept + dropped == sent);  // every record is either written or counted
  CHECK(last == sent - 1);        // the newest survive
}

TEST_CASE(
    "journald is detected only when JOURNAL_STREAM names this very fd and without a usable journal "
    "socket the records fall back to <N> lines",
    "[logging]") {
  test::temp_dir dir;
  std::string path = dir.file("journal");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  struct stat st {};
  REQUIRE(fstat(fd, &st) == 0);
  std::string match = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", match.c_str(), 1);
  CHECK(logging::connected_to_journal(fd));
  logging::setup({config::log_level::info, config::log_format::text}, fd);
  logging::logger("vpo.test").warn("prefixed");
  logging::shutdown();
  ::setenv("JOURNAL_STREAM", "1:2", 1);
  CHECK_FALSE(logging::connected_to_journal(fd));
  ::unsetenv("JOURNAL_STREAM");
  CHECK_FALSE(logging::connected_to_journal(fd));
  ::close(fd);
  if (::access("/run/systemd/journal/socket", F_OK) == 0)
    CHECK(test::read_file(path).empty());  // sent natively (the real-systemd test looks there)
  else
    CHECK_THAT(test::read_file(path), Catch::StartsWith("<4>"));
}
