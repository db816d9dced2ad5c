// scan_test.cpp: the walker: video files only, hidden and symlinked entries skipped, idempotent
// re-scans, updates, vanished files and folders marked missing, folders walked once, unreadable
// folders never marked missing, bounded steps, progress. Batches are applied by job_store.
#include "jobs/scan.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "db/library.hpp"
#include "store/job_store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace vpo;
using vpo::test::temp_dir;
namespace fs = std::filesystem;

namespace {

struct scan_fixture {
  temp_dir dir;
  std::string tree = dir.file("tree");
  db::connection conn;
  int scans = 0;
  scan_fixture() {
    db::file_identity id;
    REQUIRE(db::open_library(dir.file("lib.db"), db::open_mode::create_if_missing, 5000, conn, id)
                .ok());
    fs::create_directories(tree);
  }
  // Runs a whole scan in small steps and returns its summary.
  jobs::scan_summary scan(const std::string& root, std::size_t entries_per_step = 3,
                          std::vector<double>* progress = nullptr) {
    jobs::scan_walk w(conn, root, "job-" + std::to_string(++scans), logging::logger("test"));
    REQUIRE(w.start().ok());
    store::job_store store(conn);
    bool done = false;
    int steps = 0;
    double last = 0;
    while (!done) {
      jobs::scan_batch b;
      REQUIRE(w.step(std::chrono::milliseconds(50), entries_per_step, 2, b, done).ok());
      CHECK(b.upserts.size() + b.missing_paths.size() <= 2);
      long long marked = 0;
      REQUIRE(store.apply_scan_batch(b, marked).ok());
      w.add_missing(marked);
      CHECK(b.progress >= last);
      last = b.progress;
      if (progress) progress->push_back(b.progress);
      REQUIRE(++steps < 100000);
    }
    CHECK(w.progress() == 100.0);
    return w.summary();
  }
  long long count(const std::string& where) {
    long long n = 0;
    REQUIRE(conn.query_int("SELECT count(*) FROM files WHERE " + where, n).ok());
    return n;
  }
};

}  // namespace

TEST_CASE("video extensions are recognised in any case", "[scan]") {
  for (const char* yes : {"a.mkv", "b.MP4", "c.Avi", "d.webm", "e.m4v", "f.MOV", "x.y.mkv"})
    CHECK(jobs::is_video_file(yes));
  for (const char* no : {"a.txt", "mkv", ".mkv", "a.mkv.part", "a.mp3", "a"})
    CHECK_FALSE(jobs::is_video_file(no));
}

TEST_CASE("a scan records video files with size and mtime, skipping hidden entries and symlinks",
          "[scan]") {
  scan_fixture f;
  f.dir.write("tree/a.mkv", "12345");
  f.dir.write("tree/sub/deeper/b.MOV", "");
  f.dir.write("tree/sub/notes.txt", "x");
  f.dir.write("tree/.hidden/c.mkv", "");
  f.dir.write("tree/.d.mp4", "");
  f.dir.write("outside/e.mkv", "");
  fs::create_directory_symlink(f.dir.file("outside"), f.tree + "/link");
  fs::create_symlink(f.dir.file("outside/e.mkv"), f.tree + "/f.mkv");
  auto s = f.scan(f.tree);
  CHECK(s.files_found == 2);
  CHECK(s.files_new == 2);
  CHECK(s.files_updated == 0);
  CHECK(s.errors == 0);
  CHECK(f.count("path = '" + f.tree + "/a.mkv' AND size = 5 AND extension = 'mkv'") == 1);
  CHECK(f.count("path = '" + f.tree + "/sub/deeper/b.MOV' AND extension = 'mov'") == 1);
  CHECK(f.count("1") == 2);
}

