// cli_test.cpp: the real `vpo` binary: --version, --help, usage errors, `serve --check`.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;
using vpo::test::free_port;
using vpo::test::process;
using vpo::test::process_options;
using vpo::test::read_file;
using vpo::test::run;
using vpo::test::temp_dir;

namespace {

process_options vpo_cmd(const temp_dir& home, std::vector<std::string> args,
                        std::map<std::string, std::string> env = {}) {
  return vpo::test::vpo_command(home, std::move(args), std::move(env));
}

}  // namespace

TEST_CASE("vpo --version prints the version on stdout", "[cli]") {
  temp_dir home;
  auto r = run(vpo_cmd(home, {"--version"}));
  CHECK(r.code == 0);
  CHECK(r.out == "vpo 0.1.0\n");
}

TEST_CASE("vpo --help lists the commands and --version", "[cli]") {
  temp_dir home;
  auto r = run(vpo_cmd(home, {"--help"}));
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("serve"));
  CHECK_THAT(r.out, Catch::Contains("--version"));
}

TEST_CASE("vpo serve --help documents options, env, config path, precedence and exit codes",
          "[cli]") {
  temp_dir home;
  auto r = run(vpo_cmd(home, {"serve", "--help"}));
  CHECK(r.code == 0);
  for (const char* s : {"--config",
                        "--bind",
                        "--port",
                        "--shutdown-timeout",
                        "--log-level",
                        "--log-format",
                        "--db",
                        "--workers",
                        "--check",
                        "VPO_CONFIG_PATH",
                        "VPO_DATA_DIR",
                        "VPO_SERVER_BIND",
                        "VPO_SERVER_PORT",
                        "VPO_SERVER_SHUTDOWN_TIMEOUT",
                        "VPO_AUTH_TOKEN",
                        "VPO_LOG_LEVEL",
                        "VPO_LOG_FORMAT",
                        "VPO_DATABASE_PATH",
                        "VPO_JOBS_WORKERS",
                        "config.toml",
                        "PRECEDENCE",
                        "EXIT CODES",
                        "143"}) {
    INFO(s);
    CHECK_THAT(r.out, Catch::Contains(s));
  }
}

TEST_CASE("unknown flags, missing values and bad flag values exit 2 with a usage message",
          "[cli]") {
  temp_dir home;
  std::vector<std::vector<std::string>> cases = {
      {"serve", "--no-such-flag"},
      {"serve", "--port"},
      {"serve", "--port", "x"},
      {"serve", "--port", "0"},
      {"serve", "--log-level", "x"},
      {"serve", "--workers", "65"},
      {"frobnicate"},
      {},
      {"serve", "extra"},
  };
  for (const auto& args : cases) {
    auto r = run(vpo_cmd(home, args));
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    INFO("args: " << joined);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("--help"));
  }
}

TEST_CASE("serve --check prints the effective configuration with origins and exits 0", "[cli]") {
  temp_dir home;
  home.write(".vpo/config.toml", "[server]\nport = 9300\n[logging]\nformat = \"text\"\n");
  auto r =
      run(vpo_cmd(home, {"serve", "--check", "--workers", "5"},
                  {{"VPO_SERVER_SHUTDOWN_TIMEOUT", "4"}, {"VPO_AUTH_TOKEN", "abcdefghijklmnopq"}}));
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Matches(R"((.|\n)*server\.port +9300 +file\n(.|\n)*)"));
  CHECK_THAT(r.out, Catch::Matches(R"((.|\n)*jobs\.workers +5 +cli\n(.|\n)*)"));
  CHECK_THAT(r.out, Catch::Matches(R"((.|\n)*server\.shutdown_timeout +4 +env\n(.|\n)*)"));
  CHECK_THAT(r.out, Catch::Matches(R"((.|\n)*server\.bind +127\.0\.0\.1 +default\n(.|\n)*)"));
  CHECK_THAT(r.out, Catch::Contains("t <= 6 s"));
  CHECK_THAT(r.out + r.err, !Catch::Contains("abcdefghijklmnopq"));
  CHECK(r.err.empty());
}

TEST_CASE("serve --check binds no port: a taken port does not fail it", "[cli]") {
  vpo::test::listener taken;
  REQUIRE(taken.port() != 0);
  temp_dir home;
  auto r = run(vpo_cmd(home, {"serve", "--check", "--port", std::to_string(taken.port())}));
  CHECK(r.code == 0);
}

