// job_store_test.cpp: claim atomicity, the state machine, recovery and the give-up rule, scan
// batches, and the schema migrations of the tables it owns.
#include "store/job_store.hpp"

#include <catch2/catch.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "db/library.hpp"
#include "db/schema.hpp"
#include "tests/support/temp_dir.hpp"

using namespace vpo;
using vpo::test::temp_dir;

namespace {

struct store_fixture {
  temp_dir dir;
  std::string path = dir.file("lib.db");
  db::connection conn;
  std::unique_ptr<store::job_store> store;
  store_fixture() {
    db::file_identity id;
    REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 5000, conn, id).ok());
    store = std::make_unique<store::job_store>(conn);
  }
  jobs::job add(int priority = 100, const std::string& created = jobs::now_rfc3339()) {
    jobs::job j;
    j.id = jobs::new_uuid();
    j.type = "scan";
    j.priority = priority;
    j.path = "/srv";
    j.created_at = created;
    REQUIRE(store->insert(j).ok());
    return j;
  }
  std::string status_of(const std::string& id) {
    std::optional<jobs::job> j;
    REQUIRE(store->get(id, j).ok());
    REQUIRE(j);
    return j->status;
  }
};

}  // namespace

TEST_CASE("claims follow priority (lower first), then age", "[job_store]") {
  store_fixture f;
  auto late_low = f.add(500, "2026-01-01T00:00:02.000Z");
  auto urgent = f.add(10, "2026-01-01T00:00:03.000Z");
  auto early_low = f.add(500, "2026-01-01T00:00:01.000Z");
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    std::optional<jobs::job> j;
    REQUIRE(f.store->claim_next(42, j).ok());
    if (j) order.push_back(j->id);
  }
  CHECK(order == std::vector<std::string>{urgent.id, early_low.id, late_low.id});
}

TEST_CASE("claiming counts an attempt and sets running with a start time", "[job_store]") {
  store_fixture f;
  auto j = f.add();
  std::optional<jobs::job> c;
  REQUIRE(f.store->claim_next(42, c).ok());
  REQUIRE(c);
  CHECK(c->id == j.id);
  CHECK(c->status == "running");
  CHECK(c->attempts == 1);
  CHECK(c->started_at.has_value());
}

TEST_CASE("concurrent claims on separate connections never hand out a job twice", "[job_store]") {
  store_fixture f;
  for (int i = 0; i < 200; ++i) f.add();
  std::mutex mutex;
  std::multiset<std::string> claimed;
  auto claimer = [&] {
    db::connection c;
    REQUIRE(c.open(f.path, db::open_mode::existing_only, 5000).ok());
    store::job_store store(c);
    for (;;) {
      std::optional<jobs::job> j;
      auto s = store.claim_next(1, j);
      if (!s.ok() || !j) break;
      std::lock_guard<std::mutex> lock(mutex);
      claimed.insert(j->id);
    }
  };
  std::thread a(claimer), b(claimer), c(claimer);
  a.join();
  b.join();
  c.join();
  CHECK(claimed.size() == 200);
  std::set<std::string> unique(claimed.begin(), claimed.end());
  CHECK(unique.size() == 200);
}

