// terminal.hpp: what the client prints to a person is made safe for a terminal here.
#pragma once

#include <string>
#include <string_view>

namespace vpo::cli::client {

/// `text` as it may reach a terminal: every control character (C0 including newline, carriage
/// return and tab, DEL, C1), every bidirectional override and every byte that is not part of valid
/// UTF-8 is written as a visible escape (`\n`, `\r`, `\t`, `\x1b`, `\u009b`, `\u202e`, `\xff`), and
/// a backslash as `\\`, so the form shown is unambiguous and a file name can neither move the
/// cursor, nor set a title, nor forge a table row. Printable UTF-8 passes unchanged.
std::string for_terminal(std::string_view text);

/// JSON text (as nlohmann's dump writes it: C0 controls already escaped) with DEL, C1 controls
/// and bidirectional overrides also written as `\u` escapes: the same JSON value, safe to print.
std::string json_escape_invisible(std::string_view json_text);

}  // namespace vpo::cli::client
