// server.cpp: Beast sessions with idle/read/write deadlines, limits, drain and force.
#include "net/server.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "logging/log.hpp"
#include "net/router.hpp"
#include "net/wire.hpp"

namespace vpo::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One io thread: every socket, stream and timer uses the io_context's own executor type (not the
// type-erased any_io_executor, whose copies allocate, nor a strand, which one thread does not
// need).
using executor = asio::io_context::executor_type;
using socket_type = asio::basic_stream_socket<tcp, executor>;
using timer_type =
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, executor>;
using acceptor_type = asio::basic_socket_acceptor<tcp, executor>;

namespace {
class session;
}

struct server::impl {
  impl(server_hooks h, server_options o) : hooks(std::move(h)), options(o) {}

  void on_accept(beast::error_code ec, socket_type socket);
  void do_accept();
  void pause_accepting(const beast::error_code& ec);
  void sweep();  // every sweep_period: closes the connections whose operation is overdue
  void request_started() { ++in_flight; }
  void request_finished() {
    if (--in_flight == 0 && draining.load()) notify_drained();
  }
  void notify_drained() {
    if (hooks.drained) hooks.drained();
  }
  void run_io();  // the io thread: ioc.run(), reporting what a handler throws
  template <class F>
  void for_each_session(F f);
  /// The io thread's snapshot (publish() hands new ones over by posting to the io thread).
  const health_snapshot& current() const { return snapshot->facts; }
  /// /health's unchanging pieces for that snapshot.
  const health_parts& health() const { return snapshot->health; }

  server_hooks hooks;
  server_options options;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  mutable std::mutex sessions_mutex;
  std::unordered_map<session*, std::weak_ptr<session>> sessions;
  std::size_t overflow = 0;  // sessions beyond max_connections (probe answers only)
  std::deque<std::weak_ptr<session>> overflow_order;  // those sessions, oldest first
  // Memory held for answers (io thread only): API requests with the actors, and the bytes of
  // answers being written. Past either bound, API requests get 503 OVERLOADED at once, and
  // clients that do not read their answers lose their connections first.
  std::size_t api_waiting = 0;
  std::size_t answer_bytes = 0;
  bool under_pressure() const { return answer_bytes > answer_bytes_budget; }
  static constexpr std::size_t max_api_waiting = 128;
  static constexpr std::size_t answer_bytes_budget = 32u << 20;
  std::chrono::milliseconds accept_backoff{0};  // > 0 while accept() fails for lack of resources
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> in_flight{0};
  struct published {
    health_snapshot facts;
    health_parts health;  // rendered once per snapshot, by the publisher's thread
  };
  std::shared_ptr<const published> snapshot =
      std::make_shared<published>(published{{}, render_health_parts({})});  // io thread
  std::string endpoint;
  bool loopback = true;
  http_metrics metrics;
  logging::logger log{"vpo.http"};
  // Declared last so it is destroyed first: pending handlers (and the sessions they own)
  // go away while the members above still exist.
  asio::io_context ioc{1};  // one thread runs it: no locking inside asio's scheduler either
  acceptor_type acceptor{ioc.get_executor()};
  timer_type accept_retry{ioc.get_executor()};
  timer_type sweeper{ioc.get_executor()};
  std::chrono::milliseconds sweep_period{250};
  std::thread thread;
};

namespace {

// Sessions point at the server's impl: it outlives them (its io_context is destroyed first).
using impl_ptr = server::impl*;

// Connections accepted beyond max_connections to answer one probe each (1 s to send it).
constexpr std::size_t max_overflow = 64;

http_response not_found(const std::string& path) {
  return json_error(404, "NOT_FOUND", "no such endpoint: " + path);
}

class session : public std::enable_shared_from_this<session> {
 public:
  session(socket_type socket, impl_ptr srv, bool overflow)
      : socket_(std::move(socket)), srv_(srv), timer_(socket_.get_executor()), overflow_(overflow) {
    // Room for a probe's whole answer and a request id from the start: one allocation each per
    // connection instead of the string doubling its way up (six on a new connection's first
    // answer).
    out_.reserve(1024);
    request_id_.reserve(48);
  }