TEST_CASE("the state machine refuses illegal transitions", "[job_store]") {
  store_fixture f;
  auto j = f.add();
  bool changed = true;
  // queued: cannot finish or requeue; can cancel.
  REQUIRE(f.store->finish(j.id, "completed", std::nullopt, std::nullopt, changed).ok());
  CHECK_FALSE(changed);
  REQUIRE(f.store->requeue(j.id, std::nullopt, changed).ok());
  CHECK_FALSE(changed);
  REQUIRE(f.store->unclaim(j.id, changed).ok());
  CHECK_FALSE(changed);
  std::optional<jobs::job> now;
  REQUIRE(f.store->cancel_queued(j.id, changed, now).ok());
  CHECK(changed);
  REQUIRE(now);
  CHECK(now->status == "cancelled");
  CHECK(f.status_of(j.id) == "cancelled");
  // finished: nothing moves it again.
  REQUIRE(f.store->cancel_queued(j.id, changed, now).ok());
  CHECK_FALSE(changed);
  CHECK(now->status == "cancelled");
  REQUIRE(f.store->cancel_queued("no-such-job", changed, now).ok());
  CHECK_FALSE(now);
  std::optional<jobs::job> none;
  REQUIRE(f.store->claim_next(1, none).ok());
  CHECK_FALSE(none);

  auto k = f.add();
  std::optional<jobs::job> c;
  REQUIRE(f.store->claim_next(1, c).ok());
  REQUIRE(f.store->cancel_queued(k.id, changed, now).ok());
  CHECK_FALSE(changed);  // running: cancellation goes through the worker
  CHECK(now->status == "running");
  REQUIRE(f.store->requeue(k.id, std::string(R"({"files_found":7})"), changed).ok());
  CHECK(changed);
  CHECK(f.status_of(k.id) == "queued");
  REQUIRE(f.store->get(k.id, now).ok());
  CHECK(now->summary_json == std::optional<std::string>(R"({"files_found":7})"));  // kept
  REQUIRE(f.store->claim_next(1, c).ok());
  CHECK(c->attempts == 2);       // the requeue kept the first attempt
  CHECK_FALSE(c->summary_json);  // a new run starts a new summary
  REQUIRE(
      f.store->finish(k.id, "completed", std::nullopt, std::string(R"({"files_found":1})"), changed)
          .ok());
  CHECK(changed);
  std::optional<jobs::job> done;
  REQUIRE(f.store->get(k.id, done).ok());
  CHECK(done->status == "completed");
  CHECK(done->progress_percent == 100.0);
  CHECK(done->summary_json == std::optional<std::string>(R"({"files_found":1})"));
  CHECK(done->completed_at.has_value());
}

TEST_CASE("a claim given back (never started) takes back its attempt", "[job_store]") {
  store_fixture f;
  auto j = f.add();
  std::optional<jobs::job> c;
  REQUIRE(f.store->claim_next(1, c).ok());
  REQUIRE(c);
  CHECK(c->attempts == 1);
  bool changed = false;
  REQUIRE(f.store->unclaim(j.id, changed).ok());
  CHECK(changed);
  std::optional<jobs::job> now;
  REQUIRE(f.store->get(j.id, now).ok());
  CHECK(now->status == "queued");
  CHECK(now->attempts == 0);
  CHECK_FALSE(now->started_at);
}

TEST_CASE("a scan batch records files, marks missing ones and the progress in one transaction",
          "[job_store]") {
  store_fixture f;
  auto j = f.add();
  std::optional<jobs::job> c;
  REQUIRE(f.store->claim_next(1, c).ok());
  jobs::scan_batch b;
  b.job_id = j.id;
  b.progress = 42.5;
  b.summary_json = R"({"files_found":2})";
  b.scanned_at = jobs::now_rfc3339();
  b.upserts.push_back({"/srv/a.mkv", "mkv", "2020-09-13T12:26:40.123Z", 5, 1});
  b.upserts.push_back({"/srv/b.mkv", "mkv", "2020-09-13T12:26:40.123Z", 6, 2});
  long long marked = -1;
  REQUIRE(f.store->apply_scan_batch(b, marked).ok());
  CHECK(marked == 0);
  std::optional<jobs::job> now;
  REQUIRE(f.store->get(j.id, now).ok());
  CHECK(now->progress_percent == 42.5);
  CHECK(now->summary_json == std::optional<std::string>(R"({"files_found":2})"));  // so far
  jobs::scan_batch again;  // the same path again updates it (overlapping scans never conflict)
  again.job_id = j.id;
  again.scanned_at = b.scanned_at;
  again.upserts.push_back({"/srv/a.mkv", "mkv", "2021-01-01T00:00:00.000Z", 9, 3});
  again.missing_paths = {"/srv/b.mkv", "/srv/never-known.mkv"};
  REQUIRE(f.store->apply_scan_batch(again, marked).ok());
  CHECK(marked == 1);
  long long n = 0;
  REQUIRE(f.conn
              .query_int("SELECT count(*) FROM files WHERE path = '/srv/a.mkv' AND size = 9 "
                         "AND mtime_ns = 3 AND missing = 0",
                         n)
              .ok());
  CHECK(n == 1);
  REQUIRE(f.conn
              .query_int("SELECT count(*) FROM files WHERE path = '/srv/b.mkv' AND missing = 1 "
                         "AND missing_since IS NOT NULL",
                         n)
              .ok());
  CHECK(n == 1);
}

