// daemon.cpp: the integration tests' daemon launcher.
#include "tests/support/daemon.hpp"

#include <filesystem>

#include "tests/support/http_client.hpp"

namespace vpo::test {

process_options vpo_command(const temp_dir& home, std::vector<std::string> args,
                            std::map<std::string, std::string> env) {
  process_options o;
  o.args = {VPO_BINARY};
  o.args.insert(o.args.end(), args.begin(), args.end());
  env.emplace("HOME", home.path());
  o.env = std::move(env);
  return o;
}

daemon_process::daemon_process() : port_(free_port()) {}

void daemon_process::start(std::vector<std::string> args, std::map<std::string, std::string> env) {
  std::vector<std::string> all = {"serve", "--port", std::to_string(port_)};
  all.insert(all.end(), args.begin(), args.end());
  // The suite's pollers ask /api/* far more often than the default limit (120 reads a minute
  // per client); the rate-limit tests enable it in their config file (the file outranks env).
  env.emplace("VPO_SERVER_RATE_LIMIT_ENABLED", "false");
  proc_ = std::make_unique<process>(vpo_command(home_, all, std::move(env)));
}

bool daemon_process::start_ready(std::vector<std::string> args,
                                 std::map<std::string, std::string> env) {
  start(std::move(args), std::move(env));
  return proc_->wait_for_stderr(ready_line, std::chrono::seconds(10));
}

void daemon_process::replace_database_with_garbage() {
  std::filesystem::copy_file(db_path(), db_path() + ".backup");
  home_.write("garbage", std::string(8192, 'z'));
  std::filesystem::rename(home_.file("garbage"), db_path());
}

void daemon_process::restore_database() {
  std::filesystem::rename(db_path() + ".backup", db_path());
}

std::optional<int> daemon_process::stop(int signo, std::chrono::milliseconds timeout) {
  proc_->signal(signo);
  return proc_->wait(timeout);
}

}  // namespace vpo::test