  ~session() {
    if (busy_) srv_->request_finished();  // closed while its request was still unanswered
    if (api_waiting_) --srv_->api_waiting;
    std::lock_guard<std::mutex> lock(srv_->sessions_mutex);
    srv_->sessions.erase(this);
    if (overflow_) --srv_->overflow;
  }

  void start() {
    asio::dispatch(socket_.get_executor(),
                   beast::bind_front_handler(&session::wait_for_request, shared_from_this()));
  }

  /// On drain: a connection without a complete request header is idle and closes now; except a
  /// new connection whose first request has fully arrived, unparsed yet (it was accepted just
  /// before the listener closed: with socket activation, that client would otherwise get an empty
  /// reply where the next instance would have answered it). It is answered (Connection: close).
  void close_if_idle() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_ && !self->first_request_waiting()) self->close();
    });
  }

  void force_close() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

 private:
  // The first request of a new connection has fully arrived (its header block is complete, in
  // our buffer or still in the kernel's) but is not parsed yet.
  bool first_request_waiting() {
    if (answered_any_ || closed_) return false;
    auto data = buffer_.data();
    std::string_view have(static_cast<const char*>(data.data()), data.size());
    if (have.find("\r\n\r\n") != std::string_view::npos) return true;
    char peek[4096];
    ssize_t n = ::recv(socket_.native_handle(), peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) return false;
    std::string joined(have);
    joined.append(peek, static_cast<std::size_t>(n));
    return joined.find("\r\n\r\n") != std::string::npos;
  }

  void wait_for_request() {
    if (srv_->draining.load() && !first_request_waiting()) return close();
    if (buffer_.size() > 0) return read_header();
    expires_after(overflow_ ? overflow_timeout : srv_->options.idle_timeout);
    socket_.async_read_some(
        buffer_.prepare(4096),
        beast::bind_front_handler(&session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (ec) return close();
    buffer_.commit(n);
    read_header();
  }

  void read_header() {
    // The previous request's fields go first, then their arena is taken back whole.
    parser_.reset();
    arena_.reset();
    parser_.emplace(std::piecewise_construct, std::make_tuple(),
                    std::make_tuple(arena_allocator<char>(&arena_)));
    parser_->header_limit(srv_->options.header_limit);
    parser_->body_limit(srv_->options.body_limit);
    expires_after(overflow_ ? overflow_timeout : srv_->options.read_timeout);
    await_header_block();
  }

  // Reads until the whole header block is in the buffer (or it is over the limit), so that its
  // raw bytes can be checked before Beast parses it: Beast unfolds obs-fold silently, and a
  // folded Transfer-Encoding is how a request hides in another's body behind a proxy.
  void await_header_block() {
    auto data = buffer_.data();
    std::string_view have(static_cast<const char*>(data.data()), data.size());
    auto end = have.find("\r\n\r\n");
    if (end == std::string_view::npos && have.size() <= srv_->options.header_limit + 4) {
      socket_.async_read_some(
          buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            if (ec) return self->parse_header();  // Beast meets the same end and says what it is
            self->buffer_.commit(n);
            self->await_header_block();
          });
      return;
    }
    if (end != std::string_view::npos && has_obs_fold(have.substr(0, end + 2))) {
      busy_ = true;
      started_ = std::chrono::steady_clock::now();
      srv_->request_started();
      return write(json_error(400, "BAD_REQUEST",
                              "malformed HTTP request: a header line starts with a space or tab "
                              "(obsolete line folding is not accepted, RFC 9112 section 5.2)"),
                   false);
    }
    parse_header();
  }

  void parse_header() {
    http::async_read_header(socket_, buffer_, *parser_,
                            beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t header_bytes) {
    // Beast's own limit is checked against what one parse step sees, so a block of many small
    // fields got through up to ~20 KiB; the bytes the header took are the exact measure.
    if (!ec && header_over_limit(header_bytes, srv_->options.header_limit))
      ec = http::error::header_limit;
    if (ec) return on_read_error(ec);
    busy_ = true;
    started_ = std::chrono::steady_clock::now();
    srv_->request_started();
    if (auto refused = header_rule_violation(parser_->get())) {
      version_ = parser_->get().version() == 10 ? 10 : 11;
      return write(std::move(*refused), false);  // the body's framing is unknown: close unread
    }
    if (srv_->log.enabled(config::log_level::debug)) {
      const auto& h = parser_->get();
      srv_->log.debug("request started", {{"method", std::string(h.method_string())},
                                          {"path", std::string(h.target())}});
    }
    if (parser_->is_done()) return dispatch();
    http::async_read(socket_, buffer_, *parser_,
                     beast::bind_front_handler(&session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (ec == http::error::body_limit) return write(*read_error_response(ec), false);
    if (ec) {
      busy_ = false;
      srv_->request_finished();
      return on_read_error(ec);
    }
    dispatch();
  }

  // A failure before the request was complete: answer what deserves an answer, then close.
  void on_read_error(beast::error_code ec) {
    auto answer = read_error_response(ec);
    if (!answer || closed_) return close();
    busy_ = true;
    started_ = std::chrono::steady_clock::now();
    srv_->request_started();
    write(std::move(*answer), false);
  }

  void dispatch() {
    deadline_ = never;
    auto& req = parser_->get();
    head_ = req.method() == http::verb::head;
    keep_alive_ = req.keep_alive();
    version_ = req.version();  // an HTTP/1.0 client gets an HTTP/1.0 answer
    auto target = req.target();
    std::string_view method(req.method_string().data(), req.method_string().size());
    std::string_view path(target.data(), std::min(target.size(), target.find('?')));
    route rt = match(method, path);
    api_ = rt.kind == route_kind::api;
    label_ = rt.label;
    method_label_ = net::method_label(method);
    method_.assign(method);
    path_.assign(path);
    // Probes and /metrics are answered here from the parser's views; only a request that goes
    // on (to the actors, or to a 404/405 that quotes it) is copied into an http_request.
    bool local = rt.kind == route_kind::health || rt.kind == route_kind::readyz ||
                 rt.kind == route_kind::metrics;
    http_request r;
    if (local) {
      auto sent = req["X-Request-ID"];
      if (!usable_request_id(std::string_view(sent.data(), sent.size()), request_id_))
        new_request_id(request_id_);
    } else {
      r = to_http_request(req);
      request_id_ = r.request_id;
    }
    if (overflow_ && rt.kind != route_kind::health && rt.kind != route_kind::readyz &&
        rt.kind != route_kind::livez) {
      // Over the connection cap: probes are answered (a full server is not a dead one),
      // everything else is refused at once.
      auto res = json_error(503, "TOO_MANY_CONNECTIONS",
                            "the server has " + std::to_string(srv_->options.max_connections) +
                                " connections open; retry later");
      res.headers.emplace_back("Retry-After", "1");
      return write(std::move(res), false);
    }
    switch (rt.kind) {
      case route_kind::health: {
        auto now = std::chrono::steady_clock::now();
        double uptime = std::chrono::duration<double>(now - srv_->started).count();
        // This request is itself in flight; report the others.
        std::size_t others = srv_->in_flight.load();
        // The pieces made when the snapshot was published, and the numbers formatted here on
        // the stack: a probe allocates nothing.
        const auto& parts = srv_->health();
        char uptime_text[32], drain[health_drain_max];
        std::size_t u = render_uptime(uptime_text, sizeof uptime_text, uptime);
        std::size_t d =
            render_drain(drain, sizeof drain, srv_->current(), others > 0 ? others - 1 : 0, now);
        return write(parts.status, "application/json", nullptr,
                     {parts.head, std::string_view(uptime_text, u), parts.middle,
                      std::string_view(drain, d)},
                     true);
      }
      case route_kind::readyz:
        return write(render_readyz(srv_->current()), true);
      case route_kind::metrics: {
        double uptime =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - srv_->started).count();
        return write(render_metrics(srv_->current(), uptime, srv_->metrics), true);
      }
      case route_kind::method_not_allowed:
      case route_kind::not_found:
        return write(unrouted_answer(rt, r), true);
      case route_kind::livez:
        return call_hook(srv_->hooks.livez, std::move(r), srv_->options.livez_timeout, [] {
          http_response res;
          res.status = 503;
          res.content_type = "text/plain; charset=utf-8";
          res.body = "actor system did not answer within 1 s\n";
          return res;
        });
      case route_kind::api: {
        if (srv_->api_waiting >= server::impl::max_api_waiting || srv_->under_pressure()) {
          auto res = json_error(503, "OVERLOADED",
                                "the server has " + std::to_string(srv_->api_waiting) +
                                    " API requests in progress and " +
                                    std::to_string(srv_->answer_bytes >> 20) +
                                    " MiB of answers not yet read by their clients; retry later");
          res.headers.emplace_back("Retry-After", "1");
          return write(std::move(res), true);
        }
        api_waiting_ = true;
        ++srv_->api_waiting;
        beast::error_code ec;
        auto peer = socket_.remote_endpoint(ec);
        if (!ec) r.client_address = peer.address().to_string();
        return call_hook(srv_->hooks.api, std::move(r), srv_->options.handler_timeout, [] {
          return json_error(503, "TIMEOUT", "the request was not handled in time");
        });
      }
    }
  }

  // Hands the request to the actors; whichever comes first, their reply or the deadline, answers.
  template <class Fallback>
  void call_hook(const request_handler& hook, http_request r, std::chrono::milliseconds timeout,
                 Fallback fallback) {
    if (!hook) return write(not_found(r.path), true);
    auto seq = ++seq_;
    awaiting_ = true;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), seq, fallback](beast::error_code ec) {
      if (!ec) self->answer(seq, fallback());
    });
    // The reply holds the session weakly: the pending deadline keeps it alive, and a reply_fn
    // dropped by an actor can never be the last owner of a session (or of its strand).
    std::weak_ptr<session> weak = shared_from_this();
    hook(std::move(r), [weak, seq](http_response res) {
      auto self = weak.lock();
      if (!self) return;
      auto exec = self->socket_.get_executor();
      asio::post(exec, [self = std::move(self), seq, res = std::move(res)]() mutable {
        self->answer(seq, std::move(res));
      });
    });
  }

  void answer(std::uint64_t seq, http_response res) {
    if (!awaiting_ || seq != seq_) return;  // late reply or deadline after the answer
    awaiting_ = false;
    if (std::exchange(api_waiting_, false)) --srv_->api_waiting;
    timer_.cancel();
    write(std::move(res), true);
  }

  // Serializes the answer into one buffer the session keeps (its capacity is reused by every
  // answer on the connection) and sends it with one write: Beast's header serializer walked a
  // chain of buffer views per field, a tenth of a probe's CPU.
  void write(http_response r, bool keep_alive_allowed) {
    write(r.status, r.content_type, &r.headers, {r.body}, keep_alive_allowed);
  }

  // The body may come in pieces (a probe's answer: pre-rendered parts and its numbers).
  void write(int status, std::string_view content_type,
             const std::vector<std::pair<std::string, std::string>>* headers,
             std::initializer_list<std::string_view> body, bool keep_alive_allowed) {
    bool keep = keep_alive_allowed && keep_alive_ && !overflow_ && !srv_->draining.load();
    if (request_id_.empty()) new_request_id(request_id_);  // a request that could not be read
    out_.clear();
    out_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    append_number(out_, static_cast<unsigned long>(status));
    out_ += ' ';
    auto reason = http::obsolete_reason(static_cast<http::status>(status));
    out_.append(reason.data(), reason.size());
    out_ += "\r\nContent-Type: ";
    out_ += content_type;
    out_ += "\r\nCache-Control: no-store\r\nX-Request-ID: ";
    out_ += request_id_;
    if (headers)
      for (auto& [k, v] : *headers) {
        out_ += "\r\n";
        out_ += k;
        out_ += ": ";
        out_ += v;
      }
    if (version_ == 10 && keep) out_ += "\r\nConnection: keep-alive";
    if (version_ != 10 && !keep) out_ += "\r\nConnection: close";
    out_ += "\r\nContent-Length: ";
    std::size_t length = 0;
    for (auto piece : body) length += piece.size();
    append_number(out_, length);
    out_ += "\r\n\r\n";
    if (!head_)
      for (auto piece : body) out_ += piece;
    status_ = status;
    expires_after(srv_->options.write_timeout);
    writing_ = true;
    write_started_ = std::chrono::steady_clock::now();
    srv_->answer_bytes += out_.size();
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->srv_->answer_bytes -= self->out_.size();
                        self->on_write(ec, keep);
                      });
  }

  static void append_number(std::string& out, unsigned long n) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out.append(digits, end);
  }

  void on_write(beast::error_code ec, bool keep_alive) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    srv_->metrics.record(method_label_, label_, status_, seconds);
    log_request(seconds);
    label_ = metric_route::other;
    method_label_ = metric_method::other;
    busy_ = false;
    answered_any_ = true;
    head_ = false;
    version_ = 11;
    srv_->request_finished();
    if (ec || !keep_alive) return close();
    // Bytes accepted by the kernel are not bytes the client read: a client that sends requests
    // and never reads its answers would otherwise be served until every buffer on the way is
    // full. Every 64 KiB of answers, the unsent and unacknowledged bytes are measured; above 64
    // KiB the next request waits until they drain (within write_timeout, or less when the
    // server is full). At most one answer beyond that is queued per connection.
    unchecked_ += out_.size();
    if (out_.capacity() > max_kept_answer_buffer) std::string().swap(out_);
    if (unchecked_ >= drain_check_bytes) {
      std::size_t queued = unsent_bytes();
      if (queued > max_unsent_bytes) return wait_for_drain();
      unchecked_ = queued;
    }
    wait_for_request();
  }

  // The kernel's send queue for this socket: bytes not yet acknowledged by the client.
  std::size_t unsent_bytes() {
    int queued = 0;
    if (::ioctl(socket_.native_handle(), SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
    return static_cast<std::size_t>(queued);
  }

  void wait_for_drain() {
    draining_output_ = true;
    stalled_since_ = std::chrono::steady_clock::now();
    expires_after(srv_->options.write_timeout);
    // A client that reads its answer before it asks again (every client but a pipelining one) is
    // resumed by its next request; the sweep re-measures the rest every sweep period.
    if (buffer_.size() == 0)
      socket_.async_wait(socket_type::wait_read, [self = shared_from_this()](beast::error_code ec) {
        if (!ec && !self->closed_) self->resume_if_drained();
      });
  }

  void resume_if_drained() {
    if (!draining_output_ || closed_) return;
    std::size_t queued = unsent_bytes();
    if (queued > max_unsent_bytes) return;
    draining_output_ = false;
    unchecked_ = queued;
    deadline_ = never;
    wait_for_request();
  }

  // Contract §4: each /api/* request at info when it ends; probes, /metrics and the rest at debug.
  void log_request(double seconds) {
    auto level = api_ ? config::log_level::info : config::log_level::debug;
    if (srv_->log.enabled(level)) {
      double ms = std::round(seconds * 100000.0) / 100.0;  // 0.01 ms
      std::string method = method_.empty() ? "-" : method_;
      std::string path = path_.empty() ? "-" : path_;
      char took[32];
      std::snprintf(took, sizeof took, "%.2f", ms);
      srv_->log.log(level, method + " " + path + " " + std::to_string(status_) + " " + took + " ms",
                    {{"method", method},
                     {"path", path},
                     {"status", status_},
                     {"duration_ms", ms},
                     {"request_id", request_id_}});
    }
    request_id_.clear();
    method_.clear();
    path_.clear();
    api_ = false;
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  // The current operation's deadline: the server's sweep closes the connection once it has
  // passed (one timer for the whole server instead of one armed and cancelled per read and write).
  void expires_after(std::chrono::milliseconds d) {
    deadline_ = std::chrono::steady_clock::now() + d;
  }

 public:
  /// The sweep (io thread): closes the connection when its operation is overdue; the pending
  /// operation then ends with operation_aborted, as a timeout.
  /// An overflow connection that has sent nothing yet (io thread).
  bool silent() { return !closed_ && !busy_ && buffer_.size() == 0; }
  /// Closes it now (io thread): its place goes to a newer connection.
  void evict() { close(); }

  void expire_if_due(std::chrono::steady_clock::time_point now, bool full) {
    if (closed_) return;
    if (draining_output_) resume_if_drained();
    if (deadline_ <= now) return close();
    // With every slot taken (or the answers' memory over its budget), a client that has not
    // read its answer for a second gives its slot up: it is the one holding the server hostage,
    // not the clients waiting to get in.
    if (full && ((draining_output_ && now - stalled_since_ > stalled_reader_grace) ||
                 (writing_ && now - write_started_ > stalled_reader_grace))) {
      srv_->log.debug(
          "closing a connection whose client does not read its answers (the server "
          "is at its connection limit or its answers' memory budget)");
      close();
    }
  }

 private:
  static constexpr auto never = std::chrono::steady_clock::time_point::max();
  socket_type socket_;
  std::chrono::steady_clock::time_point deadline_ = never;
  impl_ptr srv_;
  timer_type timer_;
  beast::flat_buffer buffer_;
  std::string out_;      // the answer being written (reused: no allocation once it has grown)
  request_arena arena_;  // the fields of the request being read
  std::optional<wire_parser> parser_;
  bool busy_ = false;  // a complete request header arrived and is not yet answered
  bool closed_ = false;
  bool answered_any_ = false;  // this connection has had an answer (it is no longer new)
  bool head_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  metric_route label_ = metric_route::other;
  metric_method method_label_ = metric_method::other;
  std::string request_id_, method_, path_;  // of the request being answered, for its log record
  bool api_ = false;
  int status_ = 0;
  std::chrono::steady_clock::time_point started_{};
  bool awaiting_ = false;
  std::uint64_t seq_ = 0;
  bool overflow_;  // beyond max_connections: one probe answer, then closed
  static constexpr std::chrono::milliseconds overflow_timeout{1000};
  // Slow readers: answers written since the send queue was last measured, whether the next
  // request waits for it to drain, and since when; a write in progress and its start.
  std::size_t unchecked_ = 0;
  bool draining_output_ = false;
  std::chrono::steady_clock::time_point stalled_since_{};
  bool writing_ = false;
  std::chrono::steady_clock::time_point write_started_{};
  bool api_waiting_ = false;  // counted in the server's api_waiting
  static constexpr std::size_t drain_check_bytes = 64 * 1024;
  static constexpr std::size_t max_unsent_bytes = 64 * 1024;
  static constexpr std::size_t max_kept_answer_buffer = 64 * 1024;
  static constexpr std::chrono::milliseconds stalled_reader_grace{1000};
};

// So 1024 connections fit: raise the soft open-file limit to the hard one.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::string bind_hint(const beast::error_code& ec, std::uint16_t port) {
  if (ec == asio::error::address_in_use)
    return "Another process listens on this port: stop it or choose another --port.";
  if (ec == asio::error::access_denied)
    return port < 1024 ? "Ports below 1024 need root or CAP_NET_BIND_SERVICE: choose --port "
                         "1024 or above, or grant the capability."
                       : "Permission denied: check security policies for this address.";
  if (ec == boost::system::errc::address_not_available)
    return "This machine has no interface with that address: choose another --bind.";
  return "Check --bind and --port.";
}

}  // namespace

