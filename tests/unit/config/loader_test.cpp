// loader_test.cpp: precedence matrix, every validation rule and bad input of contract §1-2.
#include "config/loader.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include "tests/support/temp_dir.hpp"

using vpo::config::load;
using vpo::config::load_input;
using vpo::config::loaded_config;
using vpo::config::origin;
using vpo::test::temp_dir;

namespace {

struct fixture {
  temp_dir home;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> cli;

  fixture() { env["HOME"] = home.path(); }

  std::string write_config(const std::string& content) {
    auto p = home.write(".vpo/config.toml", content);
    return p;
  }

  loaded_config run() {
    load_input in;
    in.cli = cli;
    in.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    return load(in);
  }
};

const vpo::config::shown_value& shown(const loaded_config& c, const std::string& key) {
  for (const auto& v : c.shown)
    if (v.key == key) return v;
  FAIL("no shown value for " << key);
  throw std::logic_error("unreachable");
}

std::string all_errors(const loaded_config& c) {
  std::string s;
  for (const auto& e : c.errors) s += e.message + "\n";
  return s;
}

}  // namespace

TEST_CASE("built-in defaults apply when no layer sets anything", "[config]") {
  fixture f;
  auto c = f.run();
  REQUIRE(c.errors.empty());
  CHECK(c.values.server.bind == "127.0.0.1");
  CHECK(c.values.server.port == 8321);
  CHECK(c.values.server.shutdown_timeout == 30.0);
  CHECK_FALSE(c.values.server.auth_token.has_value());
  CHECK_FALSE(c.values.server.allow_unauthenticated);
  CHECK(c.values.logging.level == vpo::config::log_level::info);
  CHECK(c.values.logging.format == vpo::config::log_format::text);
  CHECK(c.values.jobs.workers == 2);
  CHECK(c.values.database_path == f.home.path() + "/.vpo/library.db");
  CHECK(c.config_path == f.home.path() + "/.vpo/config.toml");
  CHECK(c.config_path_origin == origin::default_value);
  CHECK_FALSE(c.config_file_loaded);
  for (const auto& v : c.shown) CHECK(v.from == origin::default_value);
  CHECK(shown(c, "server.auth_token").value == "(unset)");
}

namespace {
// One row per key: the CLI text, the env text, the TOML line, and what each must render as.
struct matrix_row {
  std::string key, env_name, section, toml_key;
  std::string cli_value, env_value, file_toml, file_shown, cli_shown, env_shown;
};
const std::vector<matrix_row> matrix = {
    {"server.port", "VPO_SERVER_PORT", "server", "port", "9001", "9002", "9003", "9003", "9001",
     "9002"},
    {"server.bind", "VPO_SERVER_BIND", "server", "bind", "127.0.0.2", "127.0.0.3", "\"127.0.0.4\"",
     "127.0.0.4", "127.0.0.2", "127.0.0.3"},
    {"server.shutdown_timeout", "VPO_SERVER_SHUTDOWN_TIMEOUT", "server", "shutdown_timeout", "5",
     "6.5", "7", "7", "5", "6.5"},
    {"logging.level", "VPO_LOG_LEVEL", "logging", "level", "DEBUG", "warn", "\"Error\"", "error",
     "debug", "warning"},
    {"logging.format", "VPO_LOG_FORMAT", "logging", "format", "json", "JSON", "\"text\"", "text",
     "json", "json"},
    {"jobs.workers", "VPO_JOBS_WORKERS", "jobs", "workers", "3", "4", "5", "5", "3", "4"},
    {"database_path", "VPO_DATABASE_PATH", "", "database_path", "/c.db", "/e.db", "\"/f.db\"",
     "/f.db", "/c.db", "/e.db"},
};
}  // namespace

TEST_CASE("precedence is cli > file > env > default for every key", "[config]") {
  for (const auto& row : matrix) {
    for (int mask = 0; mask < 8; ++mask) {
      bool use_cli = mask & 1, use_file = mask & 2, use_env = mask & 4;
      fixture f;
      if (use_cli) f.cli[row.key] = row.cli_value;
      if (use_env) f.env[row.env_name] = row.env_value;
      if (use_file) {
        std::string toml = row.section.empty() ? row.toml_key + " = " + row.file_toml + "\n"
                                               : "[" + row.section + "]\n" + row.toml_key + " = " +
                                                     row.file_toml + "\n";
        f.write_config(toml);
      }
      auto c = f.run();
      INFO("key " << row.key << " cli=" << use_cli << " file=" << use_file << " env=" << use_env);
      REQUIRE(all_errors(c) == "");
      const auto& v = shown(c, row.key);
      if (use_cli) {
        CHECK(v.from == origin::cli);
        CHECK(v.value == row.cli_shown);
      } else if (use_file) {
        CHECK(v.from == origin::file);
        CHECK(v.value == row.file_shown);
      } else if (use_env) {
        CHECK(v.from == origin::env);
        CHECK(v.value == row.env_shown);
      } else {
        CHECK(v.from == origin::default_value);
      }
    }
  }
}

