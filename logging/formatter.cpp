// formatter.cpp: text and JSON line layouts, journald priority prefixes.
#include "logging/formatter.hpp"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace vpo::logging {
namespace {

const char* text_level(config::log_level level) {
  switch (level) {
    case config::log_level::debug:
      return "DEBUG";
    case config::log_level::info:
      return "INFO ";
    case config::log_level::warning:
      return "WARN ";
    case config::log_level::error:
      return "ERROR";
  }
  return "INFO ";
}

const char* journal_prefix(config::log_level level) {
  switch (level) {
    case config::log_level::debug:
      return "<7>";
    case config::log_level::info:
      return "<6>";
    case config::log_level::warning:
      return "<4>";
    case config::log_level::error:
      return "<3>";
  }
  return "<6>";
}

// Keeps a text record on one line: control characters become visible escapes.
void append_escaped(std::string& out, std::string_view text) {
  for (unsigned char c : text) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else
      out += static_cast<char>(c);
  }
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == 0x7f) return true;
  return false;
}

std::string text_value(const field::value_type& v) {
  if (auto s = std::get_if<std::string>(&v)) {
    if (!needs_quotes(*s)) return *s;
    std::string out = "\"";
    for (char c : *s) {
      if (c == '"' || c == '\\') out += '\\';
      append_escaped(out, std::string_view(&c, 1));
    }
    // append_escaped already handled control chars; quotes were escaped above
    return out + "\"";
  }
  if (auto i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", std::get<double>(v));
  return buf;
}

std::string text_line(const line_style& style, config::log_level level,
                      std::chrono::system_clock::time_point time, const record& r) {
  std::string out;
  out.reserve(64 + r.message.size());
  if (style.journal_prefix) out += journal_prefix(level);
  out += rfc3339_ms(time);
  out += ' ';
  out += text_level(level);
  out += ' ';
  append_escaped(out, r.logger);
  out += ": ";
  append_escaped(out, r.message);
  for (const auto& f : r.context) {
    out += ' ';
    append_escaped(out, f.key);
    out += '=';
    out += text_value(f.value);
  }
  out += '\n';
  return out;
}

std::string json_line(const line_style& style, config::log_level level,
                      std::chrono::system_clock::time_point time, const record& r) {
  nlohmann::ordered_json j;
  j["timestamp"] = rfc3339_ms(time);
  j["level"] = config::to_string(level);
  j["logger"] = std::string(r.logger);
  j["message"] = std::string(r.message);
  j["daemon"] = true;
  j["pid"] = style.pid;
  for (const auto& f : r.context) {
    // Reserved keys keep their meaning; a clashing context key is renamed, never dropped.
    std::string key = j.contains(f.key) ? "ctx_" + f.key : f.key;
    std::visit([&](const auto& v) { j[key] = v; }, f.value);
  }
  std::string out = style.journal_prefix ? journal_prefix(level) : "";
  out += j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  out += '\n';
  return out;
}

}  // namespace

std::string rfc3339_ms(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(time.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string format_line(const line_style& style, config::log_level level,
                        std::chrono::system_clock::time_point time, const record& r) {
  return style.format == config::log_format::json ? json_line(style, level, time, r)
                                                  : text_line(style, level, time, r);
}

}  // namespace vpo::logging
