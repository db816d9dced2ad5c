// record.hpp: packs a log record's logger name and context fields into the message payload.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "logging/log.hpp"

namespace vpo::logging {

/// A record as the formatters see it.
struct record {
  std::string_view logger;
  std::vector<field> context;
  std::string_view message;
};

/// Encodes name, fields and message into one string that survives spdlog's async queue
/// (spdlog 1.10 has no structured fields and thread-local context does not reach its thread).
std::string encode(std::string_view logger, fields context, std::string_view message);

/// Decodes a payload made by encode(); a payload from elsewhere becomes a plain message.
record decode(std::string_view payload);

}  // namespace vpo::logging
