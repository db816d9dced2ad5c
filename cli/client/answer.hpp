// answer.hpp: the daemon's JSON answers, read as hostile input: parsed within a budget, and made
// printable before anything of them reaches a terminal.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vpo::cli::client {

using json = nlohmann::ordered_json;

/// Nesting deeper than this is refused (a vpo answer nests 3 levels; printing is recursive).
constexpr int max_answer_depth = 64;
/// The work of building objects whose keys keep their order (each new key is compared with the
/// object's earlier keys): beyond this many comparisons an answer is refused, so a body of
/// hundreds of thousands of keys costs milliseconds, not minutes.
constexpr std::size_t max_key_comparisons = 4'000'000;

/// Parses an answer body; nullopt and `why` (in words) when it is not JSON or over the budget.
std::optional<json> parse_answer(const std::string& body, std::string& why);

/// Every string and key of `doc` through for_terminal(): after this, any text taken from the
/// document is safe to print in a table or a message.
void make_printable(json& doc);

/// `doc` as one line of JSON for --json: the same value, with DEL, C1 controls and bidirectional
/// overrides escaped as well as the C0 controls.
std::string json_line(const json& doc);

}  // namespace vpo::cli::client
