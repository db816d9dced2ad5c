// rules.cpp: validation rules and strict parsers for configuration values.
#include "config/rules.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace vpo::config {

const char* to_string(log_level level) {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warning:
      return "warning";
    case log_level::error:
      return "error";
  }
  return "info";
}

const char* to_string(log_format format) {
  return format == log_format::json ? "json" : "text";
}

}  // namespace vpo::config

namespace vpo::config::rules {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool looks_like_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
}

}  // namespace

std::optional<std::string> check_port(long long value) {
  if (value < 1 || value > 65535) return "must be an integer from 1 to 65535";
  return std::nullopt;
}

std::optional<std::string> check_workers(long long value) {
  if (value < 1 || value > 64) return "must be an integer from 1 to 64";
  return std::nullopt;
}

std::optional<std::string> check_shutdown_timeout(double value) {
  // An upper bound keeps the deadline arithmetic sane; a day is far beyond any real drain.
  if (!std::isfinite(value) || value <= 0 || value > 86400)
    return "must be a number of seconds greater than 0 and at most 86400";
  return std::nullopt;
}

std::optional<std::string> check_auth_token(std::string_view value) {
  if (value.size() < 16) return "must be at least 16 characters long";
  return std::nullopt;
}

std::optional<std::string> check_bind(const std::string& value) {
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, value.c_str(), buf) == 1 || inet_pton(AF_INET6, value.c_str(), buf) == 1)
    return std::nullopt;
  const char* rule = "must be an IPv4/IPv6 address or a resolvable host name";
  if (!looks_like_host_name(value)) return rule;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(value.c_str(), nullptr, &hints, &res);
  if (res) freeaddrinfo(res);
  if (rc != 0) return std::string(rule) + " (lookup failed: " + gai_strerror(rc) + ")";
  return std::nullopt;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t prev = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
      prev = cur;
    }
  }
  return row[b.size()];
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& c : candidates) {
    auto d = edit_distance(word, c);
    if (d < best_distance) best = c, best_distance = d;
  }
  return best;
}

bool bind_is_loopback(const std::string& value) {
  // As the server binds it: the first address the name resolves to (passive, TCP).
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  if (getaddrinfo(value.c_str(), nullptr, &hints, &res) != 0 || !res) return false;
  bool loopback = false;
  if (res->ai_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(res->ai_addr);
    loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  } else if (res->ai_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(res->ai_addr);
    loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
  }
  freeaddrinfo(res);
  return loopback;
}

std::optional<std::string> check_path(std::string_view value) {
  if (value.empty()) return "must be a non-empty file path";
  if (value.find('\0') != std::string_view::npos) return "must not contain NUL bytes";
  return std::nullopt;
}

std::optional<log_level> parse_level(std::string_view text) {
  auto t = lower(text);
  if (t == "debug") return log_level::debug;
  if (t == "info") return log_level::info;
  if (t == "warning" || t == "warn") return log_level::warning;
  if (t == "error") return log_level::error;
  return std::nullopt;
}

std::optional<log_format> parse_format(std::string_view text) {
  auto t = lower(text);
  if (t == "text") return log_format::text;
  if (t == "json") return log_format::json;
  return std::nullopt;
}

std::optional<long long> parse_integer(std::string_view text) {
  long long value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc{} || ptr != end || begin == end) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  std::string s(text);
  if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  auto t = lower(text);
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  return std::nullopt;
}

}  // namespace vpo::config::rules
