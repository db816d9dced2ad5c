// setup.hpp: installs and tears down the process-wide log pipeline (stderr, text/json, journald).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>

#include "config/settings.hpp"
#include "logging/log.hpp"

namespace vpo::logging {

/// Records the log thread can hold; beyond that the oldest are dropped (and their number logged).
constexpr std::size_t log_queue_records = 1024;

/// Starts logging to `fd` (stderr by default) with the given level and format. Ignores SIGPIPE so
/// a closed stderr cannot kill the process. Safe to call again to change level/format live.
void setup(const config::logging_settings& settings, int fd = 2);

/// Flushes every queued record and stops the log thread. Later records are written directly
/// (synchronously, as text). Calling it again does nothing.
void shutdown();

/// The last resort's record: formatted as the pipeline would, written at once with one write(2)
/// past the queue, and only if the fd can take it now (a stalled reader never blocks it). Takes
/// no lock; safe while another thread is stuck in shutdown() or in the log thread's write.
void emergency(config::log_level level, std::string_view logger_name, std::string_view message,
               std::initializer_list<field> context);

/// True when `fd` is the stream named by `JOURNAL_STREAM` (stderr connected to journald).
bool connected_to_journal(int fd);

}  // namespace vpo::logging
