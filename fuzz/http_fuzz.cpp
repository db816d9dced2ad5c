// http_fuzz.cpp: bytes as a client sends them -> the answer, through the session's own parsing
// (Beast, limits, read errors: net/wire), the router and the handlers that need no actor
// (probes render from a snapshot; /api goes through the jobs API's request parser). No sockets.
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>

#include "api/jobs_api.hpp"
#include "fuzz/fuzz_check.hpp"
#include "net/health.hpp"
#include "net/metrics.hpp"
#include "net/router.hpp"
#include "net/server.hpp"
#include "net/wire.hpp"

using namespace vpo;
namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const net::server_options limits;
  net::request_arena arena;  // as a session parses: the fields in its arena
  net::wire_parser parser(std::piecewise_construct, std::make_tuple(),
                          std::make_tuple(net::arena_allocator<char>(&arena)));
  parser.header_limit(limits.header_limit);
  parser.body_limit(limits.body_limit);
  parser.eager(true);
  boost::system::error_code ec;
  std::size_t used = 0, header_bytes = 0;
  while (used < size && !parser.is_done()) {  // the bytes as one buffered read, as a session has
    auto n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec == http::error::need_more) ec = {};
    if (ec || n == 0) break;
    used += n;
    if (parser.is_header_done() && header_bytes == 0) header_bytes = used;
  }
  if (!ec && parser.is_header_done() && net::header_over_limit(header_bytes, limits.header_limit))
    ec = http::error::header_limit;
  if (ec) {
    if (auto answer = net::read_error_response(ec)) fuzz::check_response(*answer);
    return 0;
  }
  // The session refuses a folded header block before Beast sees it, and header rules after.
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  if (auto end = raw.find("\r\n\r\n");
      end != std::string_view::npos && net::has_obs_fold(raw.substr(0, end + 2)))
    return 0;
  if (parser.is_header_done()) {
    if (auto refused = net::header_rule_violation(parser.get())) {
      fuzz::check_response(*refused);
      return 0;
    }
    // What passed the rules is framed one way only: at most one exact "chunked".
    auto te = parser.get().count(http::field::transfer_encoding);
    if (te > 1) fuzz::violated("two Transfer-Encoding headers passed", std::string(raw));
  }
  if (!parser.is_done()) return 0;  // incomplete: the session would wait (then time out)
  net::http_request r = net::to_http_request(parser.get());
  net::route rt = net::match(r.method, r.path);
  net::health_snapshot snap;
  snap.ready = true;
  snap.database_connected = (size % 2) == 0;
  snap.database_reason = snap.database_connected ? "" : r.target;  // request bytes in a body
  switch (rt.kind) {
    case net::route_kind::health:
      fuzz::check_response(net::render_health(snap, 1.5, 0, {}), false);
      break;
    case net::route_kind::readyz:
      net::render_readyz(snap);
      break;
    case net::route_kind::metrics: {
      net::http_metrics m;
      m.record(net::method_label(r.method), rt.label, 200, 0.001);
      net::render_metrics(snap, 1.5, m);
      break;
    }
    case net::route_kind::livez:
      break;
    case net::route_kind::api: {
      auto parsed = api::parse_job_request(r);
      if (auto* res = std::get_if<net::http_response>(&parsed)) fuzz::check_response(*res);
      break;
    }
    case net::route_kind::not_found:
    case net::route_kind::method_not_allowed:
      fuzz::check_response(net::unrouted_answer(rt, r));
      break;
  }
  return 0;
}
