// startup_test.cpp: every start-up failure of contract §3 with its exit code and message.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "tests/support/big_tree.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/skip.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;

namespace {

// Exactly one ERROR record, and no stack trace or banner around it.
void check_one_clear_error(const run_result& r, const std::string& needle) {
  INFO(r.err);
  CHECK(r.code == 1);
  std::size_t first = r.err.find("ERROR");
  REQUIRE(first != std::string::npos);
  CHECK(r.err.find("ERROR", first + 1) == std::string::npos);
  CHECK_THAT(r.err, Catch::Contains(needle));
  CHECK(r.out.empty());
}

run_result serve_once(const temp_dir& home, std::vector<std::string> args,
                      std::optional<unsigned> uid = std::nullopt) {
  std::vector<std::string> all = {"serve", "--port", std::to_string(free_port())};
  all.insert(all.end(), args.begin(), args.end());
  auto o = vpo_command(home, all);
  o.run_as_uid = uid;
  return run(o, 15s);
}

}  // namespace

TEST_CASE("serve creates the database with its schema under ~/.vpo and becomes healthy",
          "[startup]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  auto h = http_get(d.port(), "/health");
  REQUIRE(h);
  CHECK(h->status == 200);
  struct stat st {};
  CHECK(::stat(d.db_path().c_str(), &st) == 0);
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE(
    "while start-up waits for the write lock the listener already answers: /health 503 starting, "
    "/api 503 STARTING with Retry-After, then ready once the lock goes",
    "[startup]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  REQUIRE(d.stop(SIGTERM) == 0);
  // The job store recovers jobs in a write transaction: another process's write lock holds
  // start-up there (up to the store's 5 s busy timeout), after the gateway has bound.
  auto lock = std::make_unique<write_lock_holder>(d.db_path());
  d.start();
  std::optional<http_reply> h;
  auto until = std::chrono::steady_clock::now() + 4s;
  while (!(h = http_get(d.port(), "/health")) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);  // polling a port that is not bound yet: nothing to await
  REQUIRE(h);
  CHECK(h->status == 503);
  CHECK_THAT(h->body, Catch::Contains("\"status\":\"starting\""));
  auto api = http_get(d.port(), "/api/jobs");
  REQUIRE(api);
  CHECK(api->status == 503);
  CHECK_THAT(api->body, Catch::Contains("\"STARTING\""));
  CHECK(api->header("retry-after") == "1");
  lock.reset();
  REQUIRE(d.proc().wait_for_stderr(ready_line, 10s));
  CHECK(http_get(d.port(), "/health")->status == 200);
  CHECK(http_get(d.port(), "/api/jobs")->status == 200);
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE(
    "SIGTERM while start-up waits for the write lock stops the daemon: exit 0, no job queue left "
    "half-started, within the store's busy timeout",
    "[startup][shutdown]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  REQUIRE(d.stop(SIGTERM) == 0);
  auto lock = std::make_unique<write_lock_holder>(d.db_path());
  d.start();
  std::optional<http_reply> h;
  auto until = std::chrono::steady_clock::now() + 4s;
  while (!(h = http_get(d.port(), "/health")) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);  // polling a port that is not bound yet: nothing to await
  REQUIRE(h);
  REQUIRE(h->status == 503);  // the gateway is up, the job store still waits for the lock
  auto sent = std::chrono::steady_clock::now();
  d.proc().signal(SIGTERM);
  // The store gives up on the lock after its 5 s busy timeout; the stop waits for nothing else.
  auto code = d.proc().wait(10s);
  auto took = std::chrono::steady_clock::now() - sent;
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(took < 7s);
  CHECK_THAT(d.proc().err(), Catch::Contains("received SIGTERM during start-up: stopping"));
  CHECK_THAT(d.proc().err(), Catch::Contains("stopped during start-up"));
  CHECK_THAT(d.proc().err(), !Catch::Contains("ERROR"));
  lock.reset();
  // Nothing was left behind: the next start is ready at once.
  REQUIRE(d.start_ready());
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("a malformed or invalid config fails start-up with exit 1", "[startup]") {
  temp_dir home;
  home.write(".vpo/config.toml", "[server]\nport = \"x\"\n");
  check_one_clear_error(run(vpo_command(home, {"serve"}), 15s), "server.port");
}

TEST_CASE("an unreadable config file fails start-up with exit 1", "[startup]") {
  temp_dir home;
  check_one_clear_error(run(vpo_command(home, {"serve", "--config", home.file("none.toml")}), 15s),
                        "No such file");
}

TEST_CASE("a file that is not a database fails start-up with exit 1", "[startup]") {
  temp_dir home;
  auto db = home.write("garbage.db", std::string(4096, 'x'));
  check_one_clear_error(serve_once(home, {"--db", db}), "not a database");
}

TEST_CASE("a database folder that cannot be created fails start-up with exit 1", "[startup]") {
  temp_dir home;
  home.write("plainfile", "x");
  check_one_clear_error(serve_once(home, {"--db", home.file("plainfile/sub/library.db")}),
                        "cannot create the database folder");
}

TEST_CASE("a database path that is a folder fails start-up with exit 1", "[startup]") {
  temp_dir home;
  check_one_clear_error(serve_once(home, {"--db", home.path()}), "Is a directory");
}

TEST_CASE("permission denied on the database fails start-up with exit 1", "[startup]") {
  if (::geteuid() != 0) VPO_SKIP("needs root, to run the daemon as another user");
  temp_dir home;
  ::chmod(home.path().c_str(), 0755);
  ::mkdir(home.file("locked").c_str(), 0700);  // root-owned, nobody may not enter
  auto r = serve_once(home, {"--db", home.file("locked/library.db")}, 65534u);
  check_one_clear_error(r, "Permission denied");
  CHECK_THAT(r.err, Catch::Contains("permissions"));
}

TEST_CASE("a second daemon on the same database is refused", "[startup]") {
  daemon_process first;
  REQUIRE(first.start_ready());
  auto r = run(vpo_command(first.home(), {"serve", "--port", std::to_string(free_port())}), 15s);
  check_one_clear_error(r, "already using database");
  CHECK_THAT(r.err, Catch::Contains("pid " + std::to_string(first.proc().pid())));
  CHECK(first.stop(SIGTERM) == 0);
}

TEST_CASE("a port in use fails start-up with exit 1", "[startup]") {
  listener taken;
  REQUIRE(taken.port() != 0);
  temp_dir home;
  auto r = run(vpo_command(home, {"serve", "--port", std::to_string(taken.port())}), 15s);
  check_one_clear_error(r, "Address already in use");
  CHECK_THAT(r.err, Catch::Contains("--port"));
}

TEST_CASE("an address this machine does not have fails start-up with exit 1", "[startup]") {
  temp_dir home;
  // 192.0.2.0/24 is TEST-NET-1: never assigned to a real interface. (With a token: a
  // non-loopback bind without one is refused before any bind is tried.)
  home.write(".vpo/config.toml", "[server]\nauth_token = \"0123456789abcdef-token\"\n");
  auto r = serve_once(home, {"--bind", "192.0.2.1"});
  check_one_clear_error(r, "192.0.2.1");
  CHECK_THAT(r.err, Catch::Contains("--bind"));
}

TEST_CASE("a privileged port without permission fails start-up with exit 1", "[startup]") {
  if (::geteuid() != 0)
    VPO_SKIP("needs root, to run the daemon as nobody (as root the bind succeeds)");
  temp_dir home;
  ::chmod(home.path().c_str(), 0777);
  auto o = vpo_command(home, {"serve", "--port", "81", "--db", home.file("lib/library.db")});
  o.run_as_uid = 65534u;
  auto r = run(o, 15s);
  check_one_clear_error(r, "Permission denied");
  CHECK_THAT(r.err, Catch::Contains("CAP_NET_BIND_SERVICE"));
}

TEST_CASE("debug level is the only one that may show more than the error line", "[startup]") {
  temp_dir home;
  auto db = home.write("garbage.db", std::string(4096, 'y'));
  auto r = serve_once(home, {"--db", db});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, !Catch::Contains("terminate called"));
  CHECK_THAT(r.err, !Catch::Contains("what():"));
}

namespace {

// A library as vpo's schema v3 left it: files with a rowid, a `dir` column and its index.
void write_v3_library(const std::string& path, int files) {
  std::string sql =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version "
      "VALUES (3);"
      "CREATE TABLE jobs (id TEXT PRIMARY KEY, job_type TEXT NOT NULL, status TEXT NOT NULL "
      "DEFAULT 'queued', priority INTEGER NOT NULL DEFAULT 100, file_path TEXT, progress_percent "
      "REAL NOT NULL DEFAULT 0, created_at TEXT NOT NULL, started_at TEXT, completed_at TEXT, "
      "worker_pid INTEGER, worker_heartbeat TEXT, error_message TEXT, summary_json TEXT, origin "
      "TEXT, attempts INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX jobs_claim_order ON jobs (status, priority, created_at);"
      "CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT "
      "NULL, extension TEXT NOT NULL, scanned_at TEXT NOT NULL, missing INTEGER NOT NULL DEFAULT "
      "0, missing_since TEXT, dir TEXT NOT NULL DEFAULT '', modified_at TEXT NOT NULL DEFAULT '', "
      "mtime_ns INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX files_dir ON files (dir);"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
      std::to_string(files) +
      ") INSERT INTO files (path, size, extension, scanned_at, dir, modified_at, mtime_ns) "
      "SELECT '/srv/d' || (i % 100) || '/f' || i || '.mkv', i, 'mkv', "
      "'2026-01-01T00:00:00.000Z', '/srv/d' || (i % 100), '2020-09-13T12:26:40.123Z', "
      "1600000000123456789 FROM n;"
      "PRAGMA wal_checkpoint(TRUNCATE);";
  exec_db(path, sql);
}

}  // namespace

TEST_CASE("an older library (schema v3) is upgraded in place once, and the upgrade is logged",
          "[startup]") {
  daemon_process d;
  std::filesystem::create_directories(std::filesystem::path(d.db_path()).parent_path());
  write_v3_library(d.db_path(), 20000);
  REQUIRE(d.start_ready());
  CHECK_THAT(d.proc().err(), Catch::Contains("database schema upgraded from version 3 to 4"));
  CHECK_THAT(d.proc().err(), Catch::Contains("from_version=3"));
  CHECK(d.stop(SIGTERM) == 0);
  CHECK(query_db(d.db_path(), "SELECT max(version) FROM schema_version") == "4");
  CHECK(query_db(d.db_path(),
                 "SELECT count(*) FROM files WHERE size > 0 AND mtime_ns = "
                 "1600000000123456789") == "20000");
  CHECK(query_db(d.db_path(), "PRAGMA integrity_check") == "ok");
  REQUIRE(d.start_ready());  // once: the next start finds the current schema
  CHECK_THAT(d.proc().err(), !Catch::Contains("upgraded"));
  CHECK(d.stop(SIGTERM) == 0);
}

TEST_CASE("a daemon refused by the instance lock leaves an older library untouched", "[startup]") {
  // An upgraded vpo started beside the running older one must not migrate the database under
  // it: the lock is taken before the database is opened.
  temp_dir home;
  std::string db = home.file("lib/library.db");
  std::filesystem::create_directories(home.file("lib"));
  write_v3_library(db, 10);
  int lock = ::open((db + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  REQUIRE(lock >= 0);
  REQUIRE(::flock(lock, LOCK_EX | LOCK_NB) == 0);
  auto r = serve_once(home, {"--db", db});
  ::close(lock);
  check_one_clear_error(r, "already using database");
  CHECK(query_db(db, "SELECT max(version) FROM schema_version") == "3");
  CHECK(query_db(db, "SELECT count(*) FROM pragma_table_info('files') WHERE name = 'dir'") == "1");
}

namespace {

// `vpo serve` started the way systemd's socket activation starts it (LISTEN_FDS, LISTEN_PID):
// systemd-socket-activate listens on `listen`, then execs vpo on the first connection.
process_options socket_activated(const temp_dir& home, const std::string& listen,
                                 std::vector<std::string> args) {
  auto o = vpo_command(home, args);
  o.args.insert(o.args.begin(), {"/usr/bin/systemd-socket-activate", "-l", listen});
  return o;
}

}  // namespace

TEST_CASE(
    "socket activation: vpo serves on the socket systemd passes and the first connection is "
    "answered (not refused)",
    "[startup][systemd]") {
  if (::access("/usr/bin/systemd-socket-activate", X_OK) != 0)
    FAIL("systemd-socket-activate is missing: scripts/ensure-deps.sh installs systemd");
  temp_dir home;
  auto port = free_port();
  auto unused = free_port();  // --port is ignored: the socket comes from systemd
  process d(socket_activated(home, "127.0.0.1:" + std::to_string(port),
                             {"serve", "--port", std::to_string(unused)}));
  REQUIRE(d.wait_for_stderr("Listening on", 5s));  // systemd-socket-activate's own line
  // This connection starts vpo (nothing runs before it) and waits in the socket's queue.
  auto first = http_get(port, "/livez");
  REQUIRE(first);
  CHECK(first->status == 200);
  REQUIRE(d.wait_for_stderr("vpo.supervisor: ready", 10s));
  CHECK_THAT(d.err(), Catch::Contains("listening on 127.0.0.1:" + std::to_string(port) +
                                      " (socket activation"));
  CHECK(http_get(port, "/health")->status == 200);
  CHECK(connection_refused(unused));
  d.signal(SIGTERM);
  CHECK(d.wait(10s) == 0);
}

TEST_CASE("socket activation with a socket that is not TCP fails start-up with exit 1",
          "[startup][systemd]") {
  if (::access("/usr/bin/systemd-socket-activate", X_OK) != 0)
    FAIL("systemd-socket-activate is missing: scripts/ensure-deps.sh installs systemd");
  temp_dir home, sockets;
  auto path = sockets.file("vpo.sock");
  process d(socket_activated(home, path, {"serve"}));
  // Connect to the UNIX socket: that starts vpo, which refuses it.
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  REQUIRE(eventually(
      [&] { return ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0; }, 5s));
  CHECK(d.wait(15s) == 1);
  ::close(fd);
  CHECK_THAT(d.err(), Catch::Contains("is not a listening TCP socket"));
  CHECK_THAT(d.err(), Catch::Contains("ListenStream="));
}