TEST_CASE("auth_token and allow_unauthenticated come from file or env, file winning", "[config]") {
  fixture f;
  f.env["VPO_AUTH_TOKEN"] = "env-token-0123456789";
  f.env["VPO_SERVER_ALLOW_UNAUTHENTICATED"] = "true";
  auto c = f.run();
  REQUIRE(c.errors.empty());
  CHECK(c.values.server.auth_token == std::optional<std::string>("env-token-0123456789"));
  CHECK(shown(c, "server.auth_token").from == origin::env);
  CHECK(shown(c, "server.auth_token").value == "****");
  CHECK(c.values.server.allow_unauthenticated);

  f.write_config(
      "[server]\nauth_token = \"file-token-0123456789\"\nallow_unauthenticated = false\n");
  c = f.run();
  REQUIRE(c.errors.empty());
  CHECK(c.values.server.auth_token == std::optional<std::string>("file-token-0123456789"));
  CHECK(shown(c, "server.auth_token").from == origin::file);
  CHECK_FALSE(c.values.server.allow_unauthenticated);
}

TEST_CASE("a blank auth_token or an empty VPO_AUTH_TOKEN means no token, as VPO's template says",
          "[config]") {
  fixture f;
  f.write_config("[server]\nauth_token = \"\"\n");
  auto c = f.run();
  REQUIRE(all_errors(c) == "");
  CHECK_FALSE(c.values.server.auth_token.has_value());
  CHECK(shown(c, "server.auth_token").value == "(unset)");
  f.env["VPO_AUTH_TOKEN"] = "";
  c = f.run();
  REQUIRE(all_errors(c) == "");
  CHECK_FALSE(c.values.server.auth_token.has_value());
  // A blank file value does not hide a token the environment sets: it sets nothing.
  f.write_config("[server]\nauth_token = \"   \"\n");
  f.env["VPO_AUTH_TOKEN"] = "env-token-0123456789";
  c = f.run();
  REQUIRE(all_errors(c) == "");
  CHECK(c.values.server.auth_token == std::optional<std::string>("env-token-0123456789"));
  CHECK(shown(c, "server.auth_token").from == origin::env);
  // A short non-blank token is still an error.
  f.write_config("[server]\nauth_token = \"short\"\n");
  CHECK_THAT(all_errors(f.run()), Catch::Contains("at least 16 characters"));
}

TEST_CASE("the config path comes from --config, else VPO_CONFIG_PATH, else VPO_DATA_DIR",
          "[config]") {
  fixture f;
  auto data = f.home.path() + "/data";
  f.home.write("data/config.toml", "[server]\nport = 1111\n");
  f.home.write("envconf.toml", "[server]\nport = 2222\n");
  f.home.write("cliconf.toml", "[server]\nport = 3333\n");

  f.env["VPO_DATA_DIR"] = data;
  auto c = f.run();
  REQUIRE(c.errors.empty());
  CHECK(c.values.server.port == 1111);
  CHECK(c.values.database_path == data + "/library.db");
  CHECK(c.config_path_origin == origin::default_value);

  f.env["VPO_CONFIG_PATH"] = f.home.file("envconf.toml");
  c = f.run();
  CHECK(c.values.server.port == 2222);
  CHECK(c.config_path_origin == origin::env);

  f.cli["config"] = f.home.file("cliconf.toml");
  c = f.run();
  CHECK(c.values.server.port == 3333);
  CHECK(c.config_path_origin == origin::cli);
}

TEST_CASE("a missing explicit config file is an error, a missing default one is not", "[config]") {
  fixture f;
  f.cli["config"] = f.home.file("nope.toml");
  auto c = f.run();
  REQUIRE(c.errors.size() == 1);
  CHECK_THAT(c.errors[0].message, Catch::Contains(f.home.file("nope.toml")));
  CHECK_THAT(c.errors[0].message, Catch::Contains("No such file"));

  fixture g;
  g.env["VPO_CONFIG_PATH"] = g.home.file("nope.toml");
  c = g.run();
  REQUIRE(c.errors.size() == 1);
  CHECK_THAT(c.errors[0].message, Catch::Contains("VPO_CONFIG_PATH"));
}

