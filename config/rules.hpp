// rules.hpp: the validation rule of each configuration key, shared by all layers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace vpo::config::rules {

/// Each check returns nullopt when valid, else the rule the value breaks ("must be ...").
std::optional<std::string> check_port(long long value);
std::optional<std::string> check_workers(long long value);
std::optional<std::string> check_shutdown_timeout(double value);
std::optional<std::string> check_auth_token(std::string_view value);
std::optional<std::string> check_bind(const std::string& value);
/// Whether the address `server.bind` names (its first, as the server binds it) is a loopback
/// address (127.0.0.0/8, ::1).
bool bind_is_loopback(const std::string& value);

/// Levenshtein distance (for "did you mean" suggestions).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` within two edits, or "" (for "did you mean").
std::string closest(std::string_view word, const std::vector<std::string>& candidates);
std::optional<std::string> check_path(std::string_view value);

/// Parses a level name in any case (`warn` is `warning`); nullopt when unknown.
std::optional<log_level> parse_level(std::string_view text);
/// Parses a format name in any case; nullopt when unknown.
std::optional<log_format> parse_format(std::string_view text);

/// Strict whole-string parses used for env and CLI text; nullopt on any junk.
std::optional<long long> parse_integer(std::string_view text);
std::optional<double> parse_number(std::string_view text);
std::optional<bool> parse_bool(std::string_view text);

}  // namespace vpo::config::rules
