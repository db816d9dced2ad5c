// text.hpp: UTF-8 decoding and percent-encoding for the places that must not trust text (names from
// the file system, strings from the network). The bottom of the dependency direction: it includes
// nothing of vpo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vpo::util {

/// Length (1-4) of the valid UTF-8 sequence at `s[i]`, with its code point in `cp`; 0 when the
/// bytes there are not valid UTF-8 (stray continuation bytes, truncated sequences, overlong
/// forms, surrogates and values past U+10FFFF).
std::size_t decode_utf8(std::string_view s, std::size_t i, std::uint32_t& cp);

/// True when all of `s` is valid UTF-8.
bool valid_utf8(std::string_view s);

/// `bytes` percent-encoded as in a URL's query (RFC 3986: letters, digits, `-_.~` and `/` stay,
/// every other byte is %XX): any byte string, a path that is not UTF-8 included, round-trips.
std::string percent_encode(std::string_view bytes);

/// Decodes %XX escapes and '+' (a space) of a query-string value; nullopt when malformed.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace vpo::util
