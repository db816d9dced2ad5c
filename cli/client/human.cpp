// human.cpp: formatting for people.
#include "cli/client/human.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace vpo::cli::client::human {

std::string size(long long bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

std::string count(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string duration(double seconds) {
  if (seconds < 0) seconds = 0;
  auto s = static_cast<long long>(seconds);
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min";
  if (s < 86400) {
    long long m = (s % 3600) / 60;
    return std::to_string(s / 3600) + " h" + (m ? " " + std::to_string(m) + " min" : "");
  }
  long long h = (s % 86400) / 3600;
  return std::to_string(s / 86400) + " d" + (h ? " " + std::to_string(h) + " h" : "");
}

std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& t) {
  int y, mo, d, h, mi, sec;
  char tail[64] = {0};
  if (t.size() < 20 || t.size() > 40 ||
      std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%63s", &y, &mo, &d, &h, &mi, &sec, tail) != 7)
    return std::nullopt;
  std::string rest = tail;
  if (rest.empty() || rest.back() != 'Z') return std::nullopt;
  double frac = 0;
  if (rest.size() > 1) {
    if (rest[0] != '.') return std::nullopt;
    frac = std::atof(("0" + rest.substr(0, rest.size() - 1)).c_str());
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t secs = timegm(&tm);
  return std::chrono::system_clock::from_time_t(secs) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::duration<double>(frac));
}

std::string ago(const std::optional<std::string>& text, std::chrono::system_clock::time_point now) {
  if (!text) return "-";
  auto t = parse_time(*text);
  if (!t) return *text;
  double s = std::chrono::duration<double>(now - *t).count();
  if (s < 0) return "just now";  // the daemon's clock is a little ahead
  if (s < 5) return "just now";
  return duration(s) + " ago";
}

namespace {
std::size_t width(const std::string& s) {  // UTF-8 code points (continuation bytes not counted)
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
}  // namespace

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right) {
  std::vector<std::size_t> w(header.size(), 0);
  for (std::size_t i = 0; i < header.size(); ++i) w[i] = width(header[i]);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < w.size(); ++i) {
      std::string cell = i < cells.size() ? cells[i] : "";
      std::string pad(w[i] - std::min(w[i], width(cell)), ' ');
      bool last = i + 1 == w.size();
      bool r = i < right.size() && right[i];
      out += r ? pad + cell : (last ? cell : cell + pad);
      if (!last) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& r : rows) out += line(r);
  return out;
}

std::string bar(double percent, int cells) {
  percent = std::clamp(percent, 0.0, 100.0);
  int filled = static_cast<int>(std::floor(percent / 100.0 * cells));
  char pct[16];
  std::snprintf(pct, sizeof pct, "%5.1f %%", percent);
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(cells - filled), '-') + "] " + pct;
}

}  // namespace vpo::cli::client::human
