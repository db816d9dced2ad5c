// store_test.cpp: the one writer: a job transition overtakes queued scan batches (high priority),
// an insert that arrives after its deadline creates nothing, recovery at init, and the reader
// answers beside it.
#include "actors/store.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <mutex>

#include "actors/messages.hpp"
#include "db/library.hpp"
#include "tests/support/temp_dir.hpp"

using namespace vpo;
using namespace vpo::actors;
using namespace std::chrono_literals;

namespace {

struct store_fixture {
  test::temp_dir dir;
  std::string path = dir.file("lib.db");
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  store_actor store;
  store_fixture() {
    db::connection c;
    db::file_identity id;
    REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 1000, c, id).ok());
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    store = spawn_store(*sys, path);
    caf::scoped_actor self{*sys};
    self->request(store, 5s, init_atom::value, 3)
        .receive([&](const store_recovery& r) { REQUIRE(r.ok); },
                 [&](caf::error& e) { FAIL(sys->render(e)); });
  }
  ~store_fixture() { caf::anon_send_exit(store, caf::exit_reason::user_shutdown); }

  store_reply op(store_op o) {
    caf::scoped_actor self{*sys};
    store_reply out;
    self->request<caf::message_priority::high>(store, 5s, std::move(o))
        .receive([&](const store_reply& r) { out = r; },
                 [&](caf::error& e) { FAIL(sys->render(e)); });
    return out;
  }
  jobs::job insert(const std::string& id) {
    store_op o;
    o.what = store_op::kind::insert;
    o.job.id = id;
    o.job.type = "scan";
    o.job.path = "/srv/" + id;  // one tree per job: a second scan of a tree is a duplicate
    o.job.created_at = jobs::now_rfc3339();
    REQUIRE(op(o).ok);
    return o.job;
  }
};

jobs::scan_batch big_batch(int n, int k) {
  jobs::scan_batch b;
  b.job_id = "none";
  b.scanned_at = jobs::now_rfc3339();
  for (int i = 0; i < n; ++i) {
    std::string dir = "/lib/" + std::to_string(k);
    b.upserts.push_back(
        {dir + "/" + std::to_string(i) + ".mkv", "mkv", "2020-09-13T12:26:40.123Z", i, i});
  }
  return b;
}

}  // namespace

TEST_CASE("the store answers a job transition before the scan batches queued ahead of it",
          "[store]") {
  store_fixture f;
  f.insert("job-1");
  std::mutex m;
  std::vector<std::string> order;  // replies in the order they arrive
  caf::scoped_actor self{*f.sys};
  // (A function actor takes at least one argument: CAF 0.17 dereferences a null tuple otherwise.)
  auto client = f.sys->spawn(
      [&](caf::event_based_actor* a, store_actor store) -> caf::behavior {
        auto note = [&, a](std::string what) {
          std::lock_guard<std::mutex> lock(m);
          order.push_back(std::move(what));
          if (order.size() == 21) a->quit();
        };
        std::vector<jobs::scan_batch> batches;  // built first: all are queued before the claim
        for (int k = 0; k < 20; ++k) batches.push_back(big_batch(1000, k));
        for (auto& b : batches)
          a->request(store, 30s, std::move(b)).then([=](const batch_ack& ack) {
            note(ack.ok ? "batch" : "batch failed");
          });
        // As job_queue sends a transition: send<high>, the answer comes back as a message.
        store_op claim;
        claim.what = store_op::kind::claim;
        claim.call_id = 7;
        a->send<caf::message_priority::high>(store, std::move(claim));
        return {
            [=](const store_reply& r) { note(r.job && r.call_id == 7 ? "claim" : "bad claim"); }};
      },
      f.store);
  self->wait_for(client);
  REQUIRE(order.size() == 21);
  auto claim_at = std::find(order.begin(), order.end(), "claim") - order.begin();
  INFO("the claim was answered after " << claim_at << " batches of 1000 rows");
  // CAF's mailbox takes up to 3 normal messages per round after the urgent ones: at most the
  // batch in progress and one round of 3 go first, not the 20 queued.
  CHECK(claim_at <= 4);
  CHECK(std::count(order.begin(), order.end(), "batch") == 20);
}