TEST_CASE("serve --check fails with exit 1 and one clear message for each bad layer", "[cli]") {
  temp_dir home;
  SECTION("malformed TOML") {
    auto p = home.write(".vpo/config.toml", "[server\nport = 1\n");
    auto r = run(vpo_cmd(home, {"serve", "--check"}));
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains(p + ":1:"));
    CHECK_THAT(r.err, Catch::Contains("ERROR"));
  }
  SECTION("out-of-range file value") {
    auto p = home.write(".vpo/config.toml", "[server]\nport = 70000\n");
    auto r = run(vpo_cmd(home, {"serve", "--check"}));
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains(p + ":2:8: server.port = 70000 (origin: file)"));
  }
  SECTION("bad env value") {
    auto r = run(vpo_cmd(home, {"serve", "--check"}, {{"VPO_SERVER_PORT", "eighty"}}));
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("VPO_SERVER_PORT = \"eighty\" (origin: env)"));
  }
  SECTION("missing explicit config") {
    auto r = run(vpo_cmd(home, {"serve", "--check", "--config", home.file("missing.toml")}));
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("missing.toml"));
  }
  SECTION("short secret, never printed") {
    home.write(".vpo/config.toml", "[server]\nauth_token = \"hush-hush\"\n");
    auto r = run(vpo_cmd(home, {"serve", "--check"}));
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("server.auth_token"));
    CHECK_THAT(r.out + r.err, !Catch::Contains("hush-hush"));
  }
  SECTION("errors are JSON lines when the valid layers ask for JSON") {
    auto r = run(vpo_cmd(home, {"serve", "--check"},
                         {{"VPO_LOG_FORMAT", "json"}, {"VPO_JOBS_WORKERS", "0"}}));
    CHECK(r.code == 1);
    auto j = nlohmann::json::parse(r.err.substr(0, r.err.find('\n')));
    CHECK(j["level"] == "error");
    CHECK_THAT(j["message"].get<std::string>(), Catch::Contains("VPO_JOBS_WORKERS"));
  }
}

TEST_CASE("an unknown key in an owned section warns once with a suggestion", "[cli]") {
  temp_dir home;
  home.write(".vpo/config.toml", "[server]\nshutdown_timout = 5\n[tools]\nx = 1\n");
  auto r = run(vpo_cmd(home, {"serve", "--check"}));
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("did you mean server.shutdown_timeout?"));
  CHECK(r.err.find("WARN") == r.err.rfind("WARN"));
}

TEST_CASE("the example config copied to ~/.vpo as the docs say works for a user who is not root",
          "[cli]") {
  temp_dir home;
  home.write(".vpo/config.toml", read_file(VPO_SOURCE_DIR "/contrib/config/vpo.example.toml"));
  // Run as nobody when the tests run as root: the user the old example failed for.
  std::optional<unsigned> user;
  if (::geteuid() == 0) {
    user = 65534;
    std::filesystem::path p(home.path());
    for (auto& e : std::filesystem::recursive_directory_iterator(p))
      REQUIRE(::chown(e.path().c_str(), 65534, 65534) == 0);
    REQUIRE(::chown(home.path().c_str(), 65534, 65534) == 0);
  }
  auto check = vpo_cmd(home, {"serve", "--check"});
  check.run_as_uid = user;
  auto r = run(check);
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::Contains(home.path() + "/.vpo/library.db"));
  auto port = free_port();
  auto serve = vpo_cmd(home, {"serve", "--port", std::to_string(port)});
  serve.run_as_uid = user;
  process d(serve);
  REQUIRE(d.wait_for_stderr("vpo.supervisor: ready", 10s));
  d.signal(SIGTERM);
  CHECK(d.wait(10s) == 0);
}

TEST_CASE(
    "serve --check applies the cross-key rules serve applies: a non-loopback bind needs a token",
    "[cli]") {
  temp_dir home;
  auto check = run(vpo_cmd(home, {"serve", "--check", "--bind", "0.0.0.0"}));
  auto port = free_port();
  auto serve = run(vpo_cmd(home, {"serve", "--bind", "0.0.0.0", "--port", std::to_string(port)}));
  CHECK(check.code == 1);
  CHECK(serve.code == 1);
  CHECK_THAT(check.err, Catch::Contains("without authentication"));
  // The same sentence, word for word (the port differs).
  auto sentence = [](const std::string& err) {
    auto at = err.find("without authentication");
    return at == std::string::npos ? std::string() : err.substr(at, err.find('\n', at) - at);
  };
  CHECK(sentence(check.err) == sentence(serve.err));
  CHECK(check.out.empty());  // no "configuration valid" report
  auto allowed = run(vpo_cmd(home, {"serve", "--check", "--bind", "0.0.0.0"},
                             {{"VPO_SERVER_ALLOW_UNAUTHENTICATED", "true"}}));
  CHECK(allowed.code == 0);
  auto token = run(vpo_cmd(home, {"serve", "--check", "--bind", "0.0.0.0"},
                           {{"VPO_AUTH_TOKEN", "0123456789abcdef-token"}}));
  CHECK(token.code == 0);
}