TEST_CASE("an unreadable or directory config file is an error naming the OS reason", "[config]") {
  fixture f;
  f.cli["config"] = f.home.path();
  auto c = f.run();
  REQUIRE(c.errors.size() == 1);
  CHECK_THAT(c.errors[0].message, Catch::Contains("Is a directory"));

  if (geteuid() != 0) {  // root reads any file regardless of mode
    fixture g;
    auto p = g.write_config("[server]\n");
    chmod(p.c_str(), 0);
    c = g.run();
    REQUIRE(c.errors.size() == 1);
    CHECK_THAT(c.errors[0].message, Catch::Contains("Permission denied"));
  } else {
    WARN("root reads a file of mode 000: the permission-denied case is not exercised here");
  }
}

TEST_CASE("malformed TOML names the file, line and column", "[config]") {
  fixture f;
  auto p = f.write_config("[server]\nport = 8321\nbind = \"unterminated\n");
  auto c = f.run();
  REQUIRE(c.errors.size() == 1);
  CHECK_THAT(c.errors[0].message, Catch::StartsWith(p + ":3:"));
  CHECK_THAT(c.errors[0].message, Catch::Contains("malformed TOML"));
}

TEST_CASE(
    "non-ASCII letters where TOML wants a key or a separator are a clear error, never "
    "undefined behaviour in the parser",
    "[config]") {
  // toml++ 3.3 reached __builtin_unreachable() on these (config_fuzz under UBSan found it).
  for (const char* text : {"[Loggiloggi\xce\x91g]]\nlev-enrver]\n", "[server]\nport\xc3\xa9 = 1\n",
                           "a = 1 \xc2\xa7\n", "\xcc\xaa"}) {
    fixture f;
    auto p = f.write_config(text);
    auto c = f.run();
    INFO(text);
    REQUIRE_FALSE(c.errors.empty());
    CHECK_THAT(c.errors[0].message, Catch::StartsWith(p + ":1:") || Catch::StartsWith(p + ":2:"));
  }
  // Valid TOML that took the same path (a line-ending backslash, then U+00A7): it loads.
  fixture f;
  f.write_config(
      "[server]\nauth_token = "
      "\"\"\"\\\n\xc2\xa7\xc2\xa7\xc2\xa7\xc2\xa7\xc2\xa7\xc2\xa7\xc2\xa7\xc2\xa7\"\"\"\n");
  auto c = f.run();
  CHECK(c.errors.empty());
}

TEST_CASE("file values of the wrong type or out of range name key, value, origin and rule",
          "[config]") {
  struct bad_case {
    std::string toml, key, value_text, rule_text;
  };
  std::vector<bad_case> cases = {
      {"[server]\nport = 0\n", "server.port", "= 0", "1 to 65535"},
      {"[server]\nport = 70000\n", "server.port", "= 70000", "1 to 65535"},
      {"[server]\nport = \"x\"\n", "server.port", "= 'x'", "wrong type"},
      {"[server]\nshutdown_timeout = -1\n", "server.shutdown_timeout", "= -1", "greater than 0"},
      {"[server]\nshutdown_timeout = 0\n", "server.shutdown_timeout", "= 0", "greater than 0"},
      {"[server]\nbind = \"not an address!\"\n", "server.bind", "not an address!", "host name"},
      {"[server]\nbind = 5\n", "server.bind", "= 5", "wrong type"},
      {"[server]\nallow_unauthenticated = \"yes\"\n", "server.allow_unauthenticated", "yes",
       "boolean"},
      {"[logging]\nlevel = \"verbose\"\n", "logging.level", "verbose", "debug, info"},
      {"[logging]\nformat = \"xml\"\n", "logging.format", "xml", "text, json"},
      {"[jobs]\nworkers = 0\n", "jobs.workers", "= 0", "1 to 64"},
      {"[jobs]\nworkers = 65\n", "jobs.workers", "= 65", "1 to 64"},
      {"database_path = \"\"\n", "database_path", "= ''", "non-empty"},
      {"server = 3\n", "server", "server", "must be a table"},
  };
  for (const auto& bc : cases) {
    fixture f;
    auto p = f.write_config(bc.toml);
    auto c = f.run();
    INFO(bc.toml);
    REQUIRE(c.errors.size() == 1);
    const auto& m = c.errors[0].message;
    CHECK(c.errors[0].from == origin::file);
    CHECK_THAT(m, Catch::StartsWith(p + ":"));
    CHECK_THAT(m, Catch::Contains(bc.key));
    CHECK_THAT(m, Catch::Contains(bc.value_text));
    CHECK_THAT(m, Catch::Contains(bc.rule_text));
    if (bc.key != "server") CHECK_THAT(m, Catch::Contains("origin: file"));
    CHECK_FALSE(c.has_cli_error());
  }
}