TEST_CASE("an insert or a claim that reaches the store after its deadline does nothing",
          "[store]") {
  store_fixture f;
  store_op late;
  late.what = store_op::kind::insert;
  late.job.id = "late";
  late.job.type = "scan";
  late.job.path = "/srv";
  late.job.created_at = jobs::now_rfc3339();
  late.not_after = std::chrono::steady_clock::now() - 1ms;
  auto r = f.op(late);
  CHECK(r.expired);
  CHECK_FALSE(r.changed);
  f.insert("waiting");
  store_op late_claim;
  late_claim.what = store_op::kind::claim;
  late_claim.not_after = std::chrono::steady_clock::now() - 1ms;
  auto c0 = f.op(late_claim);
  CHECK(c0.expired);
  CHECK_FALSE(c0.job);  // claimed nothing: "waiting" is still queued (checked below)
  store_op claim;
  claim.what = store_op::kind::claim;
  auto c1 = f.op(claim);
  REQUIRE(c1.job);
  CHECK(c1.job->id == "waiting");
  store_op cancel;  // cancel_queued answers with the job as stored: there is none
  cancel.what = store_op::kind::cancel_queued;
  cancel.id = "late";
  auto c = f.op(cancel);
  CHECK(c.ok);
  CHECK_FALSE(c.job);
}

TEST_CASE("requeue puts running jobs back with their summary and leaves finished ones alone",
          "[store]") {
  store_fixture f;
  f.insert("a");
  f.insert("b");
  store_op claim;
  claim.what = store_op::kind::claim;
  auto first = f.op(claim);
  auto second = f.op(claim);
  REQUIRE(first.job);
  REQUIRE(second.job);
  store_op finish;
  finish.what = store_op::kind::finish;
  finish.id = second.job->id;
  finish.status = "completed";
  REQUIRE(f.op(finish).changed);
  store_op requeue;
  requeue.what = store_op::kind::requeue;
  requeue.jobs = {*first.job, *second.job};
  requeue.jobs[0].summary_json = R"({"files_found":3})";
  auto r = f.op(requeue);
  REQUIRE(r.ok);
  CHECK(r.ids == std::vector<std::string>{first.job->id});

  auto reader = spawn_reader(*f.sys, f.path);
  caf::scoped_actor self{*f.sys};
  self->request(reader, 5s, init_atom::value)
      .receive([&](const init_result& ok) { REQUIRE(ok.ok); },
               [&](caf::error& e) { FAIL(f.sys->render(e)); });
  job_query get;
  get.what = job_query::op::get;
  get.id = first.job->id;
  self->request(reader, 5s, get)
      .receive(
          [&](const job_answer& a) {
            REQUIRE(a.jobs.size() == 1);
            CHECK(a.jobs[0].status == "queued");
            CHECK(a.jobs[0].attempts == 1);
            CHECK(a.jobs[0].summary_json == std::optional<std::string>(R"({"files_found":3})"));
          },
          [&](caf::error& e) { FAIL(f.sys->render(e)); });
  self->request(reader, 5s, count_atom::value)
      .receive(
          [&](const store::queue_store::status_counts& n) {
            CHECK(n.queued == 1);
            CHECK(n.completed == 1);
            CHECK(n.running == 0);
          },
          [&](caf::error& e) { FAIL(f.sys->render(e)); });
  caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
}

TEST_CASE("the path check answers for a directory, a file and nothing, then ends", "[store]") {
  test::temp_dir dir;
  dir.write("file", "x");
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto ask = [&](const std::string& p) {
    std::string why = "no answer";
    auto check = spawn_path_check(sys, p);
    self->request(check, 5s, check_atom::value)
        .receive([&](const std::string& w) { why = w; }, [&](caf::error&) {});
    self->wait_for(check);  // one-shot: it ends after answering
    return why;
  };
  CHECK(ask(dir.path()).empty());
  CHECK_THAT(ask(dir.file("file")), Catch::Contains("Not a directory"));
  CHECK_THAT(ask(dir.file("nope")), Catch::Contains("No such file"));
}

TEST_CASE("an insert for a tree with a queued or running scan returns that job, inserts nothing",
          "[store]") {
  store_fixture f;
  auto first = f.insert("first");
  store_op dup;
  dup.what = store_op::kind::insert;
  dup.job = first;
  dup.job.id = "second";
  auto r = f.op(dup);
  REQUIRE(r.ok);
  CHECK_FALSE(r.changed);
  REQUIRE(r.job);
  CHECK(r.job->id == "first");
  store_op claim;
  claim.what = store_op::kind::claim;
  REQUIRE(f.op(claim).job);  // running now: still a duplicate
  r = f.op(dup);
  CHECK_FALSE(r.changed);
  REQUIRE(r.job);
  CHECK(r.job->status == "running");
  store_op finish;
  finish.what = store_op::kind::finish;
  finish.id = "first";
  finish.status = "completed";
  REQUIRE(f.op(finish).changed);
  r = f.op(dup);  // finished: a new scan of the tree is welcome
  CHECK(r.changed);
  CHECK_FALSE(r.job);
}
