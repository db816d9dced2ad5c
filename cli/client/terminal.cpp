// terminal.cpp: the one sanitiser for everything the client shows a person.
#include "cli/client/terminal.hpp"

#include <cstdint>

#include "util/text.hpp"

namespace vpo::cli::client {
namespace {

constexpr char hex[] = "0123456789abcdef";

// Code points a terminal acts on or that change how the line around them is shown.
bool invisible(std::uint32_t cp) {
  return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void append_u(std::string& out, std::uint32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += hex[(cp >> shift) & 15];
}

}  // namespace

std::string for_terminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    std::size_t n = util::decode_utf8(text, i, cp);
    if (n == 0) {  // not UTF-8: the byte itself, visibly
      auto c = static_cast<unsigned char>(text[i++]);
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
      continue;
    }
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7f) {
      out += "\\x";
      out += hex[cp >> 4];
      out += hex[cp & 15];
    } else if (invisible(cp)) {
      append_u(out, cp);
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string json_escape_invisible(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (std::size_t i = 0; i < json_text.size();) {
    std::uint32_t cp = 0;
    std::size_t n = util::decode_utf8(json_text, i, cp);
    if (n == 0) {  // dump() with the replace handler writes no invalid UTF-8; never pass it on
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (invisible(cp))
      append_u(out, cp);
    else
      out.append(json_text.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace vpo::cli::client