TEST_CASE("recovery requeues interrupted jobs and gives up after 3 attempts", "[job_store]") {
  store_fixture f;
  auto j = f.add();
  std::optional<jobs::job> c;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    REQUIRE(f.store->claim_next(99, c).ok());
    REQUIRE(c);
    CHECK(c->attempts == attempt);
    // The process dies here; the next start recovers.
    store::job_store::recovery rec;
    REQUIRE(f.store->recover(3, rec).ok());
    if (attempt < 3) {
      REQUIRE(rec.requeued.size() == 1);
      CHECK(rec.failed.empty());
      CHECK(f.status_of(j.id) == "queued");
    } else {
      CHECK(rec.requeued.empty());
      REQUIRE(rec.failed.size() == 1);
      std::optional<jobs::job> failed;
      REQUIRE(f.store->get(j.id, failed).ok());
      CHECK(failed->status == "failed");
      CHECK(failed->error == std::optional<std::string>("gave up after 3 interrupted attempts"));
    }
  }
  store::job_store::recovery nothing;
  REQUIRE(f.store->recover(3, nothing).ok());
  CHECK(nothing.requeued.empty());
  CHECK(nothing.failed.empty());
}

TEST_CASE("counts see what another connection wrote after the last count", "[job_store]") {
  store_fixture writer;
  db::connection conn;
  db::file_identity id;
  REQUIRE(db::open_library(writer.path, db::open_mode::existing_only, 5000, conn, id).ok());
  store::job_store reader(conn);  // the API's reader: its own connection
  store::queue_store::status_counts n;
  REQUIRE(reader.counts(n).ok());
  CHECK(n.queued == 0);
  CHECK(n.library_files == 0);
  writer.add();
  jobs::scan_batch b;
  b.job_id = "j";
  b.scanned_at = "2026-01-01T00:00:00.000Z";
  b.upserts.push_back({"/srv/a.mkv", "mkv", "2026-01-01T00:00:00.000Z", 1, 1});
  long long marked = 0;
  REQUIRE(writer.store->apply_scan_batch(b, marked).ok());
  // A statement left on its row would keep the first count's snapshot: this count must not.
  REQUIRE(reader.counts(n).ok());
  CHECK(n.queued == 1);
  CHECK(n.library_files == 1);
  CHECK(n.library_missing == 0);
}

