// wire_test.cpp: request ids: the client's when usable, else a fresh one.
#include "net/wire.hpp"

#include <catch2/catch.hpp>
#include <set>

using namespace vpo::net;

TEST_CASE("X-Request-ID: a usable id is kept as sent", "[wire]") {
  CHECK(usable_request_id("abc-123") == "abc-123");
  CHECK(usable_request_id("0f8fad5b-d9cb-469f-a165-70867728950e") ==
        "0f8fad5b-d9cb-469f-a165-70867728950e");
  CHECK(usable_request_id("trace:1/2+3=4_5.6") == "trace:1/2+3=4_5.6");
  CHECK(usable_request_id(std::string(128, 'a')) == std::string(128, 'a'));
}

TEST_CASE("X-Request-ID: empty, too long, spaces, quotes, controls, non-ASCII are replaced",
          "[wire]") {
  for (std::string bad : {std::string(), std::string(129, 'a'), std::string("a b"),
                          std::string("a\"b"), std::string("a\nb"), std::string("a\x01"),
                          std::string("caf\xc3\xa9"), std::string("a=b;c")})
    CHECK(usable_request_id(bad).empty());
}

TEST_CASE("new request ids: 32 hex digits, all different", "[wire]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = new_request_id();
    REQUIRE(id.size() == 32);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("the request carries the id: the client's, or a new one", "[wire]") {
  wire_request req;
  req.method(boost::beast::http::verb::get);
  req.target("/api/jobs?limit=1");
  req.set("X-Request-ID", "given-1");
  CHECK(to_http_request(req).request_id == "given-1");
  req.set("X-Request-ID", "not usable");
  auto made = to_http_request(req).request_id;
  CHECK(made.size() == 32);
  req.erase("X-Request-ID");
  CHECK(to_http_request(req).request_id.size() == 32);
}

TEST_CASE(
    "a request's fields live in the session's arena, and a block bigger than it spills to "
    "the heap intact",
    "[wire]") {
  request_arena arena;
  auto parse = [&](const std::string& text) {
    auto p = std::make_unique<wire_parser>(std::piecewise_construct, std::make_tuple(),
                                           std::make_tuple(arena_allocator<char>(&arena)));
    boost::system::error_code ec;
    p->eager(true);
    p->put(boost::asio::buffer(text), ec);
    REQUIRE_FALSE(ec);
    REQUIRE(p->is_done());
    return p;
  };
  for (int round = 0; round < 3; ++round) {  // as a keep-alive connection reuses it
    std::string big = "GET /health HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 60; ++i)
      big += "X-Field-" + std::to_string(i) + ": " + std::string(40, char('a' + i % 26)) + "\r\n";
    big += "\r\n";
    {
      auto p = parse(big);
      auto& req = p->get();
      CHECK(req.target() == "/health");
      for (int i = 0; i < 60; ++i)
        CHECK(req["X-Field-" + std::to_string(i)] == std::string(40, char('a' + i % 26)));
      auto r = to_http_request(req);
      CHECK(r.path == "/health");
    }
    arena.reset();
    {
      auto p = parse("GET /readyz HTTP/1.1\r\nHost: b\r\nX-Request-ID: r-1\r\n\r\n");
      CHECK(p->get().target() == "/readyz");
      CHECK(p->get()["X-Request-ID"] == "r-1");
      CHECK(arena.owns(p->get()["Host"].data()));  // a small request: no heap at all
    }
    arena.reset();
  }
}

TEST_CASE("request ids are written into the string they are given", "[wire]") {
  std::string id;
  new_request_id(id);
  CHECK(id.size() == 32);
  CHECK(usable_request_id("given-2", id));
  CHECK(id == "given-2");
  CHECK_FALSE(usable_request_id("not usable", id));
  CHECK(id.empty());
}
