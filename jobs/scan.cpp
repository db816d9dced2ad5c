// scan.cpp: iterative directory walk (explicit stack of open DIR*), batched upserts of files.
#include "jobs/scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "db/statement.hpp"
#include "jobs/job.hpp"

namespace vpo::jobs {
namespace {

std::string lower_extension(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return {};
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

std::string mtime_text(const struct stat& st) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld.%09ld", static_cast<long long>(st.st_mtim.tv_sec),
                st.st_mtim.tv_nsec);
  return buf;
}

struct open_dir {
  DIR* dir;
  std::string path;
};

}  // namespace

bool is_video_file(const std::string& name) {
  static const char* known[] = {"mkv", "mp4", "avi", "webm", "m4v", "mov"};
  std::string ext = lower_extension(name);
  return std::any_of(std::begin(known), std::end(known), [&](const char* k) { return ext == k; });
}

std::string scan_summary::to_json() const {
  return "{\"files_found\":" + std::to_string(files_found) +
         ",\"files_new\":" + std::to_string(files_new) +
         ",\"files_updated\":" + std::to_string(files_updated) +
         ",\"files_missing\":" + std::to_string(files_missing) +
         ",\"errors\":" + std::to_string(errors) + "}";
}

struct scan_walk::impl {
  impl(db::connection& c, std::string r, std::string id, logging::logger l)
      : db(c), root(std::move(r)), job_id(std::move(id)), log(std::move(l)) {
    while (root.size() > 1 && root.back() == '/') root.pop_back();
  }
  ~impl() {
    for (auto& d : stack) closedir(d.dir);
  }

  db::status prepare() {
    find = db::statement(db, "SELECT size, mtime, missing FROM files WHERE path = ?");
    insert = db::statement(db,
                           "INSERT INTO files (path, size, mtime, extension, scanned_at, missing, "
                           "last_scan_job) VALUES (?, ?, ?, ?, ?, 0, ?)");
    update = db::statement(db,
                           "UPDATE files SET size = ?, mtime = ?, scanned_at = ?, missing = 0, "
                           "missing_since = NULL, last_scan_job = ? WHERE path = ?");
    for (auto* s : {&find, &insert, &update})
      if (!s->error().empty()) return {SQLITE_ERROR, 0, s->error()};
    return {};
  }

  bool push(const std::string& path) {
    DIR* d = opendir(path.c_str());
    if (!d) {
      ++summary.errors;
      log.warn(std::string("cannot read folder, skipped: ") + std::strerror(errno),
               {{"job_id", job_id}, {"job_type", "scan"}, {"file_path", path}});
      return false;
    }
    stack.push_back({d, path});
    ++dirs_seen;
    return true;
  }

  db::status record(const std::string& path, const struct stat& st, const std::string& ext) {
    ++summary.files_found;
    std::string mtime = mtime_text(st);
    auto size = static_cast<long long>(st.st_size);
    find.reset().bind(1, path);
    int rc = find.step();
    if (rc == SQLITE_DONE) {
      ++summary.files_new;
      return insert.reset()
          .bind(1, path)
          .bind(2, size)
          .bind(3, mtime)
          .bind(4, ext)
          .bind(5, scan_time)
          .bind(6, job_id)
          .run("cannot record file");
    }
    if (rc != SQLITE_ROW) return find.failure(rc, "cannot look up file");
    bool changed =
        find.column_int(0) != size || find.column_text(1) != mtime || find.column_int(2) != 0;
    find.reset();
    if (changed) ++summary.files_updated;
    return update.reset()
        .bind(1, size)
        .bind(2, mtime)
        .bind(3, scan_time)
        .bind(4, job_id)
        .bind(5, path)
        .run("cannot update file");
  }

