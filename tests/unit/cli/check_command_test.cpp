// check_command_test.cpp: the `--check` report shows values, origins and the shutdown timeline.
#include "cli/check_command.hpp"

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.hpp"

TEST_CASE("the check report lists every key with its origin and hides secrets", "[cli]") {
  vpo::test::temp_dir home;
  vpo::config::load_input in;
  in.cli["server.port"] = "9100";
  in.cli["server.shutdown_timeout"] = "12.5";
  in.getenv = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return home.path();
    if (name == "VPO_AUTH_TOKEN") return std::string("supersecret-token-123");
    if (name == "VPO_JOBS_WORKERS") return std::string("7");
    return std::nullopt;
  };
  auto loaded = vpo::config::load(in);
  REQUIRE(loaded.errors.empty());
  std::string report = vpo::cli::check_report(loaded);
  CHECK_THAT(report, Catch::Matches(R"((.|\n)*server\.port +9100 +cli\n(.|\n)*)"));
  CHECK_THAT(report, Catch::Matches(R"((.|\n)*jobs\.workers +7 +env\n(.|\n)*)"));
  CHECK_THAT(report, Catch::Matches(R"((.|\n)*server\.bind +127\.0\.0\.1 +default\n(.|\n)*)"));
  CHECK_THAT(report, Catch::Matches(R"((.|\n)*server\.auth_token +\*\*\*\* +env\n(.|\n)*)"));
  CHECK_THAT(report, !Catch::Contains("supersecret"));
  CHECK_THAT(report, Catch::Contains("t = 12.5 s"));
  CHECK_THAT(report, Catch::Contains("t <= 14.5 s"));
  CHECK_THAT(report, Catch::Contains("exit 143"));
  CHECK_THAT(report, Catch::Contains("exit 131"));
  CHECK_THAT(report, Catch::Contains("configuration valid"));
}
