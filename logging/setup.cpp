// setup.cpp: the spdlog async pipeline behind vpo::logging::logger, writing with write(2).
#include "logging/setup.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/async.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "logging/formatter.hpp"
#include "logging/journal.hpp"
#include "logging/log.hpp"
#include "logging/record.hpp"

namespace vpo::logging {
namespace {

config::log_level from_spdlog(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return config::log_level::debug;
    case spdlog::level::info:
      return config::log_level::info;
    case spdlog::level::warn:
      return config::log_level::warning;
    default:
      return config::log_level::error;
  }
}

spdlog::level::level_enum to_spdlog(config::log_level l) {
  switch (l) {
    case config::log_level::debug:
      return spdlog::level::debug;
    case config::log_level::info:
      return spdlog::level::info;
    case config::log_level::warning:
      return spdlog::level::warn;
    case config::log_level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Writes the whole line; errors (EPIPE, ENOSPC, EBADF...) are swallowed: logging never kills us.
void write_all(int fd, const std::string& line) {
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

// A restyle travels through the async queue as a control record (level critical, which vpo's
// API never uses), so records logged before a live format change keep the old format.
constexpr char restyle_marker = '\x1d';

std::string restyle_payload(int fd, const line_style& style) {
  return std::string(1, restyle_marker) + (style.format == config::log_format::json ? 'j' : 't') +
         (style.journal_prefix ? '1' : '0') + std::to_string(fd);
}

class fd_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // `pool` is the queue whose thread runs this sink: it outlives every call of sink_it_ (a
  // shared_ptr here would keep it, and its thread, alive past spdlog::shutdown()).
  fd_sink(int fd, line_style style, spdlog::details::thread_pool* pool)
      : fd_(fd), style_(style), pool_(pool) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (msg.level == spdlog::level::critical && payload.size() >= 4 &&
        payload[0] == restyle_marker) {
      style_.format = payload[1] == 'j' ? config::log_format::json : config::log_format::text;
      style_.journal_prefix = payload[2] == '1';
      fd_ = std::atoi(std::string(payload.substr(3)).c_str());
      return;
    }
    report_dropped(msg.time);
    auto level = from_spdlog(msg.level);
    record r = decode(payload);
    emit(level, msg.time, r);
  }
  void emit(config::log_level level, spdlog::log_clock::time_point time, const record& r) {
    if (style_.journal_prefix && send_native(level, time, r)) return;
    write_all(fd_, format_line(style_, level, time, r));
  }
  // The queue drops its oldest records rather than block a producer (overrun_oldest); the
  // first record written after a loss says how many went, so a gap in the log is never silent.
  void report_dropped(spdlog::log_clock::time_point time) {
    std::size_t dropped = pool_ ? pool_->overrun_counter() : 0;
    if (dropped <= dropped_reported_) return;
    auto n = static_cast<long long>(dropped - dropped_reported_);
    dropped_reported_ = dropped;
    std::string message = std::to_string(n) +
                          " log records dropped: records came faster than the log output took "
                          "them (a slow or stalled stderr reader, or a flood of records)";
    record r{"vpo.logging", {{"dropped_records", n}}, message};
    emit(config::log_level::warning, time, r);
  }
  // stderr is the journal: the record goes over journald's native protocol with its fields.
  // MESSAGE is the line as configured, less what the journal records itself (time, priority).
  bool send_native(config::log_level level, spdlog::log_clock::time_point time, const record& r) {
    line_style plain = style_;
    plain.journal_prefix = false;
    std::string line = format_line(plain, level, time, r);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (plain.format == config::log_format::text) {
      auto at = line.find(std::string(r.logger) + ": ");
      if (at != std::string::npos) line.erase(0, at);
    }
    return send_to_journal(journal_fields(level, r, line));
  }
  void flush_() override {}

 private:
  int fd_;
  line_style style_;
  spdlog::details::thread_pool* pool_;
  std::size_t dropped_reported_ = 0;
};

std::mutex setup_mutex;
std::shared_ptr<fd_sink> the_sink;           // guarded by setup_mutex
std::shared_ptr<spdlog::logger> the_logger;  // read with std::atomic_load
// The configured level (also the level the spdlog logger has once set up).
std::atomic<int> fallback_level{static_cast<int>(config::log_level::info)};

line_style make_style(const config::logging_settings& s, int fd) {
  return line_style{s.format, connected_to_journal(fd), static_cast<long>(::getpid())};
}

// What emergency() needs, readable without a lock.
std::atomic<int> direct_fd{2};
std::atomic<int> direct_format{static_cast<int>(config::log_format::text)};
std::atomic<bool> direct_journal{false};

}  // namespace

void emergency(config::log_level level, std::string_view logger_name, std::string_view message,
               std::initializer_list<field> context) {
  try {
    line_style style{static_cast<config::log_format>(direct_format.load()), direct_journal.load(),
                     static_cast<long>(::getpid())};
    record r{logger_name, std::vector<field>(context), message};
    std::string line = format_line(style, level, std::chrono::system_clock::now(), r);
    int fd = direct_fd.load();
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) && !(p.revents & (POLLERR | POLLHUP))) {
      ssize_t n = ::write(fd, line.data(), line.size());
      (void)n;
    }
  } catch (...) {
  }
}

