// health.cpp: renders /health and /readyz from a snapshot, without touching any actor.
#include "net/health.hpp"

#include <algorithm>
#include <charconv>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "version.hpp"

namespace vpo::net {

namespace {

// The length of the valid UTF-8 sequence at text[i] (1..4), or 0 when it is not one (a stray
// continuation byte, a truncated sequence, an overlong form, a surrogate, beyond U+10FFFF).
std::size_t utf8_length(const std::string& text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  std::size_t n = c < 0x80           ? 1
                  : (c >> 5) == 0x6  ? 2
                  : (c >> 4) == 0xe  ? 3
                  : (c >> 3) == 0x1e ? 4
                                     : 0;
  if (n == 0 || i + n > text.size()) return 0;
  unsigned long cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static const unsigned long smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < smallest[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string json_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {  // kept when valid UTF-8, else U+FFFD: a body is always valid JSON
      std::size_t n = utf8_length(text, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text, i, n);
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

http_response json_error(int status, const std::string& code, const std::string& message) {
  http_response r;
  r.status = status;
  r.body = "{\"error\":\"" + json_escape(message) + "\",\"code\":\"" + code + "\"}";
  return r;
}

const char* health_status(const health_snapshot& s) {
  if (s.shutting_down) return "unhealthy";
  if (!s.ready) return "starting";
  return s.database_connected ? "healthy" : "degraded";
}

health_parts render_health_parts(const health_snapshot& s) {
  const char* status = health_status(s);
  health_parts p;
  p.status = std::strcmp(status, "healthy") == 0 ? 200 : 503;
  p.head += "{\"status\":\"";
  p.head += status;
  p.head += s.database_connected ? "\",\"database\":\"connected\",\"uptime_seconds\":"
                                 : "\",\"database\":\"disconnected\",\"uptime_seconds\":";
  std::string& m = p.middle;
  m += ",\"version\":\"" VPO_VERSION "\",\"shutting_down\":";
  m += s.shutting_down ? "true" : "false";
  // Why the database is disconnected (null when connected): gone, locked, full, read-only.
  m += s.database_connected || s.database_reason.empty()
           ? ",\"database_error\":null"
           : ",\"database_error\":\"" + json_escape(s.database_reason) + "\"";
  if (!s.jobs_json.empty()) m += ",\"jobs\":" + s.jobs_json;
  auto text_or_null = [](const std::string& t) {
    return t.empty() ? std::string("null") : "\"" + json_escape(t) + "\"";
  };
  m += ",\"config_reload_error\":" + text_or_null(s.reload.error) +
       ",\"last_config_reload\":" + text_or_null(s.reload.last) +
       ",\"config_reload_count\":" + std::to_string(s.reload.count);
  return p;
}

std::size_t render_uptime(char* out, std::size_t size, double uptime_seconds) {
  auto end = std::to_chars(out, out + size, uptime_seconds, std::chars_format::fixed, 3).ptr;
  return static_cast<std::size_t>(end - out);
}

std::size_t render_drain(char* out, std::size_t size, const health_snapshot& s,
                         std::size_t requests_in_flight,
                         std::chrono::steady_clock::time_point now) {
  if (s.drain_phase.empty()) {
    static constexpr char none[] = ",\"drain\":null}";
    std::memcpy(out, none, sizeof none - 1);
    return sizeof none - 1;
  }
  double left = std::chrono::duration<double>(s.drain_deadline - now).count();
  int n = std::snprintf(out, size,
                        ",\"drain\":{\"phase\":\"%s\",\"jobs_in_flight\":%ld,"
                        "\"requests_in_flight\":%zu,\"seconds_left\":%.1f}}",
                        s.drain_phase.c_str(), s.jobs_in_flight, requests_in_flight,
                        left > 0 ? left : 0.0);
  return n < 0 ? 0 : std::min(static_cast<std::size_t>(n), size - 1);
}

http_response render_health(const health_snapshot& s, double uptime_seconds,
                            std::size_t requests_in_flight,
                            std::chrono::steady_clock::time_point now) {
  health_parts p = render_health_parts(s);
  http_response r;
  r.status = p.status;
  char uptime[32], drain[health_drain_max];
  std::size_t u = render_uptime(uptime, sizeof uptime, uptime_seconds);
  std::size_t d = render_drain(drain, sizeof drain, s, requests_in_flight, now);
  r.body.reserve(p.head.size() + u + p.middle.size() + d);
  r.body.append(p.head).append(uptime, u).append(p.middle).append(drain, d);
  return r;
}

http_response render_readyz(const health_snapshot& s) {
  http_response r;
  r.content_type = "text/plain; charset=utf-8";
  r.status = 503;
  if (s.shutting_down)
    r.body = "shutting down\n";
  else if (!s.ready)
    r.body = "starting\n";
  else if (!s.database_connected)
    r.body = "database disconnected" + (s.database_reason.empty() ? "" : ": " + s.database_reason) +
             "\n";
  else {
    r.status = 200;
    r.body = "ok\n";
  }
  return r;
}

}  // namespace vpo::net