template <class F>
void server::impl::for_each_session(F f) {
  std::vector<std::shared_ptr<session>> live;
  {
    std::lock_guard<std::mutex> lock(sessions_mutex);
    for (auto& [p, w] : sessions)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) f(*s);
}

void server::impl::sweep() {
  auto now = std::chrono::steady_clock::now();
  bool full = under_pressure();
  {
    std::lock_guard<std::mutex> lock(sessions_mutex);
    full = full || sessions.size() - overflow >= options.max_connections;
  }
  for_each_session([now, full](session& s) { s.expire_if_due(now, full); });
  sweeper.expires_after(sweep_period);
  sweeper.async_wait([this](beast::error_code ec) {
    if (!ec) sweep();
  });
}

void server::impl::do_accept() {
  acceptor.async_accept(beast::bind_front_handler(&impl::on_accept, this));
}

// Out of descriptors (or kernel memory), accept() fails at once, again and again: retrying in a
// loop spun a core and starved every connection. Pause accepting (50 ms, doubling to 1 s), log
// once, keep serving the open connections, and say when accepting works again.
void server::impl::pause_accepting(const beast::error_code& ec) {
  if (accept_backoff.count() == 0) {
    accept_backoff = std::chrono::milliseconds(50);
    rlimit rl{};
    std::string limit = getrlimit(RLIMIT_NOFILE, &rl) == 0
                            ? " (open-file limit " + std::to_string(rl.rlim_cur) + ")"
                            : "";
    log.warn("cannot accept connections: " + ec.message() + limit +
                 "; pausing accepts and retrying (open connections are still served)",
             {{"error", ec.message()}});
  } else {
    accept_backoff = std::min(accept_backoff * 2, std::chrono::milliseconds(1000));
  }
  accept_retry.expires_after(accept_backoff);
  accept_retry.async_wait([this](beast::error_code e) {
    if (!e && acceptor.is_open()) do_accept();
  });
}

