// formatter.hpp: renders one log record as a text or JSON line.
#pragma once

#include <chrono>
#include <string>

#include "config/settings.hpp"
#include "logging/record.hpp"

namespace vpo::logging {

/// Everything a line needs besides the record itself.
struct line_style {
  config::log_format format = config::log_format::text;
  bool journal_prefix = false;  ///< prepend `<N>` so journald knows the priority
  long pid = 0;
};

/// One complete line, newline included. JSON lines are always valid JSON (invalid UTF-8 becomes
/// U+FFFD); text lines escape control characters so a record never spans two lines.
std::string format_line(const line_style& style, config::log_level level,
                        std::chrono::system_clock::time_point time, const record& r);

/// RFC 3339 UTC with milliseconds and `Z`, e.g. `2026-11-22T01:02:03.456Z`.
std::string rfc3339_ms(std::chrono::system_clock::time_point time);

}  // namespace vpo::logging
