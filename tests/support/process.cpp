// process.cpp: fork/exec with pipes, a waitpid thread and reader threads.
#include "tests/support/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

extern char** environ;

namespace vpo::test {
namespace {

std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    if (key.rfind("VPO_", 0) == 0 || key == "JOURNAL_STREAM" || key == "NOTIFY_SOCKET") continue;
    if (extra.count(key)) continue;
    out.push_back(kv);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

process::process(process_options options) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  auto env = child_environment(options.env);
  auto argv = pointers(options.args);
  auto envp = pointers(env);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Child: only async-signal-safe calls from here on.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(out_pipe[1], 1);
    dup2(options.stderr_fd >= 0 ? options.stderr_fd : err_pipe[1], 2);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    if (options.run_as_uid) {
      if (setgroups(0, nullptr) != 0 || setgid(*options.run_as_uid) != 0 ||
          setuid(*options.run_as_uid) != 0)
        _exit(125);
    }
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  open_pipes_ = 2;
  threads_.emplace_back([this, fd = out_pipe[0]] { reader(fd, &out_); });
  threads_.emplace_back([this, fd = err_pipe[0]] { reader(fd, &err_); });
  threads_.emplace_back([this] {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    std::lock_guard<std::mutex> lock(mutex_);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    changed_.notify_all();
  });
}

process::~process() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!exit_code_) ::kill(pid_, SIGKILL);
  }
  for (auto& t : threads_) t.join();
}

void process::reader(int fd, std::string* sink) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mutex_);
    sink->append(buf, static_cast<std::size_t>(n));
    changed_.notify_all();
  }
  ::close(fd);
  std::lock_guard<std::mutex> lock(mutex_);
  --open_pipes_;
  changed_.notify_all();
}

void process::signal(int signo) const {
  ::kill(pid_, signo);
}

std::optional<int> process::wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  // Also wait for the pipes to drain so out()/err() are complete after an exit.
  changed_.wait_for(lock, timeout, [&] { return exit_code_ && open_pipes_ == 0; });
  return exit_code_;
}

bool process::wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return err_.find(needle) != std::string::npos || (exit_code_ && open_pipes_ == 0);
  }) && err_.find(needle) != std::string::npos;
}

std::string process::out() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return out_;
}

std::string process::err() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return err_;
}

run_result run(process_options options, std::chrono::milliseconds timeout) {
  process p(std::move(options));
  auto code = p.wait(timeout);
  if (!code) {
    p.signal(SIGKILL);
    code = p.wait(std::chrono::milliseconds(5000));
  }
  return {code.value_or(-1), p.out(), p.err()};
}

}  // namespace vpo::test
