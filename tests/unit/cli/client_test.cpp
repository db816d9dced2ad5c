// client_test.cpp: the client's pure parts: human formatting, URL parsing.
#include <catch2/catch.hpp>

#include "cli/client/answer.hpp"
#include "cli/client/http.hpp"
#include "cli/client/human.hpp"
#include "cli/client/terminal.hpp"

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

TEST_CASE(
    "for_terminal: control bytes, C1, bidi overrides and invalid UTF-8 become visible escapes",
    "[client][hostile]") {
  CHECK(for_terminal("plain/Film (2019) é 字.mkv") == "plain/Film (2019) é 字.mkv");
  CHECK(for_terminal("a\x1b]0;owned\x07"
                     "b") == "a\\x1b]0;owned\\x07b");
  CHECK(for_terminal("row\nforged\rx\ty") == "row\\nforged\\rx\\ty");
  CHECK(for_terminal(std::string("nul\0x", 5)) == "nul\\x00x");
  CHECK(for_terminal("del\x7f") == "del\\x7f");
  CHECK(for_terminal("csi\xc2\x9b"
                     "2J") == "csi\\u009b2J");                             // C1 CSI as UTF-8
  CHECK(for_terminal("evil\xe2\x80\xaegnp.mkv") == "evil\\u202egnp.mkv");  // RLO
  CHECK(for_terminal("bad\xff\xfename") == "bad\\xff\\xfename");
  CHECK(for_terminal("\xc0\xaf") == "\\xc0\\xaf");           // overlong '/'
  CHECK(for_terminal("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
  CHECK(for_terminal("cut\xe5\xad") == "cut\\xe5\\xad");     // truncated sequence
  CHECK(for_terminal("back\\slash") == "back\\\\slash");     // unambiguous
  // Two names that differ only in invalid bytes stay different.
  CHECK(for_terminal("x\xff") != for_terminal("x\xfe"));
}

TEST_CASE("answers: nesting and key budgets, printable documents, --json stays the same value",
          "[client][hostile]") {
  std::string why;
  CHECK(parse_answer("{\"a\": [1, {\"b\": null}]}", why));
  std::string deep(100000, '[');
  CHECK_FALSE(parse_answer(deep + std::string(100000, ']'), why));
  CHECK_THAT(why, Catch::Contains("deeper than 64"));
  std::string many = "{";
  for (int i = 0; i < 80000; ++i) many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  many += "}";
  auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(parse_answer(many, why));
  CHECK_THAT(why, Catch::Contains("too many keys"));
  // Refused after about 2,800 keys, not after 80,000 of a quadratic build.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  CHECK_FALSE(parse_answer("{\"a\":1} trailing", why));

  auto doc = parse_answer(
      "{\"path\": \"/m/\\u001b[2Jx\\u009b\\n.mkv\", \"k\\u0007\": [\"\\u202e\"]}", why);
  REQUIRE(doc);
  CHECK(json_line(*doc) ==
        "{\"path\":\"/m/\\u001b[2Jx\\u009b\\n.mkv\",\"k\\u0007\":[\"\\u202e\"]}");
  CHECK(json::parse(json_line(*doc)) == *doc);  // the same value
  make_printable(*doc);
  CHECK((*doc)["path"] == "/m/\\x1b[2Jx\\u009b\\n.mkv");
  CHECK((*doc)["k\\x07"][0] == "\\u202e");
}
