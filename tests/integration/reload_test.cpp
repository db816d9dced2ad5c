// reload_test.cpp: SIGHUP reloads against the real daemon (contract §5): what applies live, what
// needs a restart, what is kept when the file is bad, and what systemd and /health see.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/in_flight_request.hpp"
#include "tests/support/jobs_client.hpp"
#include "tests/support/notify_socket.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;

namespace {

nlohmann::json health(std::uint16_t port) {
  auto r = http_get(port, "/health");
  REQUIRE(r);
  return nlohmann::json::parse(r->body);
}

// Waits until /health's config_reload_error mentions `text`.
bool reload_error_mentions(std::uint16_t port, const std::string& text) {
  return eventually(
      [&] {
        auto e = health(port)["config_reload_error"];
        return e.is_string() && e.get<std::string>().find(text) != std::string::npos;
      },
      5s);
}

// Waits until /health shows `count` applied reloads.
bool reload_count_reaches(std::uint16_t port, int count) {
  return eventually([&] { return health(port)["config_reload_count"] == count; }, 5s);
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

// Writes `text` as config.toml in `cfg`, starts `d` with `-c <it>` plus `args`, and waits for
// ready; returns the file's path.
std::string start_with_config(daemon_process& d, const temp_dir& cfg, const std::string& text,
                              std::vector<std::string> args = {},
                              std::map<std::string, std::string> env = {}) {
  auto file = cfg.write("config.toml", text);
  args.insert(args.begin(), {"-c", file});
  REQUIRE(d.start_ready(args, std::move(env)));
  return file;
}

}  // namespace

TEST_CASE("SIGHUP applies log level and format and workers live between RELOADING=1 and READY=1",
          "[reload]") {
  temp_dir cfg;
  notify_socket ns;
  daemon_process d;
  start_with_config(d, cfg, "[logging]\nlevel = \"info\"\n[jobs]\nworkers = 2\n", {},
                    {{"NOTIFY_SOCKET", ns.path()}});
  REQUIRE(ns.wait_for("READY=1", 5s));
  auto before = health(d.port());
  CHECK(before["config_reload_count"] == 0);
  CHECK(before["last_config_reload"].is_null());
  CHECK(before["config_reload_error"].is_null());
  CHECK(before["jobs"]["workers"] == 2);

  cfg.write("config.toml",
            "[logging]\nlevel = \"debug\"\nformat = \"json\"\n[jobs]\nworkers = 3\n");
  d.proc().signal(SIGHUP);
  CHECK(ns.wait_for("RELOADING=1", 5s));
  CHECK(ns.wait_for("READY=1", 5s));
  REQUIRE(reload_count_reaches(d.port(), 1));
  auto after = health(d.port());
  CHECK(after["config_reload_error"].is_null());
  CHECK(after["last_config_reload"].get<std::string>().back() == 'Z');
  CHECK(eventually([&] { return health(d.port())["jobs"]["workers"] == 3; }, 5s));
  // debug and json now: the probe just made is logged as a JSON record.
  REQUIRE(d.proc().wait_for_stderr("\"level\":\"debug\"", 5s));
  std::string err = d.proc().err();
  CHECK_THAT(err, Catch::Contains("config reloaded: logging.level info -> debug, logging.format "
                                  "text -> json, jobs.workers 2 -> 3"));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("SIGHUP with an invalid or missing file keeps the running configuration", "[reload]") {
  temp_dir cfg;
  daemon_process d;
  auto file = start_with_config(d, cfg, "[logging]\nlevel = \"info\"\n");

  cfg.write("config.toml", "[logging]\nlevel = \"debug\"\n[jobs]\nworkers = 0\n");
  d.proc().signal(SIGHUP);
  REQUIRE(d.proc().wait_for_stderr("config reload failed", 5s));
  CHECK(reload_error_mentions(d.port(), "jobs.workers"));
  auto h = health(d.port());
  CHECK(h["status"] == "healthy");
  CHECK(h["config_reload_count"] == 0);
  CHECK(h["jobs"]["workers"] == 2);
  // The level stayed info: the probe above was not logged at debug.
  CHECK_THAT(d.proc().err(), !Catch::Contains("DEBUG"));

  cfg.write("config.toml", "[logging\nlevel = \"debug\"\n");  // malformed TOML
  d.proc().signal(SIGHUP);
  REQUIRE(eventually([&] { return count_of(d.proc().err(), "config reload failed") == 2; }, 5s));
  CHECK(reload_error_mentions(d.port(), "config.toml:1"));

  std::remove(file.c_str());
  d.proc().signal(SIGHUP);
  REQUIRE(eventually([&] { return count_of(d.proc().err(), "config reload failed") == 3; }, 5s));
  CHECK_THAT(d.proc().err(), Catch::Contains("cannot read config file " + file));

  // Fixed: the error clears, the change applies.
  cfg.write("config.toml", "[logging]\nlevel = \"debug\"\n");
  d.proc().signal(SIGHUP);
  REQUIRE(reload_count_reaches(d.port(), 1));
  CHECK(health(d.port())["config_reload_error"].is_null());
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE(
    "SIGHUP: bind and port and database and shutdown_timeout changes are logged as needing a "
    "restart while command-line flags still win",
    "[reload]") {
  temp_dir cfg, other;
  daemon_process d;
  start_with_config(d, cfg, "[logging]\nlevel = \"info\"\n", {"--workers", "1"});
  auto new_port = free_port();
  cfg.write("config.toml", "database_path = \"" + other.file("other.db") +
                               "\"\n[server]\nport = " + std::to_string(new_port) +
                               "\nshutdown_timeout = 5\n[jobs]\nworkers = 4\n");
  d.proc().signal(SIGHUP);
  REQUIRE(d.proc().wait_for_stderr("config reloaded: nothing to apply live", 5s));
  std::string err = d.proc().err();
  CHECK_THAT(err, Catch::Contains("database_path changed from"));
  CHECK_THAT(err, Catch::Contains("server.shutdown_timeout changed from 30 to 5: needs a restart"));
  CHECK_THAT(err, !Catch::Contains("jobs.workers changed"));  // --workers 1 wins
  // The daemon serves where it did, on the database it had.
  CHECK(health(d.port())["jobs"]["workers"] == 1);
  CHECK(health(d.port())["config_reload_count"] == 0);
  CHECK(connection_refused(new_port));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("SIGHUP: a token set in the file protects the API from the next request on", "[reload]") {
  temp_dir cfg;
  daemon_process d;
  start_with_config(d, cfg, "[logging]\nlevel = \"info\"\n");
  REQUIRE(http_get(d.port(), "/api/jobs")->status == 200);
  cfg.write("config.toml", "[server]\nauth_token = \"0123456789abcdef-secret\"\n");
  d.proc().signal(SIGHUP);
  REQUIRE(reload_count_reaches(d.port(), 1));
  CHECK(http_get(d.port(), "/api/jobs")->status == 401);
  http_connection c(d.port());
  auto ok = c.request("GET", "/api/jobs", "", "Authorization: Bearer 0123456789abcdef-secret\r\n");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK_THAT(d.proc().err(), !Catch::Contains("0123456789abcdef-secret"));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("SIGHUP lowering jobs.workers during a scan: the running scan completes", "[reload]") {
  temp_dir cfg, tree;
  for (int i = 0; i < 50; ++i) tree.write("v" + std::to_string(i) + ".mkv", "x");
  daemon_process d;
  start_with_config(d, cfg, "[jobs]\nworkers = 2\n");
  cfg.write("config.toml", "[jobs]\nworkers = 1\n");
  auto scan = post_scan(d.port(), tree.path());
  REQUIRE(scan);
  d.proc().signal(SIGHUP);
  REQUIRE(reload_count_reaches(d.port(), 1));
  CHECK(eventually([&] { return health(d.port())["jobs"]["workers"] == 1; }, 5s));
  CHECK(job_reaches(d.port(), (*scan)["id"], "completed", 10s));
  // Back up to 3: new workers take jobs at once.
  cfg.write("config.toml", "[jobs]\nworkers = 3\n");
  d.proc().signal(SIGHUP);
  REQUIRE(reload_count_reaches(d.port(), 2));
  CHECK(eventually([&] { return health(d.port())["jobs"]["workers"] == 3; }, 5s));
  auto again = post_scan(d.port(), tree.path());
  REQUIRE(again);
  CHECK(job_reaches(d.port(), (*again)["id"], "completed", 10s));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("SIGHUP during the drain is logged and ignored", "[reload][shutdown]") {
  temp_dir cfg;
  daemon_process d;
  start_with_config(d, cfg, "[logging]\nlevel = \"info\"\n", {"--log-level", "debug"});
  in_flight_request busy(d);  // holds the drain open
  d.proc().signal(SIGTERM);
  REQUIRE(d.proc().wait_for_stderr("draining, deadline in", 5s));
  cfg.write("config.toml", "[logging]\nlevel = \"error\"\n");
  d.proc().signal(SIGHUP);
  REQUIRE(d.proc().wait_for_stderr("during the drain: ignored", 5s));
  REQUIRE(busy.finish());
  CHECK(d.proc().wait(10s) == 0);
  std::string err = d.proc().err();
  CHECK_THAT(err, !Catch::Contains("reloading the configuration"));
  CHECK_THAT(err, Catch::Contains("shutdown summary: drained"));  // still at info
}

TEST_CASE("SIGHUP that would remove the token from a non-loopback listener is refused",
          "[reload]") {
  temp_dir cfg;
  const std::string token = "0123456789abcdef-token";
  daemon_process d;
  start_with_config(d, cfg, "[server]\nauth_token = \"" + token + "\"\n", {"--bind", "0.0.0.0"});
  cfg.write("config.toml", "[logging]\nlevel = \"debug\"\n");  // no token any more
  d.proc().signal(SIGHUP);
  REQUIRE(d.proc().wait_for_stderr("config reload failed", 5s));
  CHECK_THAT(d.proc().err(), Catch::Contains("not a loopback address"));
  CHECK(http_get(d.port(), "/api/jobs")->status == 401);  // still protected
  CHECK(reload_error_mentions(d.port(), "server.auth_token"));
  CHECK(health(d.port())["config_reload_count"] == 0);
  CHECK_THAT(d.proc().err(), !Catch::Contains("DEBUG"));  // nothing of it was applied
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("SIGHUP after the default config file was removed keeps the running configuration",
          "[reload]") {
  daemon_process d;
  d.home().write(".vpo/config.toml", "[jobs]\nworkers = 3\n");
  REQUIRE(d.start_ready());
  REQUIRE(health(d.port())["jobs"]["workers"] == 3);
  std::remove(d.home().file(".vpo/config.toml").c_str());
  d.proc().signal(SIGHUP);
  REQUIRE(d.proc().wait_for_stderr("config reload failed", 5s));
  CHECK_THAT(d.proc().err(), Catch::Contains("is gone (it was read at start-up)"));
  CHECK(health(d.port())["jobs"]["workers"] == 3);  // not back to the default 2
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE(
    "reload of a config that is a FIFO, /dev/zero or too big: refused at once, later "
    "reloads and SIGTERM still work",
    "[reload][hostile]") {
  temp_dir cfg;
  daemon_process d;
  std::string file = start_with_config(d, cfg, "[logging]\nlevel = \"info\"\n");
  std::remove(file.c_str());
  // A FIFO nobody writes to (before: the reload blocked for ever, and so did the next ones).
  REQUIRE(::mkfifo(file.c_str(), 0600) == 0);
  d.proc().signal(SIGHUP);
  REQUIRE(reload_error_mentions(d.port(), "it is a FIFO, not a regular file"));
  std::remove(file.c_str());
  // A symlink to /dev/zero (before: read until out of memory, exit 1).
  REQUIRE(::symlink("/dev/zero", file.c_str()) == 0);
  d.proc().signal(SIGHUP);
  REQUIRE(reload_error_mentions(d.port(), "it is a character device, not a regular file"));
  std::remove(file.c_str());
  // 2 MiB of comments.
  cfg.write("config.toml", std::string(2 << 20, '#'));
  d.proc().signal(SIGHUP);
  REQUIRE(reload_error_mentions(d.port(), "more than the 1024 KiB a config file may have"));
  CHECK(health(d.port())["status"] == "healthy");
  // A good file again: the next reload applies it.
  cfg.write("config.toml", "[logging]\nlevel = \"debug\"\n");
  d.proc().signal(SIGHUP);
  REQUIRE(reload_count_reaches(d.port(), 1));
  // And a FIFO once more, then an idle SIGTERM: exit 0 promptly (before: 143 at the last resort).
  std::remove(file.c_str());
  REQUIRE(::mkfifo(file.c_str(), 0600) == 0);
  d.proc().signal(SIGHUP);
  REQUIRE(eventually([&] { return count_of(d.proc().err(), "config reload failed") == 4; }, 5s));
  CHECK(d.stop(SIGTERM, 5s) == 0);
}