TEST_CASE("serve --check keeps its table aligned whatever a value's length", "[cli]") {
  temp_dir home;
  std::string long_path = home.path() + "/" + std::string(80, 'd') + "/check.db";
  auto r = run(vpo_cmd(home, {"serve", "--check", "--db", long_path}));
  REQUIRE(r.code == 0);
  std::istringstream lines(r.out);
  std::size_t origin_column = std::string::npos;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("key ", 0) == 0) origin_column = line.find("origin");
    if (origin_column == std::string::npos || line.empty() || line.rfind("key ", 0) == 0) continue;
    if (line.find(' ') == std::string::npos) break;
    if (line.rfind("shutdown timeline", 0) == 0) break;
    INFO(line);
    CHECK(line.size() > origin_column);
    CHECK(line[origin_column - 1] == ' ');  // the value never runs into the origin column
    auto origin = line.substr(origin_column);
    CHECK((origin == "cli" || origin == "file" || origin == "env" || origin == "default"));
  }
  CHECK(origin_column != std::string::npos);
}

TEST_CASE("usage errors say what is wrong and what would be right: exit 2", "[cli]") {
  temp_dir home;
  struct row {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& r : std::vector<row>{
           {{"scna", "/x"},
            "unknown command 'scna' (did you mean 'scan'?); commands: serve, status, jobs, scan, "
            "files"},
           {{"serv"}, "unknown command 'serv' (did you mean 'serve'?)"},
           {{}, "a command is required (serve, status, jobs, scan, files)"},
           {{"jobs", "lst"},
            "unknown command 'jobs lst' (did you mean 'list'?); commands of 'vpo jobs': list, "
            "show, cancel, retry"},
           {{"jobs"}, "'vpo jobs' needs a command (list, show, cancel, retry)"},
           {{"jobs", "list", "--stats", "x"},
            "unknown option '--stats' for 'vpo jobs list' (did you mean '--status'?)"},
           {{"files", "--limit"}, "option --limit needs a value: N"},
           {{"scan", "/x", "--priorty", "1"},
            "unknown option '--priorty' for 'vpo scan' (did you mean '--priority'?)"},
           {{"serve", "--prot", "9000"},
            "unknown option '--prot' for 'vpo serve' (did you mean "
            "'--port'?)"},
           {{"serve", "--wrokers=3"},
            "unknown option '--wrokers' for 'vpo serve' (did you mean '--workers'?)"},
           {{"serve", "--port"}, "option --port needs a value: N (TCP port, 1..65535"},
           {{"serve", "--check", "-p"}, "option -p needs a value: N"},
           {{"serve", "--log-level"}, "option --log-level needs a value: LEVEL (debug, info"},
       }) {
    auto res = run(vpo_cmd(home, r.args));
    INFO(res.err);
    CHECK(res.code == 2);
    CHECK_THAT(res.err, Catch::Contains("vpo: usage error: " + r.says));
    CHECK(res.out.empty());
  }
  // A negative number is a (bad) value, not an option: the usual value error, exit 2.
  auto neg = run(vpo_cmd(home, {"serve", "--check", "--port", "-1"}));
  CHECK(neg.code == 2);
  CHECK_THAT(neg.err, Catch::Contains("server.port"));
}

TEST_CASE("the service config (/etc/vpo/config.toml) passes serve --check without warnings",
          "[cli]") {
  temp_dir home;
  auto r = run(vpo_cmd(
      home, {"serve", "--check", "--config", VPO_SOURCE_DIR "/contrib/systemd/config.toml"}));
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out,
             Catch::Matches(R"((.|\n)*database_path +/var/lib/vpo/library\.db +file\n(.|\n)*)"));
  CHECK_THAT(r.out, Catch::Matches(R"((.|\n)*logging\.format +json +file\n(.|\n)*)"));
}