  // Handles one directory entry of the directory on top of the stack.
  db::status visit(open_dir& top, const dirent* e) {
    const char* name = e->d_name;
    if (name[0] == '.') return {};  // ".", ".." and hidden entries
    unsigned char type = e->d_type;
    struct stat st {};
    bool have_stat = false;
    if (type == DT_UNKNOWN) {
      if (fstatat(dirfd(top.dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) return {};
      have_stat = true;
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    std::string path = top.path == "/" ? "/" + std::string(name) : top.path + "/" + name;
    if (type == DT_DIR) {
      pending_dirs.push_back(path);
      return {};
    }
    if (type != DT_REG || !is_video_file(name)) return {};
    if (!have_stat && fstatat(dirfd(top.dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      ++summary.errors;
      return {};
    }
    return record(path, st, lower_extension(name));
  }

  db::status mark_missing() {
    db::statement mark(db,
                       "UPDATE files SET missing = 1, missing_since = ? WHERE missing = 0 AND "
                       "path > ? AND path < ? AND (last_scan_job IS NULL OR last_scan_job != ?)");
    std::string lo = root == "/" ? "/" : root + "/";
    std::string hi = root == "/" ? "0" : root + "0";  // '0' sorts right after '/'
    auto s = mark.reset()
                 .bind(1, scan_time)
                 .bind(2, lo)
                 .bind(3, hi)
                 .bind(4, job_id)
                 .run("cannot mark missing files");
    if (s.ok()) summary.files_missing = sqlite3_changes(db.handle());
    return s;
  }

  db::connection& db;
  std::string root, job_id;
  logging::logger log;
  std::string scan_time = now_rfc3339();
  std::vector<open_dir> stack;
  std::vector<std::string> pending_dirs;  // found in the current folder, opened after it
  long long dirs_seen = 0, dirs_done = 0;
  double last_progress = 0;
  bool finished = false;
  scan_summary summary;
  db::statement find, insert, update;
};

scan_walk::scan_walk(db::connection& files_db, std::string root, std::string job_id,
                     logging::logger log)
    : impl_(std::make_unique<impl>(files_db, std::move(root), std::move(job_id), std::move(log))) {}
scan_walk::~scan_walk() = default;

db::status scan_walk::start() {
  auto& w = *impl_;
  if (auto s = w.prepare(); !s.ok()) return s;
  DIR* d = opendir(w.root.c_str());
  if (!d) return {SQLITE_CANTOPEN, errno, "cannot open " + w.root + ": " + std::strerror(errno)};
  w.stack.push_back({d, w.root});
  w.dirs_seen = 1;
  return {};
}

db::status scan_walk::step(std::chrono::milliseconds budget, std::size_t max_entries, bool& done) {
  auto& w = *impl_;
  done = w.finished;
  if (done) return {};
  auto deadline = std::chrono::steady_clock::now() + budget;
  db::transaction tx(w.db);
  if (!tx.begin_status().ok()) return tx.begin_status();
  std::size_t seen = 0;
  while (!w.stack.empty() && seen < max_entries) {
    // Checking the clock every 64 entries keeps its cost out of the hot loop.
    if ((seen & 63) == 0 && seen > 0 && std::chrono::steady_clock::now() >= deadline) break;
    auto& top = w.stack.back();
    errno = 0;
    const dirent* e = readdir(top.dir);
    if (!e) {
      if (errno != 0) {
        ++w.summary.errors;
        w.log.warn(std::string("cannot list folder completely: ") + std::strerror(errno),
                   {{"job_id", w.job_id}, {"job_type", "scan"}, {"file_path", top.path}});
      }
      closedir(top.dir);
      w.stack.pop_back();
      ++w.dirs_done;
      auto next = std::move(w.pending_dirs);
      w.pending_dirs.clear();
      for (auto& p : next) w.push(p);
      continue;
    }
    ++seen;
    if (auto s = w.visit(top, e); !s.ok()) return s;
    // Subfolders wait until their parent is finished: one DIR* per level stays open at most
    // plus the siblings found so far.
    if (!w.pending_dirs.empty() && w.stack.size() < 64) {
      for (auto& p : w.pending_dirs) w.push(p);
      w.pending_dirs.clear();
    }
  }
  if (w.stack.empty() && w.pending_dirs.empty()) {
    if (auto s = w.mark_missing(); !s.ok()) return s;
    w.finished = true;
  }
  if (auto s = tx.commit(); !s.ok()) return s;
  done = w.finished;
  return {};
}

double scan_walk::progress() const {
  auto& w = *impl_;
  if (w.finished) return 100.0;
  double estimate = w.dirs_seen > 0
                        ? 99.0 * static_cast<double>(w.dirs_done) / static_cast<double>(w.dirs_seen)
                        : 0.0;
  w.last_progress = std::max(w.last_progress, estimate);
  return w.last_progress;
}

const scan_summary& scan_walk::summary() const {
  return impl_->summary;
}

}  // namespace vpo::jobs