TEST_CASE("re-scanning is idempotent, changes count as updates, vanished files turn missing",
          "[scan]") {
  scan_fixture f;
  for (int i = 0; i < 10; ++i)
    f.dir.write("tree/d" + std::to_string(i % 3) + "/" + std::to_string(i) + ".mkv", "");
  auto first = f.scan(f.tree);
  CHECK(first.files_new == 10);
  auto again = f.scan(f.tree);
  CHECK(again.files_found == 10);
  CHECK(again.files_new == 0);
  CHECK(again.files_updated == 0);
  CHECK(again.files_missing == 0);

  f.dir.write("tree/d0/0.mkv", "now bigger");
  fs::remove(f.tree + "/d1/1.mkv");
  auto third = f.scan(f.tree);
  CHECK(third.files_found == 9);
  CHECK(third.files_updated == 1);
  CHECK(third.files_missing == 1);
  CHECK(f.count("missing = 1 AND missing_since IS NOT NULL") == 1);
  CHECK(f.count("1") == 10);  // the vanished file keeps its row

  f.dir.write("tree/d1/1.mkv", "");
  auto fourth = f.scan(f.tree);
  CHECK(fourth.files_updated == 1);  // back from missing
  CHECK(f.count("missing = 1") == 0);
}

TEST_CASE("missing files are only marked inside the scanned tree", "[scan]") {
  scan_fixture f;
  f.dir.write("tree/a/1.mkv", "");
  f.dir.write("tree/ab/2.mkv", "");  // a sibling whose name extends "a"
  f.scan(f.tree);
  fs::remove(f.tree + "/ab/2.mkv");
  auto s = f.scan(f.tree + "/a");
  CHECK(s.files_missing == 0);
  CHECK(f.count("missing = 1") == 0);
}

TEST_CASE("a step stops at its entry budget and its change budget, and writes nothing itself",
          "[scan]") {
  scan_fixture f;
  for (int i = 0; i < 50; ++i) f.dir.write("tree/" + std::to_string(i) + ".mkv", "");
  jobs::scan_walk w(f.conn, f.tree, "job-x", logging::logger("test"));
  REQUIRE(w.start().ok());
  bool done = false;
  jobs::scan_batch b;
  REQUIRE(w.step(std::chrono::milliseconds(1000), 10, 1000, b, done).ok());
  CHECK_FALSE(done);
  CHECK(w.summary().files_found <= 10);
  CHECK(b.upserts.size() == static_cast<std::size_t>(w.summary().files_found));
  CHECK(f.count("1") == 0);  // the store writes, not the walk
  jobs::scan_batch c;
  REQUIRE(w.step(std::chrono::milliseconds(1000), 100000, 7, c, done).ok());
  CHECK(c.upserts.size() == 7);
  CHECK_FALSE(done);
}

TEST_CASE("modified_at is RFC 3339 UTC and the exact nanoseconds are kept", "[scan]") {
  scan_fixture f;
  std::string file = f.dir.write("tree/a.mkv", "x");
  struct timespec times[2] = {{1600000000, 123456789}, {1600000000, 123456789}};
  REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
  f.scan(f.tree);
  CHECK(f.count("modified_at = '2020-09-13T12:26:40.123Z' AND mtime_ns = 1600000000123456789 AND "
                "path = '" +
                f.tree + "/a.mkv'") == 1);
  times[1].tv_nsec = 123456790;  // one nanosecond later: a change
  REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
  CHECK(f.scan(f.tree).files_updated == 1);
  CHECK(f.scan(f.tree).files_updated == 0);
}

TEST_CASE("a folder that vanished marks its files missing, also below it", "[scan]") {
  scan_fixture f;
  for (int i = 0; i < 30; ++i) f.dir.write("tree/gone/sub/" + std::to_string(i) + ".mkv", "");
  f.dir.write("tree/gone/top.mkv", "");
  f.dir.write("tree/kept/k.mkv", "");
  REQUIRE(f.scan(f.tree).files_new == 32);
  fs::remove_all(f.tree + "/gone");
  auto s = f.scan(f.tree);
  CHECK(s.files_missing == 31);
  CHECK(f.count("missing = 1") == 31);
  CHECK(f.count("missing = 0") == 1);
  CHECK(f.scan(f.tree).files_missing == 0);  // already missing: not counted again
}

