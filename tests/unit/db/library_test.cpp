// library_test.cpp: create/verify/migrate the library database, the probe, the instance lock.
#include "db/library.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <filesystem>

#include <cstdio>

#include "db/damage.hpp"
#include "db/instance_lock.hpp"
#include "db/schema.hpp"
#include "tests/support/temp_dir.hpp"

using namespace vpo;
using vpo::test::temp_dir;

TEST_CASE("a missing database is created with its folder, schema version, WAL mode, 16 KiB pages",
          "[db]") {
  temp_dir dir;
  std::string path = dir.file("a/b/library.db");
  db::connection c;
  db::file_identity id;
  REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 1000, c, id).message == "");
  long long version = 0;
  REQUIRE(db::read_schema_version(c, version).ok());
  CHECK(version == db::current_schema_version());
  long long wal = 0;
  CHECK(
      c.query_int("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'", wal).ok());
  CHECK(wal == 1);
  long long page = 0;
  CHECK(c.query_int("PRAGMA page_size", page).ok());
  CHECK(page == 16384);
  CHECK(db::probe_library(c, path, id).ok());
}

TEST_CASE("existing_only never creates a database", "[db]") {
  temp_dir dir;
  db::connection c;
  db::file_identity id;
  auto s = db::open_library(dir.file("none.db"), db::open_mode::existing_only, 1000, c, id);
  CHECK_FALSE(s.ok());
  CHECK_FALSE(std::filesystem::exists(dir.file("none.db")));
}

TEST_CASE("a garbage file is reported as not a database with a fix", "[db]") {
  temp_dir dir;
  auto path = dir.write("lib.db", std::string(4096, 'g'));
  db::connection c;
  db::file_identity id;
  auto s = db::open_library(path, db::open_mode::create_if_missing, 1000, c, id);
  REQUIRE_FALSE(s.ok());
  CHECK(s.is(vpo::errc::corrupt));
  CHECK_THAT(s.message, Catch::Contains(path));
  CHECK_THAT(s.fix, Catch::Contains("not a SQLite database"));
}

TEST_CASE("a newer schema version is refused", "[db]") {
  temp_dir dir;
  std::string path = dir.file("lib.db");
  {
    db::connection c;
    db::file_identity id;
    REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 1000, c, id).ok());
    REQUIRE(c.exec("UPDATE schema_version SET version = 999").ok());
  }
  db::connection c;
  db::file_identity id;
  auto s = db::open_library(path, db::open_mode::create_if_missing, 1000, c, id);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message, Catch::Contains("newer than this vpo supports"));
}

TEST_CASE("a plain SQLite database without vpo's schema gets it", "[db]") {
  temp_dir dir;
  std::string path = dir.file("lib.db");
  {
    db::connection c;
    REQUIRE(c.open(path, db::open_mode::create_if_missing, 1000).ok());
    REQUIRE(c.exec("CREATE TABLE other (x INTEGER)").ok());
  }
  db::connection c;
  db::file_identity id;
  REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 1000, c, id).ok());
  long long version = 0;
  REQUIRE(db::read_schema_version(c, version).ok());
  CHECK(version == db::current_schema_version());
}

TEST_CASE("the probe notices a removed or replaced file", "[db]") {
  temp_dir dir;
  std::string path = dir.file("lib.db");
  db::connection c;
  db::file_identity id;
  REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 1000, c, id).ok());
  std::filesystem::copy_file(path, dir.file("copy.db"));
  std::filesystem::remove(path);
  CHECK_FALSE(db::probe_library(c, path, id).ok());
  std::filesystem::rename(dir.file("copy.db"), path);
  auto s = db::probe_library(c, path, id);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message, Catch::Contains("replaced"));
  // A valid copy can be reopened.
  db::connection again;
  db::file_identity id2;
  CHECK(db::open_library(path, db::open_mode::existing_only, 1000, again, id2).ok());
  CHECK(db::probe_library(again, path, id2).ok());
}

