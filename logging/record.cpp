// record.cpp: the length-prefixed payload encoding of a log record.
#include "logging/record.hpp"

#include <charconv>
#include <cstdio>
#include <optional>

namespace vpo::logging {
namespace {

constexpr char marker = '\x1e';

void put(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

// Reads one `len:bytes` chunk at `pos`; nullopt on a malformed payload.
std::optional<std::string_view> take(std::string_view in, std::size_t& pos) {
  std::size_t len = 0;
  auto [ptr, ec] = std::from_chars(in.data() + pos, in.data() + in.size(), len);
  if (ec != std::errc{} || ptr == in.data() + in.size() || *ptr != ':') return std::nullopt;
  std::size_t start = static_cast<std::size_t>(ptr - in.data()) + 1;
  if (start + len > in.size()) return std::nullopt;
  pos = start + len;
  return in.substr(start, len);
}

std::optional<field> decode_field(std::string_view in, std::size_t& pos) {
  auto key = take(in, pos);
  if (!key || pos >= in.size()) return std::nullopt;
  char type = in[pos++];
  auto text = take(in, pos);
  if (!text) return std::nullopt;
  switch (type) {
    case 's':
      return field{*key, *text};
    case 'i': {
      long long v = 0;
      std::from_chars(text->data(), text->data() + text->size(), v);
      return field{*key, v};
    }
    case 'd':
      return field{*key, std::strtod(std::string(*text).c_str(), nullptr)};
    case 'b':
      return field{*key, *text == "1"};
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string encode(std::string_view logger, fields context, std::string_view message) {
  std::string out;
  out.reserve(message.size() + logger.size() + 16 + context.size() * 32);
  out += marker;
  put(out, logger);
  out += std::to_string(context.size());
  out += ':';
  for (const auto& f : context) {
    put(out, f.key);
    if (auto s = std::get_if<std::string>(&f.value))
      out += 's', put(out, *s);
    else if (auto i = std::get_if<std::int64_t>(&f.value))
      out += 'i', put(out, std::to_string(*i));
    else if (auto b = std::get_if<bool>(&f.value))
      out += 'b', put(out, *b ? "1" : "0");
    else {
      char buf[32];
      int n = std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(f.value));
      out += 'd';
      put(out, std::string_view(buf, static_cast<std::size_t>(n)));
    }
  }
  out += message;
  return out;
}

record decode(std::string_view payload) {
  record plain{"vpo", {}, payload};
  if (payload.empty() || payload[0] != marker) return plain;
  std::size_t pos = 1;
  auto name = take(payload, pos);
  if (!name) return plain;
  std::size_t count = 0;
  auto [ptr, ec] = std::from_chars(payload.data() + pos, payload.data() + payload.size(), count);
  if (ec != std::errc{} || ptr == payload.data() + payload.size() || *ptr != ':') return plain;
  pos = static_cast<std::size_t>(ptr - payload.data()) + 1;
  record r{*name, {}, {}};
  r.context.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto f = decode_field(payload, pos);
    if (!f) return plain;
    r.context.push_back(std::move(*f));
  }
  r.message = payload.substr(pos);
  return r;
}

}  // namespace vpo::logging
