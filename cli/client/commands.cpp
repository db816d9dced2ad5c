// commands.cpp: the client commands. HTTP in http.cpp, formatting in human.cpp.
#include "cli/client/commands.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <thread>

#include "cli/client/answer.hpp"
#include "cli/client/http.hpp"
#include "cli/client/human.hpp"
#include "cli/client/terminal.hpp"
#include "cli/exit_codes.hpp"
#include "config/loader.hpp"
#include "config/rules.hpp"
#include "util/text.hpp"

namespace vpo::cli::client {
namespace {

using clock = std::chrono::steady_clock;

constexpr int unreachable = 3;
constexpr int answered_error = 1;

// Where the daemon is, where that came from, and the token.
struct target {
  endpoint at;
  std::string source;
  std::optional<std::string> token;
  std::chrono::milliseconds timeout{5000};
};

std::string with_brackets(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// The daemon's address from --url, VPO_URL or the config layers (a wildcard bind means the
// loopback address); the token from server.auth_token / VPO_AUTH_TOKEN.
std::optional<target> find_target(const options& o, int& code) {
  target t;
  code = exit_code::usage;
  auto secs = config::rules::parse_number(o.timeout);
  if (!secs || *secs <= 0 || *secs > 3600) {
    std::cerr << "vpo: usage error: option --timeout = \"" << o.timeout
              << "\" is invalid: it must be a number of seconds greater than 0 and at most 3600\n";
    return std::nullopt;
  }
  t.timeout = std::chrono::milliseconds(static_cast<long long>(std::llround(*secs * 1000)));

  config::load_input in;
  if (o.config) in.cli["config"] = *o.config;
  in.getenv = config::process_getenv;
  in.serving = false;
  auto loaded = config::load(in);
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) std::cerr << "vpo: " << e.message << "\n";
    std::cerr << "vpo: the configuration above is needed to find the daemon and its token; fix "
                 "it, or give --config, --url and VPO_AUTH_TOKEN explicitly.\n";
    code = exit_code::startup_failure;
    return std::nullopt;
  }
  t.token = loaded.values.server.auth_token;
  std::string url, why;
  if (o.url) {
    url = *o.url;
    t.source = "--url";
  } else if (auto env = config::process_getenv("VPO_URL"); env && !env->empty()) {
    url = *env;
    t.source = "VPO_URL";
  } else {
    std::string host = loaded.values.server.bind;
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    if (host == "::" || host == "[::]") host = "::1";
    url = "http://" + with_brackets(host) + ":" + std::to_string(loaded.values.server.port);
    std::string origins;
    for (const auto& v : loaded.shown)
      if (v.key == "server.bind" || v.key == "server.port")
        origins +=
            std::string(origins.empty() ? "" : ", ") + v.key + " from " + config::to_string(v.from);
    t.source = origins + (loaded.config_file_loaded ? "; config file " + loaded.config_path
                                                    : "; no config file at " + loaded.config_path);
  }
  auto ep = parse_url(url, why);
  if (!ep) {
    std::cerr << "vpo: usage error: " << t.source << " = \"" << url
              << "\" is not a daemon URL: " << why << "\n";
    return std::nullopt;
  }
  t.at = *ep;
  code = 0;
  return t;
}

void say_unreachable(const target& t, const response& r) {
  std::cerr << "vpo: cannot reach the daemon at " << for_terminal(t.at.url) << " ("
            << for_terminal(t.source) << "): " << for_terminal(r.error) << ".\n"
            << "Start it with 'vpo serve' (or 'systemctl start vpo' where it runs as a service), "
               "or point --url or VPO_URL at a running daemon.\n";
}

// Something answered that is not HTTP as a vpo daemon writes it (garbled, cut short, too big).
int say_malformed(const target& t, const response& r) {
  std::cerr << "vpo: something answers at " << for_terminal(t.at.url) << ", but "
            << for_terminal(r.error) << "; is it a vpo daemon?\n";
  return answered_error;
}

// At most this much of a body that is not JSON is quoted in a message.
constexpr std::size_t quoted_body_limit = 200;

// The daemon's error body in words; exit 1.
int say_error(const target& t, const response& r, bool as_json) {
  std::string why;
  auto body = parse_answer(r.body, why);
  std::string message = for_terminal(r.body.substr(0, quoted_body_limit)) +
                        (r.body.size() > quoted_body_limit ? "..." : ""),
              code;
  if (body && as_json) std::cout << json_line(*body) << "\n";
  if (body) make_printable(*body);
  if (body && body->is_object() && body->contains("error") && (*body)["error"].is_string()) {
    message = (*body)["error"].get<std::string>();
    if (body->contains("code") && (*body)["code"].is_string())
      code = (*body)["code"].get<std::string>();
  }
  std::cerr << "vpo: the daemon at " << for_terminal(t.at.url) << " answered " << r.status
            << (code.empty() ? "" : " " + code) << ": " << message << "\n";
  if (r.status == 401)
    std::cerr << "Give the daemon's token: server.auth_token in the config file (--config) or "
                 "the VPO_AUTH_TOKEN environment variable.\n";
  return answered_error;
}

// One call; a 2xx answer goes to `ok` with its status (with --json it is printed unchanged first,
// and `ok` runs only when `after_json`: scan --wait still follows the job). Returns the exit code.
int ask(const target& t, const std::string& method, const std::string& path,
        const std::string& body, bool as_json, const std::function<int(const json&, int)>& ok,
        bool after_json = false) {
  auto r = call(t.at, method, path, body, t.token, t.timeout);
  if (r.malformed) return say_malformed(t, r);
  if (!r.reached) {
    say_unreachable(t, r);
    return unreachable;
  }
  if (r.status < 200 || r.status >= 300) return say_error(t, r, as_json);
  std::string why;
  auto doc = parse_answer(r.body, why);
  if (!doc) {
    std::cerr << "vpo: the daemon at " << for_terminal(t.at.url) << " answered " << r.status
              << " with a body that cannot be used (" << why << "); is it a vpo daemon?\n";
    return answered_error;
  }
  if (as_json) {
    std::cout << json_line(*doc) << "\n" << std::flush;
    if (!after_json) return 0;
  }
  make_printable(*doc);
  return ok(*doc, r.status);
}

std::string text(const json& j, const char* key, const std::string& fallback = "-") {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}
std::optional<std::string> opt_text(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
long long number(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<long long>() : 0;
}

std::string percent(const json& job) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f %%", job.value("progress_percent", 0.0));
  return buf;
}

using util::percent_encode;

std::string page_footer(std::size_t shown, long long offset, long long total, const char* what) {
  if (total == 0) return std::string("no ") + what + "\n";
  if (shown == 0)
    return "no " + std::string(what) + " at offset " + std::to_string(offset) + " (" +
           human::count(total) + " in all)\n";
  std::string out = human::count(offset + 1) + "-" +
                    human::count(offset + static_cast<long long>(shown)) + " of " +
                    human::count(total) + " " + what;
  if (offset + static_cast<long long>(shown) < total)
    out += " (--offset " + std::to_string(offset + static_cast<long long>(shown)) + " for more)";
  return out + "\n";
}

std::string summary_line(const json& job) {
  auto s = job.find("summary");
  if (s == job.end() || !s->is_object()) return "";
  return human::count(number(*s, "files_found")) + " files (" +
         human::count(number(*s, "files_new")) + " new, " +
         human::count(number(*s, "files_updated")) + " updated, " +
         human::count(number(*s, "files_missing")) + " missing), " +
         human::count(number(*s, "folders")) + " folders, " + human::count(number(*s, "errors")) +
         " errors";
}

// ---- the commands ------------------------------------------------------------------------

int status(const target& t, const options& o) {
  auto h = call(t.at, "GET", "/health", "", std::nullopt, t.timeout);
  if (h.malformed) return say_malformed(t, h);
  if (!h.reached) {
    say_unreachable(t, h);
    return unreachable;
  }
  std::string why;
  json health = parse_answer(h.body, why).value_or(json());
  if (!health.is_object() || !health.contains("status")) {
    std::cerr << "vpo: " << for_terminal(t.at.url) << "/health answered " << h.status
              << " without a vpo health document; is it a vpo daemon?\n";
    return answered_error;
  }
  auto l = call(t.at, "GET", "/api/library", "", t.token, t.timeout);
  json library = l.reached && l.status == 200 ? parse_answer(l.body, why).value_or(json()) : json();
  bool healthy = health.value("status", "") == "healthy";
  if (o.json) {
    json out = {{"health", health}, {"library", library}};
    std::cout << json_line(out) << "\n";
    return healthy ? 0 : answered_error;
  }
  make_printable(health);
  make_printable(library);
  auto now = std::chrono::system_clock::now();
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"daemon", t.at.url + "  (vpo " + text(health, "version") + ")"});
  rows.push_back({"status", text(health, "status")});
  rows.push_back({"uptime", human::duration(health.value("uptime_seconds", 0.0))});
  std::string db = text(health, "database");
  if (health.contains("database_error") && health["database_error"].is_string())
    db += " (" + health["database_error"].get<std::string>() + ")";
  rows.push_back({"database", db});
  auto drain = health.find("drain");
  if (drain != health.end() && drain->is_object())
    rows.push_back({"draining", "yes: " + text(*drain, "phase") + ", " +
                                    std::to_string(number(*drain, "jobs_in_flight")) +
                                    " job(s) in flight, " +
                                    std::to_string(number(*drain, "seconds_left")) + " s left"});
  else
    rows.push_back({"draining", health.value("shutting_down", false) ? "yes" : "no"});
  if (auto j = health.find("jobs"); j != health.end() && j->is_object())
    rows.push_back({"jobs", human::count(number(*j, "running")) + " running, " +
                                human::count(number(*j, "queued")) + " queued, " +
                                human::count(number(*j, "workers")) + " workers"});
  if (library.is_object()) {
    rows.push_back({"library", human::count(number(library, "files")) + " files (" +
                                   human::count(number(library, "missing")) + " missing), " +
                                   human::size(number(library, "bytes"))});
    rows.push_back({"last scan", human::ago(opt_text(library, "last_scan_at"), now)});
  } else {
    rows.push_back({"library", l.reached ? "not shown: /api/library answered " +
                                               std::to_string(l.status) +
                                               (l.status == 401 ? " (set VPO_AUTH_TOKEN)" : "")
                                         : "not shown: " + for_terminal(l.error)});
  }
  if (auto e = health.find("config_reload_error"); e != health.end() && e->is_string())
    rows.push_back({"config", "last reload failed: " + e->get<std::string>()});
  std::string out = human::table({"", ""}, rows);
  std::cout << out.substr(out.find('\n') + 1);  // no header line
  return healthy ? 0 : answered_error;
}