TEST_CASE("a database locked by another process beyond the timeout is reported as locked", "[db]") {
  temp_dir dir;
  std::string path = dir.file("lib.db");
  db::connection c;
  db::file_identity id;
  REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 100, c, id).ok());
  // In WAL mode only exclusive locking mode blocks readers, and it can only be entered while
  // no other connection is open: that is the reconnect path, after a failed probe closed ours.
  c.close();
  // Another process takes the exclusive lock, tells us, and holds it until we answer.
  int locked[2], release[2];
  REQUIRE(::pipe(locked) == 0);
  REQUIRE(::pipe(release) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(locked[0]);
    ::close(release[1]);  // so the read below ends if the parent dies
    db::connection other;
    bool ok = other.open(path, db::open_mode::existing_only, 2000).ok() &&
              other.exec("PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE;").ok();
    char byte = ok ? 'L' : 'E';
    ssize_t w = ::write(locked[1], &byte, 1);
    ssize_t r = ::read(release[0], &byte, 1);
    _exit(w == 1 && r >= 0 ? 0 : 1);
  }
  ::close(locked[1]);
  ::close(release[0]);
  pollfd p{locked[0], POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  char byte = 0;
  REQUIRE(::read(locked[0], &byte, 1) == 1);
  REQUIRE(byte == 'L');
  auto s = db::open_library(path, db::open_mode::existing_only, 100, c, id);
  CHECK_FALSE(s.ok());
  CHECK(s.is(vpo::errc::busy));
  CHECK_THAT(s.message, Catch::Contains("locked beyond the probe timeout"));
  REQUIRE(::write(release[1], "x", 1) == 1);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(db::open_library(path, db::open_mode::existing_only, 100, c, id).ok());
  CHECK(db::probe_library(c, path, id).ok());
  for (int fd : {locked[0], release[1]}) ::close(fd);
}

TEST_CASE("the probe notices garbage written over the file in place", "[db]") {
  temp_dir dir;
  std::string path = dir.file("lib.db");
  db::connection c;
  db::file_identity id;
  REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 100, c, id).ok());
  {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    REQUIRE(f);
    std::fputs("this is no longer SQLite", f);
    std::fclose(f);
  }
  auto s = db::probe_library(c, path, id);
  CHECK_FALSE(s.ok());
  CHECK(s.is(vpo::errc::corrupt));
}

TEST_CASE("only one holder of the instance lock at a time", "[db]") {
  temp_dir dir;
  std::string path = dir.file("lib.db");
  db::instance_lock first;
  REQUIRE(first.acquire(path) == "");
  {
    // flock locks belong to open file descriptions: a second open in-process conflicts too.
    db::instance_lock second;
    auto err = second.acquire(path);
    CHECK_THAT(err, Catch::Contains("already using database " + path));
    CHECK_THAT(err, Catch::Contains("pid " + std::to_string(::getpid())));
  }
}

TEST_CASE("damaged pages: the integrity check finds them and a read that meets them reports it",
          "[db][hostile]") {
  temp_dir dir;
  std::string path = dir.file("lib.db");
  {
    db::connection c;
    db::file_identity id;
    REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 100, c, id).ok());
    REQUIRE(c.exec("BEGIN").ok());
    for (int i = 0; i < 5000; ++i)
      REQUIRE(c.exec("INSERT INTO files (path, size, modified_at, mtime_ns, extension, "
                     "scanned_at) VALUES ('/media/some/long/folder/name/file" +
                     std::to_string(i) + ".mkv', 1, 'x', 1, 'mkv', 'x')")
                  .ok());
    REQUIRE(c.exec("COMMIT").ok());
    bool finished = false;
    CHECK(db::check_integrity(c, path, std::chrono::seconds(10), finished).ok());
    CHECK(finished);
  }  // closed: the WAL is checkpointed into the file
  {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    REQUIRE(f);
    std::string garbage(16 * 1024, '\xff');
    for (long page = 10; page < 14; ++page) {  // pages of the files table, not the schema's
      std::fseek(f, page * 16 * 1024, SEEK_SET);
      std::fwrite(garbage.data(), 1, garbage.size(), f);
    }
    std::fclose(f);
  }
  db::connection c;
  db::file_identity id;
  REQUIRE(db::open_library(path, db::open_mode::existing_only, 100, c, id).ok());
  CHECK(db::probe_library(c, path, id).ok());  // the cheap probe does not see it...
  bool finished = false;
  auto s = db::check_integrity(c, path, std::chrono::seconds(10), finished);
  CHECK(finished);  // ...the integrity check does
  CHECK(s.is(vpo::errc::corrupt));
  CHECK_THAT(s.fix, Catch::Contains("restore it from a backup"));
  CHECK_THAT(s.message, Catch::Contains("is damaged"));
  // A read that meets a damaged page leaves a report for the health probe.
  CHECK_FALSE(db::take_damage(c.handle()));
  long long n = 0;
  CHECK_FALSE(c.query_int("SELECT sum(length(path)) FROM files", n).ok());
  auto reported = db::take_damage(c.handle());
  REQUIRE(reported);
  CHECK_THAT(*reported, Catch::Contains("malformed"));
  CHECK_FALSE(db::take_damage(c.handle()));  // taken once
}
