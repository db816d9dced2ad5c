// client_answer_fuzz.cpp: what the client makes of any answer body: parse_answer never crashes
// and stays within its budget; --json output (json_line) is valid JSON of the same value with no
// byte a terminal acts on; after make_printable every string and key is safe for a terminal;
// for_terminal of any bytes is valid UTF-8 without control characters.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/client/answer.hpp"
#include "cli/client/terminal.hpp"
#include "fuzz/fuzz_check.hpp"
#include "util/text.hpp"

using namespace vpo;
using namespace vpo::cli::client;

namespace {

// No C0 control (newline included), DEL, C1 or bidi override; valid UTF-8.
void check_terminal_safe(const std::string& text, const char* where) {
  if (!util::valid_utf8(text)) fuzz::violated("not UTF-8", where);
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) fuzz::violated("control byte reaches the terminal", where);
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9f)
      fuzz::violated("C1 control reaches the terminal", where);
    if (c == 0xe2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        ((static_cast<unsigned char>(text[i + 2]) >= 0xaa &&
          static_cast<unsigned char>(text[i + 2]) <= 0xae) ||
         static_cast<unsigned char>(text[i + 2]) == 0x8e ||
         static_cast<unsigned char>(text[i + 2]) == 0x8f))
      fuzz::violated("bidi control reaches the terminal", where);
  }
}

void check_printable(const json& doc) {
  if (doc.is_string()) check_terminal_safe(doc.get<std::string>(), "a string");
  if (doc.is_object())
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      check_terminal_safe(it.key(), "a key");
      check_printable(it.value());
    }
  if (doc.is_array())
    for (const auto& v : doc) check_printable(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  check_terminal_safe(for_terminal(body), "for_terminal");
  std::string why;
  auto doc = parse_answer(body, why);
  if (!doc) {
    if (why.empty()) fuzz::violated("refused without a reason", body);
    return 0;
  }
  std::string line = json_line(*doc);
  for (char c : line)
    if (static_cast<unsigned char>(c) < 0x20) fuzz::violated("control byte in --json output", line);
  auto again = json::parse(line, nullptr, false);
  if (again.is_discarded()) fuzz::violated("--json output is not JSON", line);
  // The same value (strings whose invalid UTF-8 was replaced aside: compare the dumps).
  if (json_line(again) != line) fuzz::violated("--json output is another value", line);
  make_printable(*doc);
  check_printable(*doc);
  return 0;
}
