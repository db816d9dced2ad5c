// hostile_client_test.cpp: the client against hostile answers (issue 19, round two): terminal
// injection through file names and server strings, answers nested to crash it or big enough to
// exhaust it, a daemon that refuses for ever, answers without a job id, bytes that are not HTTP.
// A stand-in server (tests/support/stand_in.py) plays the hostile daemon; the real daemon plays
// the honest one that serves a hostile file name.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/daemon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/jobs_client.hpp"

using namespace vpo::test;
using namespace std::chrono_literals;

namespace {

// The stand-in in `mode` on a free port, until destroyed.
struct stand_in {
  explicit stand_in(const std::string& mode)
      : port(free_port()),
        proc(process_options{{"/usr/bin/python3", VPO_SOURCE_DIR "/tests/support/stand_in.py",
                              std::to_string(port), mode},
                             {},
                             "",
                             -1,
                             std::nullopt}) {
    REQUIRE(eventually([&] { return !connection_refused(port); }, 10s));
  }
  ~stand_in() { proc.signal(SIGKILL); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::uint16_t port;
  process proc;
};

run_result vpo_at(const stand_in& s, std::vector<std::string> args,
                  std::chrono::milliseconds timeout = 30s) {
  static temp_dir home;
  args.push_back("--url");
  args.push_back(s.url());
  return run(vpo_command(home, std::move(args)), timeout);
}

// No byte a terminal acts on: C0 controls other than newline, DEL, C1 (as UTF-8), RLO.
bool terminal_safe(const std::string& out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto c = static_cast<unsigned char>(out[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) <= 0x9f)
      return false;
    if (out.compare(i, 3, "\xe2\x80\xae") == 0) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("hostile strings from the server reach no terminal raw, in any command",
          "[client][hostile]") {
  stand_in s("inject");
  for (std::vector<std::string> args : {std::vector<std::string>{"files"},
                                        {"jobs", "list"},
                                        {"jobs", "show", "j1"},
                                        {"status"},
                                        {"scan", "/tmp", "--wait"},
                                        {"jobs", "cancel", "j1"}}) {
    auto r = vpo_at(s, args);
    INFO(args[0] << " " << (args.size() > 1 ? args[1] : "") << "\n" << r.out << r.err);
    CHECK(terminal_safe(r.out));
    CHECK(terminal_safe(r.err));
    CHECK_THAT(r.err, !Catch::Contains("terminate"));
  }
  // The forged row stays inside its cell, escaped, on the file's own line.
  auto files = vpo_at(s, {"files"});
  CHECK(files.code == 0);
  CHECK_THAT(files.out, Catch::Contains(
                            "x\\x1b]0;owned\\x07\\x1b[2J\\rrow\\nforged\\u009b31m\\u202eeulb.mkv"));
  CHECK(std::count(files.out.begin(), files.out.end(), '\n') == 3);  // header, row, footer
  // The job's error (printed by scan --wait) too.
  auto wait = vpo_at(s, {"scan", "/tmp", "--wait"});
  CHECK(wait.code == 1);
  CHECK_THAT(wait.out, Catch::Contains("bad\\x1b[31m\\nthing"));
  // --json: the same values, every control escaped (valid JSON a program reads unchanged).
  auto j = vpo_at(s, {"files", "--json"});
  REQUIRE(j.code == 0);
  CHECK(terminal_safe(j.out));
  auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["files"][0]["path"] ==
        "/media/x\x1b]0;owned\x07\x1b[2J\rrow\nforged\xc2\x9b"
        "31m\xe2\x80\xae"
        "eulb.mkv");
  auto st = vpo_at(s, {"status", "--json"});
  CHECK(terminal_safe(st.out));
}

TEST_CASE("a file name with escape sequences and invalid UTF-8, served by the real daemon",
          "[client][hostile]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  d.home().write("lib/a\x1b]0;owned\x07\nforged.mkv", "x");
  d.home().write("lib/b\xff.mkv", "x");
  d.home().write("lib/b\xfe.mkv", "x");
  auto created = post_scan(d.port(), d.home().file("lib"));
  REQUIRE(created);
  REQUIRE(job_reaches(d.port(), (*created)["id"], "completed", 10s));
  auto r = run(
      vpo_command(d.home(), {"files", "--url", "http://127.0.0.1:" + std::to_string(d.port())}));
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(terminal_safe(r.out));
  CHECK_THAT(r.out, Catch::Contains("a\\x1b]0;owned\\x07\\nforged.mkv"));
  // Names that differ only in invalid bytes stay two names.
  CHECK_THAT(r.out, Catch::Contains("b\\xff.mkv"));
  CHECK_THAT(r.out, Catch::Contains("b\\xfe.mkv"));
}

TEST_CASE("paths that are not UTF-8: path_bytes tells them apart and under= addresses each",
          "[client][hostile]") {
  daemon_process d;
  REQUIRE(d.start_ready());
  d.home().write("lib/d\xff/x.mkv", "x");
  d.home().write("lib/d\xfe/y.mkv", "yy");
  d.home().write("lib/ok/z.mkv", "zzz");
  auto created = post_scan(d.port(), d.home().file("lib"));
  REQUIRE(created);
  REQUIRE(job_reaches(d.port(), (*created)["id"], "completed", 10s));
  auto all = http_get(d.port(), "/api/files");
  REQUIRE(all);
  auto doc = nlohmann::json::parse(all->body);
  REQUIRE(doc["files"].size() == 3);
  std::set<std::string> bytes;
  for (auto& f : doc["files"]) {
    if (f["path"].get<std::string>().find("/ok/") != std::string::npos) {
      CHECK_FALSE(f.contains("path_bytes"));  // UTF-8 names: no second form
      continue;
    }
    REQUIRE(f.contains("path_bytes"));
    bytes.insert(f["path_bytes"].get<std::string>());
  }
  REQUIRE(bytes.size() == 2);  // two names, two forms
  // path_bytes, cut at the folder, is an under= value as it is.
  for (const auto& b : bytes) {
    auto folder = b.substr(0, b.rfind('/'));
    auto one = http_get(d.port(), "/api/files?under=" + folder);
    REQUIRE(one);
    INFO(folder << " " << one->body);
    auto page = nlohmann::json::parse(one->body);
    CHECK(page["total"] == 1);
    CHECK(page["files"][0]["path_bytes"] == b);
  }
  // The client sends the raw bytes of --under the same way.
  auto r = run(vpo_command(d.home(), {"files", "--under", d.home().file("lib/d\xfe"), "--url",
                                      "http://127.0.0.1:" + std::to_string(d.port())}));
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("d\\xfe/y.mkv"));
  CHECK_THAT(r.out, Catch::Contains("1-1 of 1 files"));
}