TEST_CASE("env values follow the same rules and a bad one is an error, not ignored", "[config]") {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"VPO_SERVER_PORT", "abc"},
      {"VPO_SERVER_PORT", "70000"},
      {"VPO_SERVER_PORT", "80 "},
      {"VPO_SERVER_SHUTDOWN_TIMEOUT", "-3"},
      {"VPO_SERVER_SHUTDOWN_TIMEOUT", "soon"},
      {"VPO_LOG_LEVEL", "loud"},
      {"VPO_LOG_FORMAT", "yaml"},
      {"VPO_JOBS_WORKERS", "100"},
      {"VPO_SERVER_BIND", "bad host!"},
      {"VPO_SERVER_ALLOW_UNAUTHENTICATED", "maybe"},
      {"VPO_SERVER_PORT", ""},
      {"VPO_DATABASE_PATH", ""},
  };
  for (const auto& [name, value] : cases) {
    fixture f;
    f.env[name] = value;
    auto c = f.run();
    INFO(name << "=" << value);
    REQUIRE(c.errors.size() == 1);
    CHECK(c.errors[0].from == origin::env);
    CHECK_THAT(c.errors[0].message, Catch::Contains(name));
    CHECK_THAT(c.errors[0].message, Catch::Contains("origin: env"));
    CHECK_THAT(c.errors[0].message, Catch::Contains("must be"));
  }
}

TEST_CASE("cli values follow the same rules and are usage errors", "[config]") {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"server.port", "0"},           {"server.port", "x"},      {"server.shutdown_timeout", "0"},
      {"logging.level", "chatty"},    {"logging.format", "csv"}, {"jobs.workers", "-1"},
      {"server.bind", "999.1.1.1.1"},
  };
  for (const auto& [key, value] : cases) {
    fixture f;
    f.cli[key] = value;
    auto c = f.run();
    INFO(key << "=" << value);
    REQUIRE(c.errors.size() == 1);
    CHECK(c.has_cli_error());
    CHECK_THAT(c.errors[0].message, Catch::Contains("origin: cli"));
    CHECK_THAT(c.errors[0].message, Catch::Contains("\"" + value + "\""));
  }
}

TEST_CASE("every layer is validated even where a higher layer overrides it", "[config]") {
  fixture f;
  f.env["VPO_SERVER_PORT"] = "not-a-port";
  f.write_config("[server]\nport = 70000\n");
  f.cli["server.port"] = "9000";
  auto c = f.run();
  REQUIRE(c.errors.size() == 2);
  CHECK(c.errors[0].from == origin::env);
  CHECK(c.errors[1].from == origin::file);
  CHECK_FALSE(c.has_cli_error());
}

TEST_CASE("a secret's value never appears, not even in the error about it", "[config]") {
  fixture f;
  f.env["VPO_AUTH_TOKEN"] = "short-secret";
  auto c = f.run();
  REQUIRE(c.errors.size() == 1);
  CHECK_THAT(c.errors[0].message, !Catch::Contains("short-secret"));
  CHECK_THAT(c.errors[0].message, Catch::Contains("16 characters"));

  fixture g;
  g.write_config("[server]\nauth_token = \"tiny-secret\"\n");
  c = g.run();
  REQUIRE(c.errors.size() == 1);
  CHECK_THAT(c.errors[0].message, !Catch::Contains("tiny-secret"));
  CHECK_THAT(c.errors[0].message, Catch::Contains("server.auth_token"));
}