bool connected_to_journal(int fd) {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

void setup(const config::logging_settings& settings, int fd) {
  ::signal(SIGPIPE, SIG_IGN);
  std::lock_guard<std::mutex> lock(setup_mutex);
  fallback_level = static_cast<int>(settings.level);
  auto style = make_style(settings, fd);
  direct_fd = fd;
  direct_format = static_cast<int>(style.format);
  direct_journal = style.journal_prefix;
  if (the_sink) {
    auto lg = std::atomic_load(&the_logger);
    lg->log(spdlog::level::critical, spdlog::string_view_t(restyle_payload(fd, style)));
    lg->set_level(to_spdlog(settings.level));
    return;
  }
  // 1,024 queued records (~400 KiB: spdlog builds every slot up front, so a bigger queue is
  // resident memory and start-up time, 16,384 slots were 6.5 MiB and 8 ms of page faults).
  if (!spdlog::thread_pool()) spdlog::init_thread_pool(log_queue_records, 1);
  the_sink = std::make_shared<fd_sink>(fd, style, spdlog::thread_pool().get());
  // overrun_oldest: a stalled stderr reader must never block an actor or io thread.
  auto lg = std::make_shared<spdlog::async_logger>("vpo", the_sink, spdlog::thread_pool(),
                                                   spdlog::async_overflow_policy::overrun_oldest);
  lg->set_level(to_spdlog(settings.level));
  std::atomic_store(&the_logger, std::shared_ptr<spdlog::logger>(lg));
}

void shutdown() {
  std::lock_guard<std::mutex> lock(setup_mutex);
  if (!the_sink) return;
  auto last = std::atomic_load(&the_logger);
  std::atomic_store(&the_logger, std::shared_ptr<spdlog::logger>());
  // Join the log thread (it writes what is queued) before the logger and its sink can go: their
  // last use is then ordered by the join, not only by reference counts inside libspdlog (which
  // is not instrumented: ThreadSanitizer cannot see those).
  spdlog::shutdown();
  last.reset();
  the_sink.reset();
}

bool logger::enabled(config::log_level level) const {
  // The configured level, whatever the pipeline's state (setup() sets the logger's level to the
  // same value): one relaxed load, no shared_ptr copy (std::atomic_load of a shared_ptr takes a
  // mutex in libstdc++), so a probe's log check costs nothing.
  return static_cast<int>(level) >= fallback_level.load(std::memory_order_relaxed);
}

void logger::log(config::log_level level, std::string_view message, fields context) const {
  try {
    auto lg = std::atomic_load(&the_logger);
    if (!lg) {
      // Before setup (text to stderr) or after shutdown (as configured): write synchronously
      // so nothing is lost.
      if (static_cast<int>(level) < fallback_level.load()) return;
      record r{name_, std::vector<field>(context), message};
      line_style style{static_cast<config::log_format>(direct_format.load()), direct_journal.load(),
                       static_cast<long>(::getpid())};
      write_all(direct_fd.load(), format_line(style, level, std::chrono::system_clock::now(), r));
      return;
    }
    auto lvl = to_spdlog(level);
    if (!lg->should_log(lvl)) return;
    lg->log(lvl, spdlog::string_view_t(encode(name_, context, message)));
  } catch (...) {
    // Logging must never take the process down (e.g. allocation failure).
  }
}

void logger::debug(std::string_view m, fields c) const {
  log(config::log_level::debug, m, c);
}
void logger::info(std::string_view m, fields c) const {
  log(config::log_level::info, m, c);
}
void logger::warn(std::string_view m, fields c) const {
  log(config::log_level::warning, m, c);
}
void logger::error(std::string_view m, fields c) const {
  log(config::log_level::error, m, c);
}

}  // namespace vpo::logging