void server::impl::on_accept(beast::error_code ec, socket_type socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
  if (ec == asio::error::no_descriptors ||
      ec == boost::system::errc::too_many_files_open_in_system ||
      ec == asio::error::no_buffer_space || ec == asio::error::no_memory)
    return pause_accepting(ec);
  if (!ec) {
    if (accept_backoff.count() > 0) {
      accept_backoff = std::chrono::milliseconds(0);
      log.info("accepting connections again");
    }
    std::shared_ptr<session> s;
    {
      std::lock_guard<std::mutex> lock(sessions_mutex);
      if (!draining.load()) {
        // Up to max_connections sessions; beyond them a few more that answer probes only.
        bool over = sessions.size() - overflow >= options.max_connections;
        // The probes' reserve holds under an accept burst: when it is full, the oldest reserve
        // connection that has sent nothing yet makes room (the burst's own silent connections,
        // not the probe that just arrived behind them).
        bool room = !over || overflow < max_overflow;
        while (!room && !overflow_order.empty()) {
          auto oldest = overflow_order.front().lock();
          overflow_order.pop_front();
          if (oldest && oldest->silent()) {
            oldest->evict();
            room = true;
          }
        }
        if (room) {
          s = std::make_shared<session>(std::move(socket), this, over);
          sessions.emplace(s.get(), s);
          if (over) {
            ++overflow;
            while (!overflow_order.empty() && overflow_order.front().expired())
              overflow_order.pop_front();
            overflow_order.push_back(s);
          }
        }
      }
    }
    if (s)
      s->start();
    else {
      beast::error_code ignored;
      socket.close(ignored);  // far over the limit: refused, not queued
    }
  }
  do_accept();
}