TEST_CASE("list filters by status, limits, and counts the whole match", "[job_store]") {
  store_fixture f;
  for (int i = 0; i < 5; ++i) f.add();
  std::optional<jobs::job> c;
  REQUIRE(f.store->claim_next(1, c).ok());
  std::vector<jobs::job> out;
  long long total = 0;
  REQUIRE(f.store->list({"queued", "", 2, 0, ""}, out, total).ok());
  CHECK(out.size() == 2);
  CHECK(total == 4);
  REQUIRE(f.store->list({"", "", 100, 0, ""}, out, total).ok());
  CHECK(out.size() == 5);
  CHECK(total == 5);
  // Pages: newest first, `offset` skips, `total` counts the whole match.
  std::vector<jobs::job> page1, page2, all;
  REQUIRE(f.store->list({"", "scan", 3, 0, ""}, page1, total).ok());
  REQUIRE(f.store->list({"", "scan", 3, 3, ""}, page2, total).ok());
  REQUIRE(f.store->list({"", "", 100, 0, ""}, all, total).ok());
  REQUIRE(page1.size() == 3);
  REQUIRE(page2.size() == 2);
  CHECK(total == 5);
  for (std::size_t i = 0; i < 5; ++i) CHECK((i < 3 ? page1[i] : page2[i - 3]).id == all[i].id);
  // Keyset paging: the jobs older than the previous page's last, the same pages as offsets.
  std::vector<jobs::job> keyset;
  REQUIRE(f.store->list({"", "scan", 3, 0, page1.back().id}, keyset, total).ok());
  REQUIRE(keyset.size() == 2);
  CHECK(keyset[0].id == page2[0].id);
  CHECK(keyset[1].id == page2[1].id);
  CHECK(total == 5);  // still the whole match
  REQUIRE(f.store->list({"", "", 100, 0, all.back().id}, keyset, total).ok());
  CHECK(keyset.empty());
  REQUIRE(f.store->list({"", "transcode", 100, 0, ""}, out, total).ok());
  CHECK(out.empty());
  CHECK(total == 0);
  store::job_store::status_counts n;
  REQUIRE(f.store->counts(n).ok());
  CHECK(n.queued == 4);
  CHECK(n.running == 1);
  CHECK(n.completed == 0);
}

TEST_CASE(
    "schema v2 files (text mtime) migrate in place to v4: modified_at, mtime_ns, keyed by path",
    "[db]") {
  temp_dir dir;
  std::string path = dir.file("lib.db");
  {
    db::connection c;
    REQUIRE(c.open(path, db::open_mode::create_if_missing, 1000).ok());
    REQUIRE(c.exec("CREATE TABLE schema_version (version INTEGER NOT NULL);"
                   "INSERT INTO schema_version VALUES (1);")
                .ok());
  }
  {  // build a real v2 database: the v1 -> v2 migration only
    db::connection c;
    REQUIRE(c.open(path, db::open_mode::existing_only, 1000).ok());
    REQUIRE(c.exec("CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size "
                   "INTEGER NOT NULL, mtime TEXT NOT NULL, extension TEXT NOT NULL, scanned_at "
                   "TEXT NOT NULL, missing INTEGER NOT NULL DEFAULT 0, missing_since TEXT, "
                   "last_scan_job TEXT);"
                   "INSERT INTO files (path, size, mtime, extension, scanned_at) VALUES "
                   "('/srv/m/a.mkv', 5, '1600000000.123456789', 'mkv', 'x'), "
                   "('/b.mkv', 6, '1600000000.000000000', 'mkv', 'x');"
                   "UPDATE schema_version SET version = 2;")
                .ok());
  }
  db::connection c;
  db::file_identity id;
  REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 1000, c, id).ok());
  long long n = 0;
  REQUIRE(c.query_int("SELECT max(version) FROM schema_version", n).ok());
  CHECK(n == db::current_schema_version());
  REQUIRE(c.query_int("SELECT count(*) FROM files WHERE path = '/srv/m/a.mkv' "
                      "AND mtime_ns = 1600000000123456789 AND modified_at = "
                      "'2020-09-13T12:26:40.123Z'",
                      n)
              .ok());
  CHECK(n == 1);
  REQUIRE(c.query_int("SELECT count(*) FROM files WHERE path = '/b.mkv' AND "
                      "modified_at = '2020-09-13T12:26:40.000Z'",
                      n)
              .ok());
  CHECK(n == 1);
  REQUIRE(c.query_int("SELECT count(*) FROM pragma_table_info('files') WHERE name IN ('mtime', "
                      "'last_scan_job', 'dir')",
                      n)
              .ok());
  CHECK(n == 0);
  // v4: one B-tree keyed by path (no rowid, no second index), the rows kept.
  REQUIRE(c.query_int("SELECT count(*) FROM sqlite_master WHERE tbl_name = 'files' AND sql LIKE "
                      "'%WITHOUT ROWID%'",
                      n)
              .ok());
  CHECK(n == 1);
  REQUIRE(c.query_int("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                      "'files' AND sql IS NOT NULL",
                      n)
              .ok());
  CHECK(n == 0);
  REQUIRE(c.query_int("SELECT count(*) FROM files", n).ok());
  CHECK(n == 2);
}

