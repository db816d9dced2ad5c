// journal.cpp: journald's native protocol through libsystemd (sd_journal_sendv).
#include "logging/journal.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cstdio>
#include <variant>

namespace vpo::logging {
namespace {

int priority(config::log_level level) {
  switch (level) {
    case config::log_level::debug:
      return 7;
    case config::log_level::info:
      return 6;
    case config::log_level::warning:
      return 4;
    case config::log_level::error:
      return 3;
  }
  return 6;
}

std::string field_name(std::string_view key) {
  std::string name;
  for (char c : key) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    name += ok ? c : '_';
  }
  bool clash = name.empty() || name[0] == '_' || (name[0] >= '0' && name[0] <= '9') ||
               name == "MESSAGE" || name == "PRIORITY" || name == "VPO_LOGGER" ||
               name.rfind("SYSLOG_", 0) == 0 || name.rfind("CODE_", 0) == 0 ||
               name == "MESSAGE_ID" || name == "ERRNO";
  return clash ? "VPO_" + name : name;
}

std::string value_text(const field::value_type& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(v));
  return buf;
}

}  // namespace

std::vector<std::string> journal_fields(config::log_level level, const record& r,
                                        std::string_view message) {
  std::vector<std::string> out;
  out.reserve(4 + r.context.size());
  out.push_back("MESSAGE=" + std::string(message));
  out.push_back("PRIORITY=" + std::to_string(priority(level)));
  out.emplace_back("SYSLOG_IDENTIFIER=vpo");
  out.push_back("VPO_LOGGER=" + std::string(r.logger));
  for (const auto& f : r.context) out.push_back(field_name(f.key) + "=" + value_text(f.value));
  return out;
}

bool send_to_journal(const std::vector<std::string>& fields) {
  // libsystemd reports success when the socket does not exist ("fail silently if the journal is
  // not available"): without this check such records would be lost instead of falling back.
  struct stat st {};
  if (::stat("/run/systemd/journal/socket", &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  std::vector<iovec> iov(fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i)
    iov[i] = iovec{const_cast<char*>(fields[i].data()), fields[i].size()};
  return sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0;
}

}  // namespace vpo::logging
