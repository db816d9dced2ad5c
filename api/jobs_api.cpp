// jobs_api.cpp: validation of job requests and JSON rendering (nlohmann lives here only).
#include "api/jobs_api.hpp"

#include <cctype>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "api/errors.hpp"
#include "util/text.hpp"

namespace vpo::api {
namespace {

using json = nlohmann::ordered_json;

net::http_response invalid(const std::string& field, const std::string& why) {
  return net::json_error(400, "INVALID_FIELD", "field '" + field + "' " + why);
}

net::http_response method_not_allowed(const net::http_request& r, const char* allow) {
  auto res = net::json_error(405, "METHOD_NOT_ALLOWED",
                             "method " + r.method + " is not allowed on " + r.path);
  res.headers.emplace_back("Allow", allow);
  return res;
}

// A submission has three fields: a body nested deeper than this, or with more values than this,
// is refused while it is parsed. (ordered_json's objects are vectors searched key by key: 80,000
// keys took 5.7 s of the io budget; the parse is nlohmann's map-based json, stopped at the
// budget, so a 1 MiB body costs a few milliseconds at most.)
constexpr int max_body_depth = 16;
constexpr std::size_t max_body_values = 1024;

struct over_budget {};

std::variant<job_query, net::http_response> parse_create(const net::http_request& r) {
  using plain = nlohmann::json;
  std::size_t values = 0;
  plain::parser_callback_t budget = [&values](int depth, plain::parse_event_t, plain&) {
    if (depth > max_body_depth || ++values > max_body_values) throw over_budget{};
    return true;
  };
  plain body;
  try {
    body = plain::parse(r.body, budget, false);
  } catch (const over_budget&) {
    return net::json_error(400, "INVALID_JSON",
                           "the request body is nested deeper than " +
                               std::to_string(max_body_depth) + " levels or has more than " +
                               std::to_string(max_body_values) +
                               " values; a job submission is one object of a few fields");
  }
  if (body.is_discarded())
    return net::json_error(400, "INVALID_JSON", "the request body is not valid JSON");
  if (!body.is_object())
    return net::json_error(400, "INVALID_JSON", "the request body must be a JSON object");
  job_query q;
  q.what = job_query::op::create;
  auto type = body.find("type");
  if (type == body.end()) return invalid("type", "is required");
  if (!type->is_string()) return invalid("type", "must be a string");
  q.spec.type = type->get<std::string>();
  if (q.spec.type != "scan")
    return net::json_error(400, "UNKNOWN_JOB_TYPE",
                           "unknown job type '" + q.spec.type + "'; known types: scan");
  auto path = body.find("path");
  if (path == body.end()) return invalid("path", "is required");
  if (!path->is_string()) return invalid("path", "must be a string");
  q.spec.path = path->get<std::string>();
  if (q.spec.path.empty() || q.spec.path[0] != '/')
    return invalid("path", "must be an absolute path");
  for (unsigned char ch : q.spec.path)
    if (ch < 0x20 || ch == 0x7f)
      return invalid("path", "must not contain control characters (NUL, newline, ...)");
  // Whether the directory exists is checked by job_queue: a stat() may block (a hung network
  // mount), and this runs on a scheduler thread.
  while (q.spec.path.size() > 1 && q.spec.path.back() == '/') q.spec.path.pop_back();
  if (auto p = body.find("priority"); p != body.end()) {
    if (!p->is_number_integer()) return invalid("priority", "must be an integer from 0 to 1000");
    auto v = p->get<long long>();
    if (v < 0 || v > 1000) return invalid("priority", "must be an integer from 0 to 1000");
    q.spec.priority = static_cast<int>(v);
  }
  for (auto it = body.begin(); it != body.end(); ++it)
    if (it.key() != "type" && it.key() != "path" && it.key() != "priority")
      return invalid(it.key(), "is not a known field (type, path, priority)");
  return q;
}

std::optional<net::http_response> parse_page(job_query& q, const std::string& key,
                                             const std::string& value) {
  if (key == "limit") {
    char* end = nullptr;
    long v = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v < 1 || v > 1000)
      return invalid("limit", "must be an integer from 1 to 1000");
    q.limit = static_cast<int>(v);
  } else {  // offset
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno != 0 || v < 0 || v > 1000000000)
      return invalid("offset", "must be an integer from 0 to 1000000000");
    q.offset = v;
  }
  return std::nullopt;
}

