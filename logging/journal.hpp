// journal.hpp: native journald records (journald's native protocol): PRIORITY,
// SYSLOG_IDENTIFIER=vpo, MESSAGE, VPO_LOGGER and each context field as an upper-case field (JOB_ID,
// FILE_PATH, ...).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "logging/record.hpp"

namespace vpo::logging {

/// The journal fields of one record, each `NAME=value`. `message` is the MESSAGE (the line as
/// the configured format renders it, without the newline). A context key becomes its upper-case
/// name (`job_id` -> `JOB_ID`); characters outside [A-Z0-9_] become `_`; a key that would clash
/// with a journal or vpo field (`MESSAGE`, `PRIORITY`, `SYSLOG_*`, `CODE_*`, `VPO_LOGGER`, a
/// leading `_` or digit) is prefixed `VPO_`.
std::vector<std::string> journal_fields(config::log_level level, const record& r,
                                        std::string_view message);

/// The record as journald's native protocol sends it: `NAME=value\n` per field, or, for a value
/// with a newline, `NAME\n`, its length (64-bit little-endian), the value and `\n`.
std::string journal_datagram(const std::vector<std::string>& fields);

/// Sends one record to journald (one datagram; a sealed memfd when too big for one); false when
/// the journal socket cannot be used (the caller then writes the line with its `<N>` prefix to
/// stderr instead).
bool send_to_journal(const std::vector<std::string>& fields,
                     const std::string& socket_path = "/run/systemd/journal/socket");

}  // namespace vpo::logging
