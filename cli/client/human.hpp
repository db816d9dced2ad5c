// human.hpp: what a person reads: sizes, ages, durations, aligned tables, a progress bar.
// Pure functions (unit-tested); no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace vpo::cli::client::human {

/// 1536 -> "1.5 KiB", 0 -> "0 B", 1503238553 -> "1.4 GiB".
std::string size(long long bytes);
/// 12345 -> "12,345".
std::string count(long long n);
/// Seconds as "45 s", "3 min", "2 h 5 min", "3 d 4 h".
std::string duration(double seconds);
/// An RFC 3339 UTC time relative to `now`: "just now", "3 min ago", "2 d ago"; nullopt input or
/// an unreadable time: "-" (or the text itself).
std::string ago(const std::optional<std::string>& rfc3339,
                std::chrono::system_clock::time_point now);
/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z`; nullopt when it is not that.
std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& rfc3339);

/// Columns padded to their widest cell (counted in UTF-8 code points), two spaces apart; the
/// last column is not padded. `right[i]` right-aligns column i.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right = {});

/// `[#########-----------]  45.0 %` in `width` bar cells.
std::string bar(double percent, int width = 30);

}  // namespace vpo::cli::client::human
