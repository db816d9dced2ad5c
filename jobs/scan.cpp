// scan.cpp: the walk, one folder at a time (known rows, listing, difference), in bounded steps.
#include "jobs/scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iterator>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "db/statement.hpp"
#include "jobs/job.hpp"
#include "jobs/parallel_stat.hpp"

namespace vpo::jobs {
namespace {

constexpr int known_chunk = 4096;  // library rows read per query (bounded work per step)
constexpr int dirs_chunk = 256;    // known folders read per query at the end of the walk

// Writes the lower-case extension of a video file name into `ext`; false for other names.
bool video_extension(const char* name, std::size_t len, std::string& ext) {
  const char* dot = static_cast<const char*>(std::memchr(name, '.', len));
  if (!dot) return false;
  dot = std::strrchr(name, '.');
  std::size_t n = len - static_cast<std::size_t>(dot - name) - 1;
  if (dot == name || n < 3 || n > 4) return false;
  char buf[5] = {};
  for (std::size_t i = 0; i < n; ++i)
    buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(dot[1 + i])));
  static const char* known[] = {"mkv", "mp4", "avi", "webm", "m4v", "mov"};
  for (const char* k : known)
    if (std::strcmp(buf, k) == 0) {
      ext.assign(buf, n);
      return true;
    }
  return false;
}