TEST_CASE("a folder reachable twice (bind mount, loop) is walked once", "[scan]") {
  scan_fixture f;
  f.dir.write("tree/real/a.mkv", "");
  // A hard link to a directory is impossible; a bind mount needs privileges. The root given as
  // a symlink and the same folder reached again below it shows the (device, inode) check.
  fs::create_directory_symlink(f.tree, f.dir.file("alias"));
  auto s = f.scan(f.dir.file("alias"));
  CHECK(s.files_found == 1);
  CHECK(s.folders == 2);
  std::string loop = f.tree + "/real/loop";
  if (::geteuid() == 0 && std::system(("mkdir -p '" + loop + "' && mount --bind '" + f.tree +
                                       "' '" + loop + "' 2>/dev/null")
                                          .c_str()) == 0) {
    struct unmount {  // also when a check throws: the temp folder must not contain a loop
      std::string at;
      ~unmount() { (void)std::system(("umount '" + at + "'").c_str()); }
    } guard{loop};
    auto looped = f.scan(f.tree);
    CHECK(looped.files_found == 1);  // not the same file again and again
    CHECK(looped.folders == 2);
  } else {
    WARN("the mount loop case needs root (mount --bind): not exercised here");
  }
}

TEST_CASE("progress is monotonic and based on the files the library knew", "[scan]") {
  scan_fixture f;
  for (int i = 0; i < 200; ++i)
    f.dir.write("tree/d" + std::to_string(i % 4) + "/" + std::to_string(i) + ".mkv", "");
  std::vector<double> first;
  f.scan(f.tree, 20, &first);
  REQUIRE(first.size() > 5);
  CHECK(first[first.size() / 2] < 99.0);
  std::vector<double> again;
  f.scan(f.tree, 20, &again);
  // Known tree: the progress follows the files seen (20 entries a step of 200 files).
  REQUIRE(again.size() > 8);
  CHECK(again[1] < 30.0);
  CHECK(again[again.size() / 2] > 20.0);
  CHECK(again[again.size() / 2] < 80.0);
}

TEST_CASE("a root that is not a readable directory fails the start", "[scan]") {
  scan_fixture f;
  jobs::scan_walk w(f.conn, f.dir.file("nope"), "job-x", logging::logger("test"));
  auto s = w.start();
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message, Catch::Contains("No such file"));
  CHECK(s.is(vpo::errc::not_found));
}

TEST_CASE("unreadable folders are counted and skipped, and nothing below them turns missing",
          "[scan]") {
  scan_fixture f;
  f.dir.write("tree/ok/a.mkv", "");
  f.dir.write("tree/closed/b.mkv", "");
  f.dir.write("tree/closed/deeper/c.mkv", "");
  REQUIRE(f.scan(f.tree).files_new == 3);  // known before the folder became unreadable
  ::chmod(f.tree.c_str(), 0755);
  ::chmod(f.dir.path().c_str(), 0777);
  for (const char* suffix : {"", "-wal", "-shm"})
    ::chmod(f.dir.file(std::string("lib.db") + suffix).c_str(), 0666);
  ::chmod((f.tree + "/ok").c_str(), 0755);
  ::chmod((f.tree + "/closed").c_str(), 0700);
  if (::geteuid() == 0) {
    // Root reads everything: walk as nobody in a child process (the database is writable).
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(3);
      db::connection c;
      db::file_identity id;
      if (!db::open_library(f.dir.file("lib.db"), db::open_mode::existing_only, 5000, c, id).ok())
        _exit(4);
      int code = 7;
      {  // the walk (and its lister threads) ends before the child does
        jobs::scan_walk w(c, f.tree, "job-nobody", logging::logger("test"));
        store::job_store store(c);
        if (!w.start().ok()) _exit(5);
        bool done = false;
        while (!done) {
          jobs::scan_batch b;
          long long marked = 0;
          if (!w.step(std::chrono::milliseconds(50), 100, 100, b, done).ok()) _exit(6);
          if (!store.apply_scan_batch(b, marked).ok()) _exit(8);
          w.add_missing(marked);
        }
        const auto& sum = w.summary();
        if (sum.errors == 1 && sum.files_found == 1 && sum.files_missing == 0) code = 0;
      }
      _exit(code);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  } else {
    ::chmod((f.tree + "/closed").c_str(), 0);
    auto s = f.scan(f.tree);
    CHECK(s.errors == 1);
    CHECK(s.files_found == 1);
    CHECK(s.files_missing == 0);
  }
  CHECK(f.count("missing = 1") == 0);
}