server::server(server_hooks hooks, server_options options)
    : impl_(std::make_unique<impl>(std::move(hooks), options)) {}

server::~server() {
  stop();
}

std::string server::listen(const std::string& host, std::uint16_t port) {
  raise_fd_limit();
  std::string where = host + ":" + std::to_string(port);
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(host, std::to_string(port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    return "cannot resolve bind address " + host + ": " + ec.message() +
           ". Use an IP address or a resolvable host name for --bind.";
  tcp::endpoint ep = results.begin()->endpoint();
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    a.close(ignored);
    return "cannot listen on " + where + ": " + ec.message() + ". " + bind_hint(ec, port);
  }
  auto local = a.local_endpoint(ec);
  impl_->endpoint = local.address().to_string() + ":" + std::to_string(local.port());
  impl_->loopback = local.address().is_loopback();
  return {};
}

std::string server::adopt(int fd) {
  raise_fd_limit();
  std::string what = "socket activation: file descriptor " + std::to_string(fd) + " from systemd ";
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int type = 0, listening = 0;
  socklen_t type_len = sizeof type, listening_len = sizeof listening;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0 ||
      (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
      ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_STREAM ||
      ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &listening_len) != 0 || !listening)
    return what +
           "is not a listening TCP socket. vpo.socket needs one ListenStream= with an address "
           "and port (e.g. ListenStream=127.0.0.1:8321).";
  beast::error_code ec;
  auto& a = impl_->acceptor;
  a.assign(ss.ss_family == AF_INET ? tcp::v4() : tcp::v6(), fd, ec);
  if (ec) return what + "cannot be used: " + ec.message() + ".";
  auto local = a.local_endpoint(ec);
  impl_->endpoint = local.address().to_string() + ":" + std::to_string(local.port());
  impl_->loopback = local.address().is_loopback();
  return {};
}