TEST_CASE("schema v1 databases migrate to v2, keeping an existing VPO jobs table", "[db]") {
  temp_dir dir;
  std::string path = dir.file("lib.db");
  {
    db::connection c;
    REQUIRE(c.open(path, db::open_mode::create_if_missing, 1000).ok());
    REQUIRE(c.exec("CREATE TABLE schema_version (version INTEGER NOT NULL);"
                   "INSERT INTO schema_version VALUES (1);"
                   "CREATE TABLE jobs (id TEXT PRIMARY KEY, job_type TEXT NOT NULL, status TEXT "
                   "NOT NULL, priority INTEGER NOT NULL DEFAULT 100, file_path TEXT, "
                   "progress_percent REAL NOT NULL DEFAULT 0, created_at TEXT NOT NULL, "
                   "started_at TEXT, completed_at TEXT, error_message TEXT);"
                   "INSERT INTO jobs (id, job_type, status, created_at) "
                   "VALUES ('old', 'transcode', 'completed', '2025-01-01T00:00:00.000Z');")
                .ok());
  }
  db::connection c;
  db::file_identity id;
  REQUIRE(db::open_library(path, db::open_mode::create_if_missing, 1000, c, id).ok());
  long long version = 0, files = 0;
  REQUIRE(c.query_int("SELECT max(version) FROM schema_version", version).ok());
  CHECK(version == db::current_schema_version());
  REQUIRE(c.query_int("SELECT count(*) FROM sqlite_master WHERE name = 'files'", files).ok());
  CHECK(files == 1);
  store::job_store store(c);
  std::optional<jobs::job> old;
  REQUIRE(store.get("old", old).ok());
  REQUIRE(old);
  CHECK(old->attempts == 0);
  CHECK(old->type == "transcode");
}

TEST_CASE("a jobs table the code does not match is reported, never run", "[job_store]") {
  store_fixture f;
  CHECK(f.store->prepared().ok());
  f.store.reset();
  REQUIRE(f.conn.exec("ALTER TABLE jobs RENAME COLUMN job_type TO kind").ok());
  store::job_store mismatched(f.conn);
  auto p = mismatched.prepared();
  CHECK_FALSE(p.ok());
  CHECK_THAT(p.message, Catch::Contains("job_type"));  // what SQLite says is missing
  CHECK_THAT(p.message, Catch::Contains("schema"));
}

TEST_CASE("retry: failed or cancelled back to queued, attempts kept, never beside a waiting twin",
          "[job_store]") {
  store_fixture f;
  auto a = f.add();
  std::optional<jobs::job> claimed, now;
  REQUIRE(f.store->claim_next(1, claimed).ok());
  bool changed = false;
  REQUIRE(f.store->finish(a.id, "failed", std::string("boom"), std::nullopt, changed).ok());
  REQUIRE(f.store->retry(a.id, changed, now).ok());
  CHECK(changed);
  REQUIRE(now);
  CHECK(now->status == "queued");
  CHECK(now->attempts == 1);
  CHECK_FALSE(now->error);
  CHECK_FALSE(now->completed_at);
  // Queued already: nothing to do.
  REQUIRE(f.store->retry(a.id, changed, now).ok());
  CHECK_FALSE(changed);
  // A cancelled job whose path has a queued twin stays cancelled.
  auto b = f.add();  // same path "/srv"; a is queued
  REQUIRE(f.store->cancel_queued(b.id, changed, now).ok());
  REQUIRE(f.store->retry(b.id, changed, now).ok());
  CHECK_FALSE(changed);
  CHECK(now->status == "cancelled");
  std::optional<jobs::job> twin;
  REQUIRE(f.store->find_active("scan", "/srv", twin).ok());
  REQUIRE(twin);
  CHECK(twin->id == a.id);
  REQUIRE(f.store->retry("no-such-id", changed, now).ok());
  CHECK_FALSE(now);
}

