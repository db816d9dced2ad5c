// priority_test.cpp: settles what CAF 0.17.6 does with message priorities, which the force path
// relies on (docs/architecture.md): send<high> overtakes normal messages in the receiver's
// mailbox; request<high> does so only with a caf::duration timeout. The overload that takes a
// std::chrono duration forwards to the caf::duration one without its priority (caf/mixin/
// requester.hpp: `return request(dest, duration{timeout}, ...)`), so its message is normal.
#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using high_atom = caf::atom_constant<caf::atom("hi_dur")>;
using chrono_atom = caf::atom_constant<caf::atom("hi_chrono")>;
using plain_atom = caf::atom_constant<caf::atom("hi_send")>;

namespace {

struct recorder {
  std::mutex mutex;
  std::vector<std::string> order;
  std::promise<void> all_six;
  void add(std::string what) {
    std::lock_guard<std::mutex> lock(mutex);
    order.push_back(std::move(what));
    if (order.size() == 6) all_six.set_value();
  }
};

// Index of `what` in the order, or -1.
int position(const std::vector<std::string>& order, const std::string& what) {
  for (std::size_t i = 0; i < order.size(); ++i)
    if (order[i] == what) return static_cast<int>(i);
  return -1;
}

}  // namespace

TEST_CASE(
    "CAF 0.17.6: send<high> and request<high> with a caf::duration overtake normal "
    "messages, request<high> with a chrono duration does not",
    "[actors][caf]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  recorder rec;
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> blocked;
  // Each function actor takes one spawn argument: CAF 0.17 dereferences a null argument tuple for
  // one that takes none (UBSan reports it).
  auto receiver = sys.spawn<caf::detached>(
      [&, released](caf::event_based_actor*, int) -> caf::behavior {
        return {
            [&, released](caf::ok_atom) {
              blocked.set_value();
              released.wait_for(5s);  // holds the mailbox until everything below is enqueued
            },
            [&](int i) { rec.add("normal " + std::to_string(i)); },
            [&](high_atom) { rec.add("request<high> caf::duration"); },
            [&](chrono_atom) { rec.add("request<high> chrono"); },
            [&](plain_atom) { rec.add("send<high>"); },
        };
      },
      0);
  ;
  caf::scoped_actor self{sys};
  self->send(receiver, caf::ok_atom::value);
  REQUIRE(blocked.get_future().wait_for(5s) == std::future_status::ready);
  for (int i = 1; i <= 3; ++i) self->send(receiver, i);
  auto sender = sys.spawn(
      [](caf::event_based_actor* s, caf::actor receiver) {
        s->request<caf::message_priority::high>(receiver, 1s, chrono_atom::value)
            .then([] {}, [](caf::error&) {});
        s->request<caf::message_priority::high>(receiver, caf::duration{1s}, high_atom::value)
            .then([] {}, [](caf::error&) {});
        s->send<caf::message_priority::high>(receiver, plain_atom::value);
      },
      receiver);
  ;
  // The sender's three messages are in the mailbox once it has run its start-up; wait for it.
  self->wait_for(sender);
  release.set_value();
  REQUIRE(rec.all_six.get_future().wait_for(5s) == std::future_status::ready);
  std::vector<std::string> order;
  {
    std::lock_guard<std::mutex> lock(rec.mutex);
    order = rec.order;
  }
  INFO("order: " << Catch::Detail::stringify(order));
  int first_normal = position(order, "normal 1");
  REQUIRE(first_normal >= 0);
  CHECK(position(order, "send<high>") >= 0);
  CHECK(position(order, "send<high>") < first_normal);
  CHECK(position(order, "request<high> caf::duration") >= 0);
  CHECK(position(order, "request<high> caf::duration") < first_normal);
  // The chrono overload drops the priority: if this starts failing, CAF now carries it.
  CHECK(position(order, "request<high> chrono") > first_normal);
  caf::anon_send_exit(receiver, caf::exit_reason::user_shutdown);
}
