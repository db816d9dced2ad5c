// client_test.cpp: the client's pure parts: human formatting, URL parsing.
#include <catch2/catch.hpp>

#include "cli/client/http.hpp"
#include "cli/client/human.hpp"

using namespace vpo::cli::client;

TEST_CASE("sizes, counts and durations read like a person writes them", "[client]") {
  CHECK(human::size(0) == "0 B");
  CHECK(human::size(1023) == "1023 B");
  CHECK(human::size(1536) == "1.5 KiB");
  CHECK(human::size(1503238553) == "1.4 GiB");
  CHECK(human::size(50LL << 40) == "50 TiB");
  CHECK(human::count(0) == "0");
  CHECK(human::count(999) == "999");
  CHECK(human::count(1234567) == "1,234,567");
  CHECK(human::duration(45.9) == "45 s");
  CHECK(human::duration(180) == "3 min");
  CHECK(human::duration(7500) == "2 h 5 min");
  CHECK(human::duration(3 * 86400 + 4 * 3600) == "3 d 4 h");
}

TEST_CASE("ago: relative to now, tolerant of the unreadable", "[client]") {
  auto t = human::parse_time("2026-11-22T01:02:03.456Z");
  REQUIRE(t);
  CHECK(human::ago(std::string("2026-11-22T01:02:03.456Z"), *t + std::chrono::minutes(3)) ==
        "3 min ago");
  CHECK(human::ago(std::string("2026-11-22T01:02:03Z"), *t) == "just now");
  CHECK(human::ago(std::nullopt, *t) == "-");
  CHECK(human::ago(std::string("yesterday"), *t) == "yesterday");
  CHECK_FALSE(human::parse_time("2026-11-22 01:02:03"));
}

TEST_CASE("tables align every column to its widest cell, UTF-8 counted as characters", "[client]") {
  auto t = human::table({"A", "SIZE", "PATH"}, {{"xé", "1 B", "/a"}, {"x", "10 KiB", "/bb"}},
                        {false, true, false});
  CHECK(t ==
        "A     SIZE  PATH\n"
        "xé     1 B  /a\n"
        "x   10 KiB  /bb\n");
  CHECK(human::bar(45, 10) == "[####------]  45.0 %");
  CHECK(human::bar(150, 4) == "[####] 100.0 %");
}

TEST_CASE("daemon URLs: http://HOST:PORT only, with clear reasons otherwise", "[client]") {
  std::string why;
  auto ep = parse_url("http://127.0.0.1:8321/", why);
  REQUIRE(ep);
  CHECK(ep->host == "127.0.0.1");
  CHECK(ep->port == "8321");
  CHECK(ep->url == "http://127.0.0.1:8321");
  ep = parse_url("http://[::1]:9000", why);
  REQUIRE(ep);
  CHECK(ep->host == "::1");
  CHECK(ep->port == "9000");
  CHECK(parse_url("http://vpo.example", why)->port == "80");
  CHECK_FALSE(parse_url("https://x:1", why));
  CHECK_THAT(why, Catch::Contains("https is not supported"));
  CHECK_FALSE(parse_url("127.0.0.1:8321", why));
  CHECK_THAT(why, Catch::Contains("http://"));
  CHECK_FALSE(parse_url("http://h:0", why));
  CHECK_FALSE(parse_url("http://h:99999", why));
  CHECK_FALSE(parse_url("http://h:80/api", why));
  CHECK_FALSE(parse_url("http://::1:80", why));
  CHECK_THAT(why, Catch::Contains("brackets"));
}
