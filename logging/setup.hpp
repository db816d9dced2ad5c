// setup.hpp: installs and tears down the process-wide log pipeline (stderr, text/json, journald).
#pragma once

#include "config/settings.hpp"

namespace vpo::logging {

/// Starts logging to `fd` (stderr by default) with the given level and format. Ignores SIGPIPE so
/// a closed stderr cannot kill the process. Safe to call again to change level/format live.
void setup(const config::logging_settings& settings, int fd = 2);

/// Flushes every queued record and stops the log thread. Nothing may log afterwards.
void shutdown();

/// True when `fd` is the stream named by `JOURNAL_STREAM` (stderr connected to journald).
bool connected_to_journal(int fd);

}  // namespace vpo::logging