TEST_CASE("an answer nested 200,000 deep: exit 1 with a reason, no crash", "[client][hostile]") {
  stand_in s("deep");
  for (std::vector<std::string> args : {std::vector<std::string>{"status", "--json"},
                                        {"status"},
                                        {"jobs", "list", "--json"},
                                        {"files"}}) {
    auto r = vpo_at(s, args);
    INFO(args[0] << "\n" << r.out << r.err);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("vpo"));
  }
  auto r = vpo_at(s, {"jobs", "list"});
  CHECK_THAT(r.err, Catch::Contains("nests deeper than 64 levels"));
}

TEST_CASE("an answer of 200 MiB is cut off at 16 MiB: exit 1", "[client][hostile]") {
  stand_in s("huge");
  auto r = vpo_at(s, {"files"});
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("larger than 16 MiB"));
}

TEST_CASE("scan --wait against a daemon that answers 503 for ever gives up: exit 1",
          "[client][hostile]") {
  stand_in s("busy");
  auto started = std::chrono::steady_clock::now();
  auto r = vpo_at(s, {"scan", "/tmp", "--wait", "--timeout", "0.5"}, 30s);
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("gave up waiting for job j1 after 6 s"));
  CHECK_THAT(r.err, Catch::Contains("503 SHUTTING_DOWN"));
  CHECK(std::chrono::steady_clock::now() - started < 20s);
}

TEST_CASE("scan --wait on an answer without a job id: exit 1, not 0", "[client][hostile]") {
  stand_in s("noid");
  auto r = vpo_at(s, {"scan", "/tmp", "--wait"});
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("without a job id"));
}

TEST_CASE("an answer that is not HTTP: exit 1 (something answers), not 3", "[client][hostile]") {
  stand_in s("garbled");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"status"}, {"files"}, {"jobs", "list"}}) {
    auto r = vpo_at(s, args);
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("is not valid HTTP"));
  }
}
