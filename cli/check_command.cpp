// check_command.cpp: renders the `--check` report.
#include "cli/check_command.hpp"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "cli/exit_codes.hpp"
#include "version.hpp"

namespace vpo::cli {
namespace {

std::string seconds(double s) {
  std::ostringstream os;
  os << s << " s";
  return os.str();
}

}  // namespace

std::string check_report(const config::loaded_config& loaded) {
  std::ostringstream os;
  os << "vpo " << VPO_VERSION << ": configuration check\n\n";
  os << "config file: " << loaded.config_path
     << " (origin: " << config::to_string(loaded.config_path_origin) << ", "
     << (loaded.config_file_loaded ? "loaded" : "not found, built-in defaults and env apply")
     << ")\n";
  os << "precedence: cli > file > env > default\n\n";
  // Columns as wide as their longest entry (+2): a long path never runs into the origin.
  std::size_t key_w = 3, value_w = 5;
  for (const auto& v : loaded.shown) {
    key_w = std::max(key_w, v.key.size());
    value_w = std::max(value_w, v.value.size());
  }
  key_w += 2;
  value_w += 2;
  os << std::left << std::setw(static_cast<int>(key_w)) << "key"
     << std::setw(static_cast<int>(value_w)) << "value"
     << "origin\n";
  for (const auto& v : loaded.shown)
    os << std::left << std::setw(static_cast<int>(key_w)) << v.key
       << std::setw(static_cast<int>(value_w)) << v.value << config::to_string(v.from) << "\n";

  double t = loaded.values.server.shutdown_timeout;
  os << "\nshutdown timeline (server.shutdown_timeout = " << seconds(t) << "):\n"
     << "  t = 0          SIGTERM or SIGINT: /health and /readyz answer 503, STOPPING=1 to "
        "systemd,\n"
     << "                 the listener closes, idle connections close, workers claim nothing new\n"
     << "  0 .. " << std::left << std::setw(9) << seconds(t)
     << " drain: in-flight requests and running jobs finish; exit 0 as soon as nothing is\n"
     << "                 in flight\n"
     << "  t = " << std::left << std::setw(10) << seconds(t)
     << " deadline: running jobs are put back to queued, connections closed,\n"
     << "                 exit 143 (SIGTERM) or 130 (SIGINT)\n"
     << "  t <= " << std::left << std::setw(9) << seconds(t + 2)
     << " forced exit: the process is gone by now whatever happens\n"
     << "  SIGQUIT        at any time: forced stop at once, exit 131\n\n"
     << "configuration valid\n";
  return os.str();
}

int run_check(const config::loaded_config& loaded) {
  std::string report = check_report(loaded);
  std::fwrite(report.data(), 1, report.size(), stdout);
  std::fflush(stdout);
  return exit_code::ok;
}

}  // namespace vpo::cli