TEST_CASE("purge_finished deletes old finished jobs in bounded steps", "[job_store]") {
  store_fixture f;
  bool changed = false;
  std::optional<jobs::job> now;
  for (int i = 0; i < 7; ++i) {
    auto j = f.add(100, "2020-01-01T00:00:0" + std::to_string(i) + ".000Z");
    REQUIRE(f.store->cancel_queued(j.id, changed, now).ok());  // completed_at: now
  }
  f.add(100, "2020-01-01T00:00:00.000Z");  // queued: never purged
  long long deleted = 0;
  // Cut-off before now: their completed_at (now) is younger, nothing goes.
  REQUIRE(f.store->purge_finished("2021-01-01T00:00:00.000Z", 5, deleted).ok());
  CHECK(deleted == 0);
  REQUIRE(f.store->purge_finished("2999-01-01T00:00:00.000Z", 5, deleted).ok());
  CHECK(deleted == 5);
  REQUIRE(f.store->purge_finished("2999-01-01T00:00:00.000Z", 5, deleted).ok());
  CHECK(deleted == 2);
  std::vector<jobs::job> left;
  long long total = 0;
  REQUIRE(f.store->list({}, left, total).ok());
  CHECK(total == 1);
  CHECK(left[0].status == "queued");
}

TEST_CASE("files and library read the files table by path, filter and page", "[job_store]") {
  store_fixture f;
  jobs::scan_batch b;
  b.job_id = f.add().id;
  b.scanned_at = "2026-01-01T00:00:00.000Z";
  for (std::string p : {"/m/a/1.mkv", "/m/a/sub/2.mp4", "/m/ab/3.mkv", "/n/4.avi"})
    b.upserts.push_back({p, p.substr(p.rfind('.') + 1), "2025-01-01T00:00:00.000Z", 100, 1});
  b.missing_paths = {"/n/4.avi"};
  long long marked = 0;
  REQUIRE(f.store->apply_scan_batch(b, marked).ok());
  std::vector<jobs::file_row> rows;
  long long total = 0;
  REQUIRE(f.store->files({std::nullopt, "/m/a", 100, 0, std::nullopt}, rows, total).ok());
  CHECK(total == 2);  // not /m/ab
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].path == "/m/a/1.mkv");
  CHECK(rows[1].path == "/m/a/sub/2.mp4");
  REQUIRE(f.store->files({true, "", 100, 0, std::nullopt}, rows, total).ok());
  CHECK(total == 1);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].missing);
  CHECK(rows[0].missing_since);
  REQUIRE(f.store->files({false, "", 1, 1, std::nullopt}, rows, total).ok());
  CHECK(total == 3);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].path == "/m/a/sub/2.mp4");
  // Keyset paging: the paths after the previous page's last.
  REQUIRE(f.store->files({false, "", 1, 0, std::string("/m/a/1.mkv")}, rows, total).ok());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].path == "/m/a/sub/2.mp4");
  CHECK(total == 3);
  REQUIRE(f.store->files({std::nullopt, "/m", 100, 0, std::string("/m/a/sub/2.mp4")}, rows, total)
              .ok());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].path == "/m/ab/3.mkv");
  jobs::library_totals lib;
  REQUIRE(f.store->library(lib).ok());
  CHECK(lib.files == 4);
  CHECK(lib.missing == 1);
  CHECK(lib.bytes == 300);
  REQUIRE(lib.by_extension.size() == 3);
  CHECK(lib.by_extension[0] == std::pair<std::string, long long>{"mkv", 2});
  CHECK(lib.last_scan_at == std::optional<std::string>("2026-01-01T00:00:00.000Z"));
}