TEST_CASE("a folder with more known files than one step reads is compared in full", "[scan]") {
  scan_fixture f;
  const int n = 33000;  // more than the 8 chunks of 4,096 known rows one listing chunk waits for
  fs::create_directories(f.tree + "/big");
  for (int i = 0; i < n; ++i) {
    int fd =
        ::open((f.tree + "/big/" + std::to_string(i) + ".mkv").c_str(), O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    ::close(fd);
  }
  auto first = f.scan(f.tree, 100000);
  CHECK(first.files_new == n);
  auto again = f.scan(f.tree, 100000);
  CHECK(again.files_found == n);
  CHECK(again.files_new == 0);
  CHECK(again.files_updated == 0);
  CHECK(again.files_missing == 0);
  for (int i = 0; i < n; i += 1000) fs::remove(f.tree + "/big/" + std::to_string(i) + ".mkv");
  auto third = f.scan(f.tree, 100000);
  CHECK(third.files_missing == 33);  // 0, 1000, ..., 32000
  CHECK(third.files_new == 0);
  CHECK(f.count("missing = 1") == 33);
}

TEST_CASE("a scan that runs out of file descriptors marks nothing missing and counts the error",
          "[scan]") {
  scan_fixture f;
  for (int i = 0; i < 20; ++i)
    f.dir.write("tree/d" + std::to_string(i % 4) + "/" + std::to_string(i) + ".mkv", "");
  REQUIRE(f.scan(f.tree).files_new == 20);
  // Every descriptor taken (as by a burst of connections): no folder can be opened for a moment.
  // A low soft limit for this test keeps the number of descriptors to take small.
  struct rlimit old {};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
  struct rlimit low = old;
  low.rlim_cur = std::min<rlim_t>(old.rlim_cur, 512);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::vector<int> hog;
  jobs::scan_summary s;
  {
    struct release {
      std::vector<int>& fds;
      struct rlimit limit;
      ~release() {
        for (int fd : fds) ::close(fd);
        ::setrlimit(RLIMIT_NOFILE, &limit);
      }
    } guard{hog, old};
    int base = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // stdin may be closed under CTest
    REQUIRE(base >= 0);
    hog.push_back(base);
    for (int fd; (fd = ::fcntl(base, F_DUPFD_CLOEXEC, 0)) >= 0;) hog.push_back(fd);
    REQUIRE(errno == EMFILE);
    s = f.scan(f.tree);
  }
  CHECK(s.errors == 1);  // the root could not be opened: the whole tree is skipped...
  CHECK(s.files_found == 0);
  CHECK(s.files_missing == 0);  // ...and nothing in it is taken for gone
  CHECK(f.count("missing = 1") == 0);
  CHECK(f.scan(f.tree).files_found == 20);  // once descriptors are back, all is there
}

TEST_CASE("names that sort between a folder's files and its subfolders' keep their places",
          "[scan]") {
  // A folder's rows are a range of paths with each subfolder's range skipped: "a/..." sorts
  // between "a b.mkv" ('\x20'), "a.mkv" ('.') and "a0.mkv" ('0'), and "é" beyond ASCII.
  scan_fixture f;
  for (const char* p : {"tree/a/x.mkv", "tree/a/deep/y.mkv", "tree/a b.mkv", "tree/a.mkv",
                        "tree/a0.mkv", "tree/a b/z.mkv", "tree/a.b/w.mkv", "tree/a0/v.mkv",
                        "tree/\xc3\xa9t\xc3\xa9/u.mkv", "tree/z.mkv"})
    f.dir.write(p, "");
  REQUIRE(f.scan(f.tree).files_new == 10);
  auto again = f.scan(f.tree);
  CHECK(again.files_found == 10);
  CHECK(again.files_new == 0);
  CHECK(again.files_missing == 0);
  fs::remove_all(f.tree + "/a");  // only a's subtree turns missing, not its neighbours
  auto gone = f.scan(f.tree);
  CHECK(gone.files_missing == 2);
  CHECK(f.count("missing = 1 AND path GLOB '" + f.tree + "/a/*'") == 2);
  CHECK(f.count("missing = 1") == 2);
}

TEST_CASE("a folder replaced by a file of the same name: the folder's files turn missing",
          "[scan]") {
  scan_fixture f;
  f.dir.write("tree/s/one.mkv", "");
  f.dir.write("tree/s/two/three.mkv", "");
  REQUIRE(f.scan(f.tree).files_new == 2);
  fs::remove_all(f.tree + "/s");
  f.dir.write("tree/s", "now a file");
  auto s = f.scan(f.tree);
  CHECK(s.files_missing == 2);
  CHECK(f.count("missing = 1") == 2);
}

TEST_CASE("a folder with many subfolders among its files is compared in full", "[scan]") {
  // More subfolders than one read of known rows: each costs a jump in the library's range.
  scan_fixture f;
  for (int i = 0; i < 5000; ++i) {
    fs::create_directories(f.tree + "/d" + std::to_string(i));
    int fd =
        ::open((f.tree + "/d" + std::to_string(i) + "/e.mkv").c_str(), O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    ::close(fd);
    fd = ::open((f.tree + "/d" + std::to_string(i) + ".mkv").c_str(), O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    ::close(fd);
  }
  REQUIRE(f.scan(f.tree, 100000).files_new == 10000);
  auto again = f.scan(f.tree, 100000);
  CHECK(again.files_new == 0);
  CHECK(again.files_missing == 0);
  CHECK(again.folders == 5001);
  fs::remove_all(f.tree + "/d4999");
  fs::remove(f.tree + "/d0.mkv");
  auto third = f.scan(f.tree, 100000);
  CHECK(third.files_missing == 2);
  CHECK(f.count("missing = 1") == 2);
}

TEST_CASE("a walk dropped half way stops its listers at once", "[scan]") {
  scan_fixture f;
  for (int d = 0; d < 50; ++d)
    for (int i = 0; i < 200; ++i) {
      fs::create_directories(f.tree + "/d" + std::to_string(d));
      int fd =
          ::open((f.tree + "/d" + std::to_string(d) + "/" + std::to_string(i) + ".mkv").c_str(),
                 O_CREAT | O_WRONLY, 0644);
      REQUIRE(fd >= 0);
      ::close(fd);
    }
  for (int round = 0; round < 20; ++round) {  // listers blocked on a full buffer, or still listing
    auto w = std::make_unique<jobs::scan_walk>(f.conn, f.tree, "job-drop", logging::logger("test"));
    REQUIRE(w->start().ok());
    jobs::scan_batch b;
    bool done = false;
    REQUIRE(w->step(std::chrono::milliseconds(5), 100, 10, b, done).ok());
    CHECK_FALSE(done);
    auto t0 = std::chrono::steady_clock::now();
    w.reset();  // joins the listers
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  }
}
