// journal_test.cpp: the fields of a native journald record.
#include "logging/journal.hpp"

#include <catch2/catch.hpp>

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
