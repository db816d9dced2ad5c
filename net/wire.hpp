// wire.hpp: what the session makes of the bytes it read, without a socket: the request the
// router and the actors see, and the answer to a request that could not be read. Shared by the
// server's sessions and the HTTP fuzzer. Includes Beast: only server.cpp and the fuzzer use it.
#pragma once

#include <boost/beast/http.hpp>
#include <cstddef>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_types.hpp"

namespace vpo::net {

/// Memory for one request's header fields, reused by every request on a connection: Beast's
/// fields allocate each field and the target separately, which was most of a probe's mallocs.
/// What does not fit (a header block of many or long fields) comes from the heap as before.
class request_arena {
 public:
  void* allocate(std::size_t n, std::size_t align) {
    std::size_t at = (used_ + align - 1) / align * align;
    if (at + n > sizeof buf_) return nullptr;
    used_ = at + n;
    return buf_ + at;
  }
  bool owns(const void* p) const {
    auto* c = static_cast<const char*>(p);
    return c >= buf_ && c < buf_ + sizeof buf_;
  }
  /// Only once nothing allocated here is in use (the parser that used it is gone).
  void reset() { used_ = 0; }

 private:
  alignas(std::max_align_t) char buf_[2048];
  std::size_t used_ = 0;
};

/// An allocator over a request_arena (the heap when it has none, or when the arena is full);
/// freeing arena memory is a no-op: reset() takes it all back at once.
template <class T>
struct arena_allocator {
  using value_type = T;
  request_arena* arena = nullptr;
  arena_allocator() = default;
  explicit arena_allocator(request_arena* a) : arena(a) {}
  template <class U>
  arena_allocator(const arena_allocator<U>& o) : arena(o.arena) {}  // NOLINT: rebinding
  T* allocate(std::size_t n) {
    if (arena)
      if (void* p = arena->allocate(n * sizeof(T), alignof(T))) return static_cast<T*>(p);
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) {
    if (arena && arena->owns(p)) return;
    ::operator delete(p);
  }
  template <class U>
  bool operator==(const arena_allocator<U>& o) const {
    return arena == o.arena;
  }
  template <class U>
  bool operator!=(const arena_allocator<U>& o) const {
    return arena != o.arena;
  }
};

using wire_fields = boost::beast::http::basic_fields<arena_allocator<char>>;
using wire_request = boost::beast::http::request<boost::beast::http::string_body, wire_fields>;
using wire_parser =
    boost::beast::http::request_parser<boost::beast::http::string_body, arena_allocator<char>>;

/// The request as the router and the actors see it (method, target, path, query, body,
/// Authorization, request id). The body is moved out of `req`.
http_request to_http_request(wire_request& req);

/// The client's X-Request-ID when it is usable as a log field and a header (1 to 128 of
/// `A-Z a-z 0-9 - _ . : / + =`), else "" (then the server makes one).
std::string usable_request_id(std::string_view sent);
/// The same into `out` (its capacity reused); false (and `out` empty) when not usable.
bool usable_request_id(std::string_view sent, std::string& out);

/// A new request id: 32 hex digits.
std::string new_request_id();
/// The same into `out` (its capacity reused: no allocation once it has held one).
void new_request_id(std::string& out);

/// Header rules Beast lets through that a server behind a proxy must not (RFC 9112 §3.2, §6.1,
/// §6.3; RFC 9110 §11.6.2): a Transfer-Encoding other than exactly one `chunked` (obs-folded,
/// `identity, chunked`, `gzip`, repeated) could frame the body differently from a proxy in front
/// (request smuggling); an HTTP/1.1 request needs exactly one Host; two Authorization headers are
/// ambiguous. The 400 answer (the connection is then closed unread), or nullopt when it is fine.
std::optional<http_response> header_rule_violation(const wire_request& req);

/// True when a raw header block (request line and header lines, each ending in CRLF) has a
/// line that starts with a space or tab: obs-fold (RFC 9112 §5.2), refused with 400.
inline bool has_obs_fold(std::string_view block) {
  return block.find("\r\n ") != std::string_view::npos ||
         block.find("\r\n\t") != std::string_view::npos;
}

/// The answer to a request that failed to parse: 431 (header block over the limit), 413 (body
/// over the limit), 400 (malformed). nullopt when the failure needs no answer (the client went
/// away or timed out): the connection just closes.
std::optional<http_response> read_error_response(const boost::system::error_code& ec);

/// Whether a header block of `bytes` is over `limit` (Beast's own check lets many small fields
/// through beyond it: the bytes the header took are the exact measure).
inline bool header_over_limit(std::size_t bytes, std::size_t limit) {
  return bytes > limit;
}

}  // namespace vpo::net