std::vector<std::string> job_row(const json& j, std::chrono::system_clock::time_point now) {
  return {text(j, "id"),
          text(j, "status"),
          text(j, "type"),
          percent(j),
          human::ago(opt_text(j, "created_at"), now),
          text(j, "path")};
}

int jobs_list(const target& t, const options& o) {
  std::string q;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) q += std::string(q.empty() ? "?" : "&") + k + "=" + percent_encode(v);
  };
  add("status", o.status);
  add("type", o.type);
  add("limit", o.limit.empty() ? "20" : o.limit);
  add("offset", o.offset);
  return ask(t, "GET", "/api/jobs" + q, "", o.json, [&](const json& doc, int) {
    auto now = std::chrono::system_clock::now();
    std::vector<std::vector<std::string>> rows;
    for (const auto& j : doc.value("jobs", json::array())) rows.push_back(job_row(j, now));
    if (!rows.empty())
      std::cout << human::table({"ID", "STATUS", "TYPE", "PROGRESS", "CREATED", "PATH"}, rows,
                                {false, false, false, true, false, false});
    std::cout << page_footer(rows.size(), std::atoll(o.offset.c_str()), number(doc, "total"),
                             "jobs");
    return 0;
  });
}

void print_job(const json& j) {
  auto now = std::chrono::system_clock::now();
  auto when = [&](const char* key) {
    auto v = opt_text(j, key);
    return v ? *v + "  (" + human::ago(v, now) + ")" : std::string("-");
  };
  std::vector<std::vector<std::string>> rows = {
      {"id", text(j, "id")},
      {"type", text(j, "type")},
      {"status", text(j, "status")},
      {"path", text(j, "path")},
      {"priority", text(j, "priority")},
      {"progress", percent(j)},
      {"attempts", text(j, "attempts")},
      {"created", when("created_at")},
      {"started", when("started_at")},
      {"completed", when("completed_at")},
      {"error", text(j, "error")},
  };
  if (auto s = summary_line(j); !s.empty()) rows.push_back({"summary", s});
  std::string out = human::table({"", ""}, rows);
  std::cout << out.substr(out.find('\n') + 1);
}

