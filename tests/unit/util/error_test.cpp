// error_test.cpp: vpo's error model below the actors: errc, its category, errno mapping, result<T>.
#include <catch2/catch.hpp>
#include <cerrno>
#include <string>

#include "db/connection.hpp"
#include "util/error.hpp"
#include "util/result.hpp"

using vpo::errc;

TEST_CASE("an errc is a std::error_code of the vpo category, named in words", "[error]") {
  std::error_code ec = errc::busy;
  CHECK(ec.category().name() == std::string("vpo"));
  CHECK(ec.message() == "busy");
  CHECK(ec == errc::busy);
  CHECK(ec != errc::full);
  CHECK(std::error_code(errc::internal).message() == "internal error");
  CHECK_FALSE(vpo::error().code);  // default: success
}

TEST_CASE("errno values map to the kinds the actors act on", "[error]") {
  CHECK(vpo::errc_from_errno(ENOSPC) == errc::full);
  CHECK(vpo::errc_from_errno(EDQUOT) == errc::full);
  CHECK(vpo::errc_from_errno(EROFS) == errc::read_only);
  CHECK(vpo::errc_from_errno(EACCES) == errc::permission_denied);
  CHECK(vpo::errc_from_errno(ENOENT) == errc::not_found);
  CHECK(vpo::errc_from_errno(EMFILE) == errc::overloaded);
  CHECK(vpo::errc_from_errno(EIO) == errc::io);
  auto e = vpo::errno_error(ENOENT, "cannot open /x");
  CHECK(e.is(errc::not_found));
  CHECK(e.message == "cannot open /x: No such file or directory");
}

TEST_CASE("result holds a value or an error, never both", "[error]") {
  vpo::result<int> good = 7;
  REQUIRE(good.ok());
  CHECK(*good == 7);
  CHECK(good.error().ok());
  vpo::result<int> bad{errc::not_found, "no job with id 'x'"};
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().is(errc::not_found));
  CHECK(bad.error().message == "no job with id 'x'");
  vpo::result<void> done;
  CHECK(done.ok());
  vpo::result<void> failed = vpo::error(errc::io, "disk");
  CHECK_FALSE(failed.ok());
}

TEST_CASE("SQLite's codes are mapped at the db room's edge, with the operator's fix",
          "[error][db]") {
  using vpo::db::sqlite_error;
  CHECK(sqlite_error(SQLITE_BUSY, 0, "x").is(errc::busy));
  CHECK(sqlite_error(SQLITE_BUSY_SNAPSHOT, 0, "x").is(errc::busy));  // extended codes too
  CHECK(sqlite_error(SQLITE_LOCKED, 0, "x").is(errc::busy));
  CHECK(sqlite_error(SQLITE_FULL, 0, "x").is(errc::full));
  CHECK(sqlite_error(SQLITE_READONLY, 0, "x").is(errc::read_only));
  CHECK(sqlite_error(SQLITE_READONLY, EACCES, "x").is(errc::permission_denied));
  CHECK(sqlite_error(SQLITE_CANTOPEN, EACCES, "x").is(errc::permission_denied));
  CHECK(sqlite_error(SQLITE_CANTOPEN, ENOENT, "x").is(errc::not_found));
  CHECK(sqlite_error(SQLITE_CANTOPEN, 0, "x").is(errc::unavailable));
  CHECK(sqlite_error(SQLITE_CORRUPT, 0, "x").is(errc::corrupt));
  CHECK(sqlite_error(SQLITE_NOTADB, 0, "x").is(errc::corrupt));
  CHECK(sqlite_error(SQLITE_IOERR_WRITE, 0, "x").is(errc::io));
  CHECK(sqlite_error(SQLITE_CONSTRAINT_UNIQUE, 0, "x").is(errc::constraint));
  CHECK(sqlite_error(SQLITE_INTERRUPT, 0, "x").is(errc::cancelled));
  CHECK(sqlite_error(SQLITE_ERROR, 0, "x").is(errc::internal));
  CHECK_THAT(sqlite_error(SQLITE_NOTADB, 0, "x").fix, Catch::Contains("not a SQLite database"));
  CHECK_THAT(sqlite_error(SQLITE_CANTOPEN, EISDIR, "x").fix, Catch::Contains("not a folder"));
  CHECK_THAT(sqlite_error(SQLITE_CANTOPEN, EACCES, "x").fix, Catch::Contains("permissions"));
  CHECK_THAT(sqlite_error(SQLITE_FULL, 0, "x").fix, Catch::Contains("free some space"));
}
