// formatter_test.cpp: text/JSON layouts, hostile input, journald prefixes, payload encoding.
#include "logging/formatter.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace vpo::logging;
using vpo::config::log_format;
using vpo::config::log_level;

namespace {

const std::string hostile =
    std::string("quote \" backslash \\ newline\nreturn\r tab\t bell\x07 nul") +
    std::string(1, '\0') + " bad utf8 \xff\xfe end \xc3 \xe6\x97\xa5\xe6\x9c\xac";

std::chrono::system_clock::time_point fixed_time() {
  // 2026-11-22T01:02:03.456Z
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(1795309323456LL));
}

}  // namespace

TEST_CASE("timestamps are RFC 3339 UTC with milliseconds and Z", "[logging]") {
  CHECK(rfc3339_ms(fixed_time()) == "2026-11-22T01:02:03.456Z");
}

TEST_CASE("a JSON line is one valid object whatever the message holds", "[logging]") {
  std::string encoded = encode("vpo.http",
                               {{"file_path", hostile},
                                {"job_id", "j-1"},
                                {"status", 200},
                                {"duration_ms", 1.5},
                                {"ok", true}},
                               hostile);
  line_style style{log_format::json, false, 4242};
  std::string line = format_line(style, log_level::warning, fixed_time(), decode(encoded));
  REQUIRE(line.back() == '\n');
  REQUIRE(line.find('\n') == line.size() - 1);
  auto j = nlohmann::json::parse(line);
  CHECK(j["timestamp"] == "2026-11-22T01:02:03.456Z");
  CHECK(j["level"] == "warning");
  CHECK(j["logger"] == "vpo.http");
  CHECK(j["daemon"] == true);
  CHECK(j["pid"] == 4242);
  CHECK(j["job_id"] == "j-1");
  CHECK(j["status"] == 200);
  CHECK(j["duration_ms"] == 1.5);
  CHECK(j["ok"] == true);
  std::string msg = j["message"];
  CHECK_THAT(msg, Catch::StartsWith("quote \" backslash \\ newline\nreturn"));
  CHECK_THAT(msg, Catch::Contains("\xef\xbf\xbd"));  // U+FFFD replaced the invalid bytes
  CHECK_THAT(msg, Catch::Contains("\xe6\x97\xa5\xe6\x9c\xac"));  // valid UTF-8 kept
  // Field order: the fixed fields first, as log pipelines expect.
  CHECK(line.rfind("{\"timestamp\":", 0) == 0);
}

TEST_CASE("a context field cannot overwrite a fixed JSON field", "[logging]") {
  std::string encoded = encode("vpo.x", {{"level", "forged"}, {"pid", 1}}, "m");
  auto j = nlohmann::json::parse(
      format_line({log_format::json, false, 7}, log_level::info, fixed_time(), decode(encoded)));
  CHECK(j["level"] == "info");
  CHECK(j["pid"] == 7);
  CHECK(j["ctx_level"] == "forged");
}

TEST_CASE("a text line has the contract layout and stays on one line", "[logging]") {
  std::string encoded = encode("vpo.http", {{"job_id", "j-1"}, {"file_path", "/a b/c"}},
                               "listening on 127.0.0.1:8321\nsecond line");
  std::string line =
      format_line({log_format::text, false, 1}, log_level::info, fixed_time(), decode(encoded));
  CHECK(line ==
        "2026-11-22T01:02:03.456Z INFO  vpo.http: listening on 127.0.0.1:8321\\nsecond line "
        "job_id=j-1 file_path=\"/a b/c\"\n");
}

TEST_CASE("journald prefixes carry the sd-daemon priority of each level", "[logging]") {
  std::string encoded = encode("vpo", {}, "m");
  auto r = decode(encoded);
  auto prefix = [&](log_level l, log_format f) {
    return format_line({f, true, 1}, l, fixed_time(), r).substr(0, 3);
  };
  CHECK(prefix(log_level::error, log_format::text) == "<3>");
  CHECK(prefix(log_level::warning, log_format::text) == "<4>");
  CHECK(prefix(log_level::info, log_format::text) == "<6>");
  CHECK(prefix(log_level::debug, log_format::text) == "<7>");
  CHECK(prefix(log_level::error, log_format::json) == "<3>");
  CHECK(format_line({log_format::text, false, 1}, log_level::error, fixed_time(), r)[0] == '2');
}

TEST_CASE("payload encoding round-trips names, typed fields and hostile messages", "[logging]") {
  std::string msg = std::string("\x1e") + "12:fake" + hostile;
  std::string encoded =
      encode("vpo.db", {{"a", "x\x1ey"}, {"b", -5}, {"c", false}, {"d", 0.25}}, msg);
  auto r = decode(encoded);
  CHECK(r.logger == "vpo.db");
  REQUIRE(r.context.size() == 4);
  CHECK(std::get<std::string>(r.context[0].value) == "x\x1ey");
  CHECK(std::get<std::int64_t>(r.context[1].value) == -5);
  CHECK(std::get<bool>(r.context[2].value) == false);
  CHECK(std::get<double>(r.context[3].value) == 0.25);
  CHECK(r.message == msg);
  auto plain = decode("no marker here");
  CHECK(plain.message == "no marker here");
  CHECK(plain.context.empty());
}