TEST_CASE("an existing VPO config.toml with extra sections loads without warnings", "[config]") {
  fixture f;
  f.write_config(R"(database_path = "/var/lib/vpo/library.db"
data_dir = "/var/lib/vpo"
[tools]
ffmpeg = "/usr/bin/ffmpeg"
[plugins]
enabled = ["a", "b"]
[worker]
max_files = 10
[jobs]
retention_days = 30
workers = 3
auto_prune_enabled = true
auto_prune_interval_hours = 24
disk_space_ratio_hevc = 0.5
disk_space_ratio_other = 0.8
disk_space_buffer = 1.2
min_free_disk_percent = 5
[logging]
level = "debug"
file = "/var/log/vpo.log"
)");
  auto c = f.run();
  REQUIRE(all_errors(c) == "");
  CHECK(c.warnings.empty());
  REQUIRE(c.notes.size() == 1);  // logging.file: one INFO, serve logs to stderr
  CHECK_THAT(c.notes[0].message, Catch::Contains("vpo serve logs to stderr"));
  CHECK(c.values.jobs.workers == 3);
  CHECK(c.values.database_path == "/var/lib/vpo/library.db");
}

TEST_CASE("an unknown key in an owned section warns once with a close suggestion", "[config]") {
  fixture f;
  auto p = f.write_config("[server]\nprot = 9000\nzzzzzzzzzz = 1\n");
  auto c = f.run();
  REQUIRE(c.errors.empty());
  REQUIRE(c.warnings.size() == 2);
  CHECK_THAT(c.warnings[0].message, Catch::Contains("server.prot"));
  CHECK_THAT(c.warnings[0].message, Catch::Contains("did you mean server.port?"));
  CHECK_THAT(c.warnings[0].message, Catch::StartsWith(p + ":2:"));
  CHECK_THAT(c.warnings[1].message, !Catch::Contains("did you mean"));
  CHECK(c.values.server.port == 8321);
}

TEST_CASE("shutdown_timeout accepts integers and floats and ~ expands in paths", "[config]") {
  fixture f;
  f.write_config("database_path = \"~/lib.db\"\n[server]\nshutdown_timeout = 2.5\n");
  auto c = f.run();
  REQUIRE(c.errors.empty());
  CHECK(c.values.server.shutdown_timeout == 2.5);
  CHECK(c.values.database_path == f.home.path() + "/lib.db");
}

TEST_CASE("an empty VPO_DATA_DIR is an error", "[config]") {
  fixture f;
  f.env["VPO_DATA_DIR"] = "";
  auto c = f.run();
  REQUIRE(c.errors.size() == 1);
  CHECK_THAT(c.errors[0].message, Catch::Contains("VPO_DATA_DIR"));
}

TEST_CASE("logging settings keep the best valid layer when another key is invalid", "[config]") {
  fixture f;
  f.env["VPO_LOG_FORMAT"] = "json";
  f.env["VPO_SERVER_PORT"] = "0";
  auto c = f.run();
  REQUIRE(c.errors.size() == 1);
  CHECK(c.values.logging.format == vpo::config::log_format::json);
}

TEST_CASE("a config path that is not a regular file, or too big, is refused without reading it",
          "[config][hostile]") {
  fixture fifo;
  auto p = fifo.home.file("fifo.toml");
  REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
  fifo.cli["config"] = p;
  auto c = fifo.run();  // returns at once: the open does not wait for a writer
  REQUIRE(c.errors.size() == 1);
  CHECK_THAT(c.errors[0].message, Catch::Contains("it is a FIFO, not a regular file"));
  CHECK_THAT(c.errors[0].message, Catch::Contains("--config"));

  fixture zero;
  auto link = zero.home.file("zero.toml");
  REQUIRE(::symlink("/dev/zero", link.c_str()) == 0);
  zero.cli["config"] = link;
  c = zero.run();
  REQUIRE(c.errors.size() == 1);
  CHECK_THAT(c.errors[0].message, Catch::Contains("it is a character device"));

  fixture big;
  big.cli["config"] = big.home.write("big.toml", std::string((1 << 20) + 1, '#'));
  c = big.run();
  REQUIRE(c.errors.size() == 1);
  CHECK_THAT(c.errors[0].message, Catch::Contains("1048577 bytes, more than the 1024 KiB"));

  fixture fine;  // exactly the limit is fine
  fine.cli["config"] = fine.home.write("ok.toml", std::string(1 << 20, '#'));
  CHECK(fine.run().errors.empty());

  fixture good;  // a symlink to a regular file is fine
  auto target = good.home.write("real.toml", "[server]\nport = 9000\n");
  auto alias = good.home.file("alias.toml");
  REQUIRE(::symlink(target.c_str(), alias.c_str()) == 0);
  good.cli["config"] = alias;
  auto g = good.run();
  CHECK(g.errors.empty());
  CHECK(g.values.server.port == 9000);
}