int jobs_show(const target& t, const options& o) {
  return ask(t, "GET", "/api/jobs/" + percent_encode(o.id), "", o.json, [](const json& j, int) {
    print_job(j);
    return 0;
  });
}

int jobs_cancel(const target& t, const options& o) {
  return ask(t, "POST", "/api/jobs/" + percent_encode(o.id) + "/cancel", "", o.json,
             [&](const json&, int status) {
               if (status == 202)
                 std::cout << "job " << for_terminal(o.id)
                           << " is running: cancellation requested (it ends cancelled)\n";
               else
                 std::cout << "job " << for_terminal(o.id) << " cancelled\n";
               return 0;
             });
}

int jobs_retry(const target& t, const options& o) {
  return ask(t, "POST", "/api/jobs/" + percent_encode(o.id) + "/retry", "", o.json,
             [&](const json& j, int) {
               std::cout << "job " << text(j, "id") << " queued again (" << text(j, "attempts")
                         << " attempt(s) so far)\n";
               return 0;
             });
}

bool is_terminal() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) == 1 && !(term && std::string(term) == "dumb");
}

// How long --wait keeps asking a daemon that is unreachable or answers 503/429 (a restart, a
// drain, a rate limit) before it gives up: 12 times --timeout (a minute by default). The job may
// still be fine; the daemon is not answering about it.
std::chrono::milliseconds wait_unavailable_limit(const target& t) {
  return 12 * t.timeout;
}

