// rules_test.cpp: the per-key rules and strict parsers.
#include "config/rules.hpp"

#include <catch2/catch.hpp>

using namespace vpo::config;

TEST_CASE("port, workers and timeout ranges are enforced at their edges", "[config][rules]") {
  CHECK(rules::check_port(0));
  CHECK_FALSE(rules::check_port(1));
  CHECK_FALSE(rules::check_port(65535));
  CHECK(rules::check_port(65536));
  CHECK(rules::check_workers(0));
  CHECK_FALSE(rules::check_workers(1));
  CHECK_FALSE(rules::check_workers(64));
  CHECK(rules::check_workers(65));
  CHECK(rules::check_shutdown_timeout(0));
  CHECK(rules::check_shutdown_timeout(-0.5));
  CHECK_FALSE(rules::check_shutdown_timeout(0.1));
  CHECK(rules::check_shutdown_timeout(86401));
}

TEST_CASE("bind accepts IPs and resolvable names and rejects garbage", "[config][rules]") {
  CHECK_FALSE(rules::check_bind("127.0.0.1"));
  CHECK_FALSE(rules::check_bind("0.0.0.0"));
  CHECK_FALSE(rules::check_bind("::1"));
  CHECK_FALSE(rules::check_bind("localhost"));
  CHECK(rules::check_bind(""));
  CHECK(rules::check_bind("300.1.2.3.4"));
  CHECK(rules::check_bind("host name"));
  CHECK(rules::check_bind("no-such-host.invalid"));
}

TEST_CASE("levels and formats parse in any case, warn is warning", "[config][rules]") {
  CHECK(rules::parse_level("DeBuG") == log_level::debug);
  CHECK(rules::parse_level("WARN") == log_level::warning);
  CHECK(rules::parse_level("warning") == log_level::warning);
  CHECK_FALSE(rules::parse_level("trace"));
  CHECK(rules::parse_format("JSON") == log_format::json);
  CHECK_FALSE(rules::parse_format("logfmt"));
}

TEST_CASE("strict parsers reject trailing junk and blanks", "[config][rules]") {
  CHECK(rules::parse_integer("42") == 42);
  CHECK(rules::parse_integer("+42") == 42);
  CHECK_FALSE(rules::parse_integer("42x"));
  CHECK_FALSE(rules::parse_integer(" 42"));
  CHECK_FALSE(rules::parse_integer(""));
  CHECK(rules::parse_number("2.5") == 2.5);
  CHECK_FALSE(rules::parse_number("2.5s"));
  CHECK_FALSE(rules::parse_number("nan"));
  CHECK(rules::parse_bool("TRUE") == true);
  CHECK(rules::parse_bool("0") == false);
  CHECK_FALSE(rules::parse_bool("maybe"));
  CHECK(rules::check_auth_token("0123456789abcdef") == std::nullopt);
  CHECK(rules::check_auth_token("0123456789abcde"));
}