// Splits a query string into decoded `name=value` pairs; an error response when malformed.
std::variant<std::vector<std::pair<std::string, std::string>>, net::http_response> query_pairs(
    const std::string& query) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos < query.size()) {
    auto amp = query.find('&', pos);
    std::string pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    pos = amp == std::string::npos ? query.size() : amp + 1;
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = util::percent_decode(pair.substr(0, eq));
    auto value = util::percent_decode(eq == std::string::npos ? "" : pair.substr(eq + 1));
    if (!key || !value)
      return net::json_error(400, "INVALID_FIELD",
                             "the query string has a malformed %-escape (use %XX with two hex "
                             "digits)");
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

std::variant<job_query, net::http_response> parse_files(const net::http_request& r) {
  job_query q;
  q.what = job_query::op::files;
  auto pairs = query_pairs(r.query);
  if (auto* res = std::get_if<net::http_response>(&pairs)) return std::move(*res);
  for (auto& [key, value] : std::get<0>(pairs)) {
    if (key == "missing") {
      if (value != "0" && value != "1" && value != "true" && value != "false")
        return invalid("missing", "must be 0 or 1");
      q.missing = value == "1" || value == "true";
    } else if (key == "under") {
      if (value.empty() || value[0] != '/') return invalid("under", "must be an absolute path");
      for (unsigned char ch : value)
        if (ch < 0x20 || ch == 0x7f)
          return invalid("under", "must not contain control characters (NUL, newline, ...)");
      while (value.size() > 1 && value.back() == '/') value.pop_back();
      q.under = value == "/" ? "" : value;
    } else if (key == "limit" || key == "offset") {
      if (auto err = parse_page(q, key, value)) return std::move(*err);
    } else if (key == "after") {  // a path (any bytes, percent-encoded): the previous page's last
      if (value.empty()) return invalid("after", "must be a path (the last of the previous page)");
      q.after = value;
    } else {
      return invalid(key, "is not a known query parameter (missing, under, limit, offset, after)");
    }
  }
  return q;
}

// Reads the `name=value` pairs of a jobs listing.
std::variant<job_query, net::http_response> parse_list(const net::http_request& r) {
  job_query q;
  q.what = job_query::op::list;
  auto pairs = query_pairs(r.query);
  if (auto* res = std::get_if<net::http_response>(&pairs)) return std::move(*res);
  for (auto& [key, value] : std::get<0>(pairs)) {
    if (key == "status") {
      if (!jobs::is_status(value))
        return invalid("status", "must be one of queued, running, completed, failed, cancelled");
      q.status = value;
    } else if (key == "type") {
      if (value != "scan") return invalid("type", "must be a job type (scan)");
      q.type = value;
    } else if (key == "limit" || key == "offset") {
      if (auto err = parse_page(q, key, value)) return std::move(*err);
    } else if (key == "before") {  // a job id: the previous page's last
      if (value.empty() || value.size() > 64)
        return invalid("before", "must be a job id (the last of the previous page)");
      q.before = value;
    } else {
      return invalid(key, "is not a known query parameter (status, type, limit, offset, before)");
    }
  }
  return q;
}

json job_object(const jobs::job& j) {
  auto opt = [](const std::optional<std::string>& v) -> json {
    return v ? json(*v) : json(nullptr);
  };
  json summary = nullptr;
  if (j.summary_json) {
    summary = json::parse(*j.summary_json, nullptr, false);
    if (summary.is_discarded()) summary = nullptr;
  }
  return json{{"id", j.id},
              {"type", j.type},
              {"status", j.status},
              {"priority", j.priority},
              {"path", j.path},
              {"progress_percent", j.progress_percent},
              {"attempts", j.attempts},
              {"created_at", j.created_at},
              {"started_at", opt(j.started_at)},
              {"completed_at", opt(j.completed_at)},
              {"error", opt(j.error)},
              {"summary", summary}};
}

json file_object(const jobs::file_row& f) {
  json o{{"path", f.path},
         {"size", f.size},
         {"modified_at", f.modified_at},
         {"missing", f.missing},
         {"missing_since", f.missing_since ? json(*f.missing_since) : json(nullptr)},
         {"scanned_at", f.scanned_at}};
  // Linux names are bytes: `path` shows invalid UTF-8 as U+FFFD, so two names that differ only
  // there would look the same; `path_bytes` tells them apart and round-trips into `under=`.
  if (!util::valid_utf8(f.path)) o["path_bytes"] = util::percent_encode(f.path);
  return o;
}

json library_object(const jobs::library_totals& l) {
  json ext = json::object();
  for (const auto& [name, n] : l.by_extension) ext[name] = n;
  return json{{"files", l.files},
              {"missing", l.missing},
              {"bytes", l.bytes},
              {"by_extension", ext},
              {"last_scan_at", l.last_scan_at ? json(*l.last_scan_at) : json(nullptr)}};
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::variant<job_query, net::http_response> parse_job_request(const net::http_request& r) {
  if (r.path == "/api/files" || r.path == "/api/library") {
    if (r.method != "GET" && r.method != "HEAD") return method_not_allowed(r, "GET, HEAD");
    if (r.path == "/api/files") return parse_files(r);
    if (!r.query.empty())
      return invalid(r.query.substr(0, r.query.find('=')),
                     "is not a known query parameter (/api/library takes none)");
    job_query q;
    q.what = job_query::op::library;
    return q;
  }
  const std::string base = "/api/jobs";
  if (r.path == base || r.path == base + "/") {
    if (r.method == "POST") return parse_create(r);
    if (r.method == "GET") return parse_list(r);
    return method_not_allowed(r, "GET, POST");
  }
  if (r.path.rfind(base + "/", 0) == 0) {
    std::string rest = r.path.substr(base.size() + 1);
    auto slash = rest.find('/');
    job_query q;
    q.id = rest.substr(0, slash);
    if (slash == std::string::npos) {
      if (r.method != "GET") return method_not_allowed(r, "GET");
      q.what = job_query::op::get;
      return q;
    }
    if (rest.substr(slash) == "/cancel" || rest.substr(slash) == "/retry") {
      if (r.method != "POST") return method_not_allowed(r, "POST");
      q.what = rest.substr(slash) == "/cancel" ? job_query::op::cancel : job_query::op::retry;
      return q;
    }
  }
  return net::json_error(404, "NOT_FOUND", "no such endpoint: " + r.path);
}

std::string job_json(const jobs::job& j) {
  return dump(job_object(j));
}

job_answer failed_answer(errc kind, std::string message, std::string code) {
  job_answer a;
  a.error = vpo::error(kind, std::move(message));
  a.code = std::move(code);
  return a;
}

net::http_response render_job_answer(const job_query& q, const job_answer& a) {
  using outcome = job_answer::outcome;
  if (a.error) {
    if (a.error.is(errc::not_found) && a.error.message.empty())
      return error_response(vpo::error(errc::not_found, "no job with id '" + q.id + "'"),
                            a.code.empty() ? "JOB_NOT_FOUND" : a.code);
    return error_response(a.error, a.code);
  }
  net::http_response res;
  if (q.what == job_query::op::list) {
    json list = json::array();
    for (const auto& j : a.jobs) list.push_back(job_object(j));
    // The next page's cursor when this one is full (the next may still be empty).
    json next = a.jobs.size() == static_cast<std::size_t>(q.limit) && !a.jobs.empty()
                    ? json(a.jobs.back().id)
                    : json(nullptr);
    res.body = dump(json{{"jobs", list}, {"total", a.total}, {"next_before", next}});
    return res;
  }
  if (q.what == job_query::op::files) {
    json list = json::array();
    for (const auto& f : a.files) list.push_back(file_object(f));
    json next = a.files.size() == static_cast<std::size_t>(q.limit) && !a.files.empty()
                    ? json(util::percent_encode(a.files.back().path))
                    : json(nullptr);
    res.body = dump(json{{"files", list}, {"total", a.total}, {"next_after", next}});
    return res;
  }
  if (q.what == job_query::op::library) {
    res.body = dump(library_object(a.library));
    return res;
  }
  res.status = a.result == outcome::created ? 201 : a.result == outcome::accepted ? 202 : 200;
  res.body = a.jobs.empty() ? "{}" : job_json(a.jobs.front());
  return res;
}

bool bearer_matches(const std::string& header, const std::string& token) {
  // The scheme is case-insensitive (RFC 9110 §11.1), followed by one or more spaces; the token is
  // compared in constant time for its length.
  static constexpr std::string_view scheme = "bearer";
  if (header.size() <= scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return false;
  std::size_t at = scheme.size();
  if (header[at] != ' ') return false;
  while (at < header.size() && header[at] == ' ') ++at;
  std::string_view sent(header.data() + at, header.size() - at);
  if (sent.size() != token.size()) return false;
  unsigned diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned char>(sent[i]) ^ static_cast<unsigned char>(token[i]);
  return diff == 0;
}

}  // namespace vpo::api