// Follows a job until it ends: a bar on a terminal, a line per 10 % otherwise. A daemon that
// restarts meanwhile (its job is requeued) or refuses for a while (503, 429) is waited for up to
// wait_unavailable_limit in all; then exit 3 (unreachable) or 1 (its last refusal).
int wait_for(const target& t, const std::string& id) {
  bool tty = is_terminal();
  int next_tenth = 1;
  std::string last_status;
  auto unavailable_since = clock::time_point{};
  for (;;) {
    auto r = call(t.at, "GET", "/api/jobs/" + percent_encode(id), "", t.token, t.timeout);
    if (r.malformed) {
      if (tty) std::cout << "\n";
      return say_malformed(t, r);
    }
    bool refused = r.reached && (r.status == 429 || r.status == 503);
    if (!r.reached || refused) {
      auto now = clock::now();
      if (unavailable_since == clock::time_point{}) unavailable_since = now;
      if (now - unavailable_since > wait_unavailable_limit(t)) {
        if (tty) std::cout << "\n";
        std::cerr << "vpo: gave up waiting for job " << for_terminal(id) << " after "
                  << std::chrono::duration<double>(wait_unavailable_limit(t)).count()
                  << " s (12 x --timeout) without an answer about it (it may still be running: see "
                     "'vpo jobs "
                     "show "
                  << for_terminal(id) << "')\n";
        if (refused) return say_error(t, r, false);
        say_unreachable(t, r);
        return unreachable;
      }
      // Rate limited, or a drain: wait as told (at least 1 s, at most 30 s), or 1 s.
      int secs = refused ? std::max(1, std::atoi(r.retry_after.c_str())) : 1;
      auto pause = std::min<std::chrono::milliseconds>(std::chrono::seconds(std::min(secs, 30)),
                                                       wait_unavailable_limit(t) / 4);
      std::this_thread::sleep_for(pause);
      continue;
    }
    unavailable_since = {};
    if (r.status != 200) {
      if (tty) std::cout << "\n";
      return say_error(t, r, false);
    }
    std::string why;
    auto parsed = parse_answer(r.body, why);
    if (!parsed || !parsed->is_object()) {
      if (tty) std::cout << "\n";
      std::cerr << "vpo: the daemon at " << for_terminal(t.at.url) << " answered job "
                << for_terminal(id) << " with a body that cannot be used ("
                << (parsed ? "not an object" : why) << "); is it a vpo daemon?\n";
      return answered_error;
    }
    json j = std::move(*parsed);
    make_printable(j);
    std::string st = j.is_object() ? text(j, "status") : "";
    double pct = j.is_object() ? j.value("progress_percent", 0.0) : 0.0;
    bool finished = st == "completed" || st == "failed" || st == "cancelled";
    if (tty) {
      std::string files;
      if (auto s = j.find("summary"); s != j.end() && s->is_object())
        files = "  " + human::count(number(*s, "files_found")) + " files";
      std::cout << "\r" << human::bar(finished && st == "completed" ? 100.0 : pct) << "  " << st
                << files << "\x1b[K" << std::flush;
    } else {
      if (st != last_status && !finished)
        std::cout << "scan " << for_terminal(id) << ": " << st << "\n";
      while (!finished && next_tenth < 10 && pct >= next_tenth * 10.0)
        std::cout << "scan " << for_terminal(id) << ": " << next_tenth++ * 10 << " %\n";
      std::cout << std::flush;
    }
    last_status = st;
    if (finished) {
      if (tty) std::cout << "\n";
      std::string summary = summary_line(j);
      if (st == "completed") {
        while (!tty && next_tenth <= 10)
          std::cout << "scan " << for_terminal(id) << ": " << next_tenth++ * 10 << " %\n";
        std::cout << "scan completed: " << (summary.empty() ? "no summary" : summary) << "\n";
        return 0;
      }
      std::cout << "scan " << st << (st == "failed" ? ": " + text(j, "error") : "")
                << (summary.empty() ? "" : " (did: " + summary + ")") << "\n";
      return answered_error;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

int scan(const target& t, const options& o) {
  std::error_code ec;
  std::filesystem::path dir(o.dir);
  if (dir.is_relative()) dir = std::filesystem::current_path(ec) / dir;
  std::string path = dir.lexically_normal().string();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  json body = {{"type", "scan"}, {"path", path}};
  if (!o.priority.empty()) body["priority"] = *config::rules::parse_integer(o.priority);
  return ask(
      t, "POST", "/api/jobs", body.dump(-1, ' ', false, json::error_handler_t::replace), o.json,
      [&](const json& j, int status) {
        std::string id = j.is_object() ? text(j, "id", "") : "";
        if (!o.json) {
          if (status == 200)  // that directory already has a scan waiting or running
            std::cout << "a scan of " << for_terminal(path) << " is already " << text(j, "status")
                      << ": job " << id << "\n";
          else
            std::cout << "scan of " << for_terminal(path) << " queued: job " << id << "\n";
          std::cout << std::flush;
        }
        if (!o.wait) return 0;
        if (id.empty()) {  // nothing to follow: not an answer a vpo daemon gives
          std::cerr << "vpo: the daemon at " << for_terminal(t.at.url) << " answered " << status
                    << " without a job id, so --wait has nothing to follow; is it a vpo daemon?\n";
          return answered_error;
        }
        return wait_for(t, id);
      },
      true);
}

// A file's path as shown: its exact bytes (from path_bytes, when it is not UTF-8) made printable,
// so two names that differ only in invalid bytes show differently.
std::string shown_path(const json& f) {
  if (auto b = opt_text(f, "path_bytes"))
    if (auto bytes = util::percent_decode(*b)) return for_terminal(*bytes);
  return text(f, "path");
}

int files(const target& t, const options& o) {
  std::string q = "?limit=" + percent_encode(o.limit.empty() ? "50" : o.limit);
  if (o.missing) q += "&missing=1";
  if (!o.under.empty()) {
    std::filesystem::path dir(o.under);
    std::error_code ec;
    if (dir.is_relative()) dir = std::filesystem::current_path(ec) / dir;
    q += "&under=" + percent_encode(dir.lexically_normal().string());
  }
  if (!o.offset.empty()) q += "&offset=" + percent_encode(o.offset);
  return ask(t, "GET", "/api/files" + q, "", o.json, [&](const json& doc, int) {
    auto now = std::chrono::system_clock::now();
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : doc.value("files", json::array()))
      rows.push_back({human::size(number(f, "size")), human::ago(opt_text(f, "modified_at"), now),
                      f.value("missing", false)
                          ? "missing since " + human::ago(opt_text(f, "missing_since"), now)
                          : "present",
                      shown_path(f)});
    if (!rows.empty())
      std::cout << human::table({"SIZE", "MODIFIED", "STATE", "PATH"}, rows,
                                {true, false, false, false});
    std::cout << page_footer(rows.size(), std::atoll(o.offset.c_str()), number(doc, "total"),
                             o.missing ? "missing files" : "files");
    return 0;
  });
}

// A flag's number outside its range is a usage error (exit 2), found before anything is sent.
bool check_number(const char* flag, const std::string& value, long long min, long long max) {
  if (value.empty()) return true;
  auto v = config::rules::parse_integer(value);
  if (v && *v >= min && *v <= max) return true;
  std::cerr << "vpo: usage error: option " << flag << " = \"" << value
            << "\" is invalid: it must be an integer from " << min << " to " << max << "\n";
  return false;
}

}  // namespace

int run(const std::string& command, const options& o) {
  if (!check_number("--limit", o.limit, 1, 1000) ||
      !check_number("--offset", o.offset, 0, 1000000000) ||
      !check_number("--priority", o.priority, 0, 1000))
    return exit_code::usage;
  int code = 0;
  auto t = find_target(o, code);
  if (!t) return code;
  try {
    if (command == "status") return status(*t, o);
    if (command == "jobs list") return jobs_list(*t, o);
    if (command == "jobs show") return jobs_show(*t, o);
    if (command == "jobs cancel") return jobs_cancel(*t, o);
    if (command == "jobs retry") return jobs_retry(*t, o);
    if (command == "scan") return scan(*t, o);
    if (command == "files") return files(*t, o);
  } catch (const json::exception& e) {  // valid JSON of another shape: not a vpo answer
    std::cerr << "vpo: the answer from " << for_terminal(t->at.url)
              << " is not what a vpo daemon sends (" << for_terminal(e.what())
              << "); is it a vpo daemon?\n";
    return answered_error;
  }
  std::cerr << "vpo: usage error: unknown command '" << command << "'\n";
  return exit_code::usage;
}

}  // namespace vpo::cli::client