// No exception may leave the io thread (std::terminate would skip the drain). One that a handler
// throws is a defect: reported to the owner, which stops the daemon with exit 1; meanwhile the
// io_context runs on (Asio allows run() again after a handler threw), so the drain still answers.
void server::impl::run_io() {
  for (;;) {
    std::string what;
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "an exception that is not a std::exception";
    }
    try {
      if (hooks.failed) hooks.failed(what);
    } catch (...) {  // the report itself failed: keep serving; the stop comes some other way
    }
  }
}

void server::run() {
  // Deadlines are checked a quarter of the shortest timeout apart (250 ms with the contract's
  // limits): a connection is closed no earlier than its deadline and at most that much later.
  auto& o = impl_->options;
  auto shortest =
      std::min({o.idle_timeout, o.read_timeout, o.write_timeout, std::chrono::milliseconds(1000)});
  impl_->sweep_period =
      std::clamp(shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
  asio::post(impl_->ioc, [p = impl_.get()] { p->sweep(); });
  impl_->do_accept();
  impl_->thread = std::thread([p = impl_.get()] { p->run_io(); });
}

void server::publish(health_snapshot snapshot) {
  auto health = render_health_parts(snapshot);
  std::shared_ptr<const server::impl::published> next = std::make_shared<server::impl::published>(
      server::impl::published{std::move(snapshot), std::move(health)});
  // The io thread alone reads the snapshot; handing it over is one post, and a probe reads it
  // with no atomic and no lock. (Before run(), the post waits in the queue: nothing reads yet.)
  asio::post(impl_->ioc, [p = impl_.get(), next = std::move(next)]() mutable {
    p->snapshot = std::move(next);
  });
}

void server::begin_drain() {
  if (impl_->draining.exchange(true)) return;
  asio::post(impl_->acceptor.get_executor(), [p = impl_.get()] {
    beast::error_code ignored;
    p->acceptor.close(ignored);
  });
  impl_->for_each_session([](session& s) { s.close_if_idle(); });
  if (impl_->in_flight.load() == 0) impl_->notify_drained();
}

void server::close_all() {
  impl_->draining = true;
  asio::post(impl_->acceptor.get_executor(), [p = impl_.get()] {
    beast::error_code ignored;
    p->acceptor.close(ignored);
  });
  impl_->for_each_session([](session& s) { s.force_close(); });
}

std::size_t server::requests_in_flight() const {
  return impl_->in_flight.load();
}

std::string server::local_endpoint() const {
  return impl_->endpoint;
}

bool server::bound_to_loopback() const {
  return impl_->loopback;
}

void server::stop() {
  if (!impl_) return;
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void server::on_io_thread(std::function<void()> f) {
  asio::post(impl_->ioc, std::move(f));
}

}  // namespace vpo::net