std::string rfc3339_ms(long long mtime_ns) {
  std::time_t secs = static_cast<std::time_t>(mtime_ns / 1000000000LL);
  long long ms = (mtime_ns % 1000000000LL) / 1000000LL;
  if (mtime_ns < 0 && ms != 0) {  // before 1970: floor, not truncate
    secs -= 1;
    ms += 1000;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

struct known_file {
  long long size = 0;
  long long mtime_ns = 0;
  bool missing = false;
  bool seen = false;
};

struct dir_task {
  std::string path;
  double share = 0;  // this folder's part of the whole tree, for the progress of a first scan
};

// The folder being worked on: first its known rows are read, then it is listed.
struct current_dir {
  std::string path;
  double share = 0;
  bool gone = false;  // vanished since the last scan: every known file turns missing
  bool loading = true;
  long long last_rowid = 0;
  DIR* dir = nullptr;
  bool listed = false;  // readdir reached the end (with end_errno)
  int end_errno = 0;
  bool listing_failed = false;
  std::unordered_map<std::string, known_file> known;  // by name
  std::vector<std::string> subdirs;
};

std::string join(const std::string& dir, const char* name) {
  return dir == "/" ? "/" + std::string(name) : dir + "/" + name;
}

}  // namespace

bool is_video_file(const std::string& name) {
  std::string ext;
  return video_extension(name.c_str(), name.size(), ext);
}

std::string scan_summary::to_json() const {
  return "{\"files_found\":" + std::to_string(files_found) +
         ",\"files_new\":" + std::to_string(files_new) +
         ",\"files_updated\":" + std::to_string(files_updated) +
         ",\"files_missing\":" + std::to_string(files_missing) +
         ",\"errors\":" + std::to_string(errors) + ",\"folders\":" + std::to_string(folders) + "}";
}

struct scan_walk::impl {
  impl(db::connection& c, std::string r, std::string id, logging::logger l)
      : db(c), root(std::move(r)), job_id(std::move(id)), log(std::move(l)) {
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    lo = root == "/" ? "/" : root + "/";
    hi = root == "/" ? "0" : root + "0";  // '0' sorts right after '/'
  }
  ~impl() { close_current(); }

  void close_current() {
    if (cur && cur->dir) closedir(cur->dir);
    if (cur) cur->dir = nullptr;
  }

  void warn(const std::string& message, const std::string& path) const {
    log.warn(message, {{"job_id", job_id}, {"job_type", "scan"}, {"file_path", path}});
  }

  bool under_skipped(const std::string& dir) const {
    for (const auto& s : skipped)
      if (dir == s || (dir.size() > s.size() && dir.compare(0, s.size(), s) == 0 &&
                       (s == "/" || dir[s.size()] == '/')))
        return true;
    return false;
  }

  // A folder that cannot be read: counted, logged, and nothing below it turns missing.
  void give_up_on(const std::string& path, double share, const std::string& why) {
    ++summary.errors;
    skipped.push_back(path);
    share_done += share;
    warn("cannot read folder, skipped (nothing below it is marked missing): " + why, path);
  }

  // Opens the next folder of the walk; false when none is left.
  bool open_next() {
    while (!todo.empty()) {
      dir_task t = std::move(todo.back());
      todo.pop_back();
      int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (t.path == root ? 0 : O_NOFOLLOW);
      int fd = ::open(t.path.c_str(), flags);
      if (fd < 0) {
        give_up_on(t.path, t.share, std::strerror(errno));
        continue;
      }
      struct stat st {};
      if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        give_up_on(t.path, t.share, std::strerror(e));
        continue;
      }
      if (!visited_ids.insert({st.st_dev, st.st_ino}).second) {
        ::close(fd);  // a bind mount or a loop: walked once already
        skipped.push_back(t.path);
        share_done += t.share;
        log.debug("folder already walked under another path, skipped",
                  {{"job_id", job_id}, {"job_type", "scan"}, {"file_path", t.path}});
        continue;
      }
      DIR* d = ::fdopendir(fd);
      if (!d) {
        int e = errno;
        ::close(fd);
        give_up_on(t.path, t.share, std::strerror(e));
        continue;
      }
      cur.emplace();
      cur->path = std::move(t.path);
      cur->share = t.share;
      cur->dir = d;
      visited_dirs.insert(cur->path);
      ++summary.folders;
      return true;
    }
    return false;
  }

  // One chunk of the current folder's known rows. Gone folders turn them into missing paths.
  db::status load_known(long long limit) {
    known_q.reset().bind(1, cur->path).bind(2, cur->last_rowid).bind(3, limit);
    int rc, n = 0;
    while ((rc = known_q.step()) == SQLITE_ROW) {
      ++n;
      cur->last_rowid = known_q.column_int(0);
      bool missing = known_q.column_int(4) != 0;
      if (cur->gone) {
        if (!missing) pending_missing.push_back(known_q.column_text(1));
        continue;
      }
      std::string path = known_q.column_text(1);
      auto slash = path.rfind('/');
      cur->known.emplace(path.substr(slash + 1),
                         known_file{known_q.column_int(2), known_q.column_int(3), missing, false});
    }
    if (rc != SQLITE_DONE) return known_q.failure(rc, "cannot read the library");
    known_q.reset();
    if (n < limit) cur->loading = false;
    return {};
  }

  void record(const char* name, std::size_t len, const std::string& ext, const struct stat& st,
              scan_batch& out) {
    ++summary.files_found;
    long long mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL +
                         static_cast<long long>(st.st_mtim.tv_nsec);
    auto size = static_cast<long long>(st.st_size);
    key.assign(name, len);
    auto it = cur->known.find(key);
    if (it != cur->known.end()) {
      it->second.seen = true;
      if (it->second.size == size && it->second.mtime_ns == mtime_ns && !it->second.missing)
        return;  // unchanged: nothing to write
      ++summary.files_updated;
    } else {
      ++summary.files_new;
    }
    out.upserts.push_back(
        file_record{join(cur->path, name), cur->path, ext, rfc3339_ms(mtime_ns), size, mtime_ns});
  }

  // Lists up to `max_files` video files (and whatever else comes with them) of the current
  // folder (reading `max_read` entries at most), stats them on two threads, and records them.
  // Returns the entries read.
  std::size_t list_chunk(std::size_t max_files, std::size_t max_read, scan_batch& out) {
    names.clear();
    std::size_t read = 0;
    while (!cur->listed && names.size() < max_files && read < max_read) {
      errno = 0;
      const dirent* e = readdir(cur->dir);
      if (!e) {
        cur->listed = true;
        cur->end_errno = errno;
        break;
      }
      ++read;
      const char* name = e->d_name;
      if (name[0] == '.') continue;  // ".", ".." and hidden entries
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {  // some file systems do not say: ask
        struct stat st {};
        if (fstatat(dirfd(cur->dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
      if (type == DT_DIR) {
        cur->subdirs.emplace_back(name);
        continue;
      }
      if (type == DT_REG && video_extension(name, std::strlen(name), ext)) names.emplace_back(name);
    }
    // The helper stats while this thread reads the folder's known rows (the first chunk of a
    // folder): the library read and the kernel's stats overlap.
    bool first = cur->loading;
    stats.start(dirfd(cur->dir), names, stat_out, stat_ok, first ? 0.75 : 0.6);
    db::status loaded;
    for (int n = 0; cur->loading && n < 8 && loaded.ok(); ++n) loaded = load_known(known_chunk);
    stats.finish();
    if (!loaded.ok()) {
      load_error = loaded;
      return read;
    }
    if (cur->loading) {  // a giant folder: record this chunk once all its known rows are in
      held.insert(held.end(), std::make_move_iterator(names.begin()),
                  std::make_move_iterator(names.end()));
      held_stat.insert(held_stat.end(), stat_out.begin(), stat_out.end());
      held_ok.insert(held_ok.end(), stat_ok.begin(), stat_ok.end());
      return read;
    }
    if (first && !held.empty()) record_all(held, held_stat, held_ok, out);
    record_all(names, stat_out, stat_ok, out);
    return read;
  }

  void record_all(std::vector<std::string>& list, std::vector<struct stat>& st,
                  std::vector<char>& ok, scan_batch& out) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!ok[i]) continue;  // vanished between readdir and stat
      video_extension(list[i].c_str(), list[i].size(), ext);
      record(list[i].c_str(), list[i].size(), ext, st[i], out);
    }
    list.clear();
    st.clear();
    ok.clear();
  }

  // The current folder is listed: what was known and not seen is gone; subfolders come next.
  void finish_current() {
    if (!cur->listing_failed) {
      for (auto& [name, k] : cur->known)
        if (!k.seen && !k.missing) pending_missing.push_back(join(cur->path, name.c_str()));
    }
    double part = cur->share / static_cast<double>(cur->subdirs.size() + 1);
    share_done += part;
    std::sort(cur->subdirs.begin(), cur->subdirs.end(), std::greater<>());  // walked in order
    for (auto& s : cur->subdirs) todo.push_back({join(cur->path, s.c_str()), part});
    close_current();
    cur.reset();
  }

  // The end of the walk: folders the library knows under the root that were not walked.
  db::status next_gone_dir(bool& found) {
    found = false;
    while (!found) {
      if (gone_queue.empty()) {
        if (dirs_exhausted) return {};
        dirs_q.reset().bind(1, dirs_after).bind(2, root).bind(3, lo).bind(4, hi);
        int rc, n = 0;
        while ((rc = dirs_q.step()) == SQLITE_ROW) {
          ++n;
          dirs_after = dirs_q.column_text(0);
          if (!visited_dirs.count(dirs_after) && !under_skipped(dirs_after))
            gone_queue.push_back(dirs_after);
        }
        if (rc != SQLITE_DONE) return dirs_q.failure(rc, "cannot read the library's folders");
        dirs_q.reset();
        if (n < dirs_chunk) dirs_exhausted = true;
        std::reverse(gone_queue.begin(), gone_queue.end());
        if (gone_queue.empty()) return {};
        continue;
      }
      cur.emplace();
      cur->path = std::move(gone_queue.back());
      gone_queue.pop_back();
      cur->gone = true;
      found = true;
    }
    return {};
  }

  db::connection& db;
  std::string root, job_id, lo, hi;
  logging::logger log;
  std::string scan_time = now_rfc3339();
  db::statement known_q, dirs_q;
  std::vector<dir_task> todo;
  std::optional<current_dir> cur;
  std::set<std::pair<dev_t, ino_t>> visited_ids;
  std::unordered_set<std::string> visited_dirs;
  std::vector<std::string> skipped;  // unreadable or already walked: nothing below turns missing
  bool walking = true;               // false: looking for vanished folders
  std::string dirs_after;
  std::vector<std::string> gone_queue;
  bool dirs_exhausted = false;
  bool finished = false;
  double share_done = 0;
  long long expected = 0;  // files the library knew under the root at the start
  mutable double last_progress = 0;
  std::vector<std::string> pending_missing;  // found gone, not yet handed over (batch full)
  parallel_stat stats;
  std::vector<std::string> names;  // reused buffers
  std::vector<std::string> held;   // a giant folder's stats, waiting for its known rows
  std::vector<struct stat> held_stat;
  std::vector<char> held_ok;
  db::status load_error;
  std::vector<struct stat> stat_out;
  std::vector<char> stat_ok;
  std::string key, ext;
  scan_summary summary;
};

scan_walk::scan_walk(db::connection& library, std::string root, std::string job_id,
                     logging::logger log)
    : impl_(std::make_unique<impl>(library, std::move(root), std::move(job_id), std::move(log))) {}
scan_walk::~scan_walk() = default;

db::status scan_walk::start() {
  auto& w = *impl_;
  w.known_q = db::statement(w.db,
                            "SELECT rowid, path, size, mtime_ns, missing FROM files WHERE dir = ? "
                            "AND rowid > ? ORDER BY rowid LIMIT ?");
  w.dirs_q = db::statement(w.db,
                           "SELECT DISTINCT dir FROM files WHERE dir > ?1 AND (dir = ?2 OR "
                           "(dir >= ?3 AND dir < ?4)) ORDER BY dir LIMIT " +
                               std::to_string(dirs_chunk));
  for (auto* s : {&w.known_q, &w.dirs_q})
    if (!s->error().empty()) return {SQLITE_ERROR, 0, s->error()};
  struct stat st {};
  if (::stat(w.root.c_str(), &st) != 0)
    return {SQLITE_CANTOPEN, errno, "cannot open " + w.root + ": " + std::strerror(errno)};
  if (!S_ISDIR(st.st_mode))
    return {SQLITE_CANTOPEN, ENOTDIR, "cannot open " + w.root + ": " + std::strerror(ENOTDIR)};
  if (::access(w.root.c_str(), R_OK | X_OK) != 0)
    return {SQLITE_CANTOPEN, errno, "cannot open " + w.root + ": " + std::strerror(errno)};
  // The basis of the progress: the last completed scan of this very tree, else the files the
  // library has under it (an index range, no table lookups).
  db::statement last(w.db,
                     "SELECT json_extract(summary_json, '$.files_found') FROM jobs WHERE "
                     "file_path = ? AND job_type = 'scan' AND status = 'completed' ORDER BY "
                     "completed_at DESC LIMIT 1");
  if (last.error().empty() && last.bind(1, w.root).step() == SQLITE_ROW)
    w.expected = last.column_int(0);
  if (w.expected <= 0) {
    db::statement count(w.db, "SELECT count(*) FROM files WHERE path > ? AND path < ?");
    count.bind(1, w.lo).bind(2, w.hi);
    if (count.step() == SQLITE_ROW) w.expected = count.column_int(0);
  }
  w.todo.push_back({w.root, 1.0});
  return {};
}

db::status scan_walk::step(std::chrono::milliseconds budget, std::size_t max_entries,
                           std::size_t max_changes, scan_batch& out, bool& done) {
  auto& w = *impl_;
  out.job_id = w.job_id;
  out.scanned_at = w.scan_time;
  done = w.finished;
  auto deadline = std::chrono::steady_clock::now() + budget;
  std::size_t seen = 0;
  auto room = [&] {
    auto used = out.upserts.size() + out.missing_paths.size();
    return used >= max_changes ? 0 : max_changes - used;
  };
  while (!w.finished && seen < max_entries && room() > 0) {
    // Each round is a bounded piece of work (a chunk of a listing, of known rows, an open).
    ++seen;
    if (std::chrono::steady_clock::now() >= deadline) break;
    if (!w.pending_missing.empty()) {  // hand over what is known to be gone, a batch at a time
      auto n = std::min(room(), w.pending_missing.size());
      auto from = w.pending_missing.end() - static_cast<std::ptrdiff_t>(n);
      std::move(from, w.pending_missing.end(), std::back_inserter(out.missing_paths));
      w.pending_missing.erase(from, w.pending_missing.end());
      continue;
    }
    if (!w.cur) {
      if (w.walking && w.open_next()) continue;
      w.walking = false;
      bool found = false;
      if (auto s = w.next_gone_dir(found); !s.ok()) return s;
      if (!found) w.finished = w.pending_missing.empty();
      continue;
    }
    if (w.cur->gone) {  // a vanished folder: its known rows become missing paths
      auto limit = static_cast<long long>(std::min<std::size_t>(room(), known_chunk));
      if (auto s = w.load_known(limit); !s.ok()) return s;
      seen += known_chunk / 8;
      if (!w.cur->loading) w.cur.reset();
      continue;
    }
    std::size_t left = max_entries > seen ? max_entries - seen : 1;
    seen +=
        w.list_chunk(std::min<std::size_t>(room(), 1024), std::min<std::size_t>(left, 4096), out);
    if (!w.load_error.ok()) return w.load_error;
    if (!w.cur->listed || w.cur->loading) continue;
    if (int error = w.cur->end_errno; error != 0) {
      w.cur->listing_failed = true;
      ++w.summary.errors;
      w.skipped.push_back(w.cur->path);
      w.warn(std::string("cannot list folder completely (nothing in it is marked missing): ") +
                 std::strerror(error),
             w.cur->path);
    }
    w.finish_current();
  }
  out.progress = progress();
  done = w.finished;
  return {};
}

void scan_walk::add_missing(long long n) {
  impl_->summary.files_missing += n;
}

double scan_walk::progress() const {
  auto& w = *impl_;
  if (w.finished) return 100.0;
  double estimate = w.expected > 0
                        ? 99.0 * std::min(1.0, static_cast<double>(w.summary.files_found) /
                                                   static_cast<double>(w.expected))
                        : 99.0 * std::min(1.0, w.share_done);
  w.last_progress = std::max(w.last_progress, estimate);
  return w.last_progress;
}

const scan_summary& scan_walk::summary() const {
  return impl_->summary;
}

}  // namespace vpo::jobs
