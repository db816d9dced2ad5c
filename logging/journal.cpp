// journal.cpp: journald's native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL), written out as
// sd_journal_sendv(3) does it: one datagram of fields; a value with a newline in it goes
// length-prefixed; a record too big for a datagram goes in a sealed memfd passed with
// SCM_RIGHTS.
#include "logging/journal.hpp"

#include <endian.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
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

std::string journal_datagram(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) {
    auto eq = f.find('=');
    if (eq == std::string::npos) continue;  // not NAME=value
    std::string_view value(f.data() + eq + 1, f.size() - eq - 1);
    if (value.find('\n') == std::string_view::npos) {
      out.append(f).push_back('\n');
      continue;
    }
    std::uint64_t size = htole64(static_cast<std::uint64_t>(value.size()));
    out.append(f, 0, eq).push_back('\n');
    out.append(reinterpret_cast<const char*>(&size), sizeof size);
    out.append(value).push_back('\n');
  }
  return out;
}

namespace {

int journal_socket() {
  // One socket for the process (the log thread sends; datagrams need no connection). A bigger
  // send buffer lets big records go as one datagram, as libsystemd does.
  static const int fd = [] {
    int s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int size = 8 << 20;
    if (s >= 0) ::setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return s;
  }();
  return fd;
}

// A record too big for one datagram: its bytes in a sealed memfd, the fd passed to journald.
bool send_as_memfd(int sock, const sockaddr_un& addr, socklen_t len, const std::string& data) {
  int mfd = ::memfd_create("journal-data", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) return false;
  bool ok = true;
  for (std::size_t done = 0; ok && done < data.size();) {
    ssize_t n = ::write(mfd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok &&
       ::fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0;
  if (ok) {
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr mh{};
    mh.msg_name = const_cast<sockaddr_un*>(&addr);
    mh.msg_namelen = len;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &mfd, sizeof(int));
    ok = ::sendmsg(sock, &mh, MSG_NOSIGNAL) >= 0;
  }
  ::close(mfd);
  return ok;
}

}  // namespace

bool send_to_journal(const std::vector<std::string>& fields, const std::string& socket_path) {
  // Without the socket (or with something else at its path) the caller writes the line instead.
  struct stat st {};
  if (::stat(socket_path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size() + 1);
  int sock = journal_socket();
  if (sock < 0) return false;
  std::string data = journal_datagram(fields);
  ssize_t n;
  do {
    n = ::sendto(sock, data.data(), data.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr), len);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) return true;
  if (errno != EMSGSIZE && errno != ENOBUFS) return false;
  return send_as_memfd(sock, addr, len, data);
}

}  // namespace vpo::logging
