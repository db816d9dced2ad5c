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
#include <unordered_map>
#include <vector>

#include "db/statement.hpp"
#include "jobs/folder_lister.hpp"
#include "jobs/job.hpp"

namespace vpo::jobs {
namespace {

constexpr int known_chunk = 4096;  // library rows read per query (bounded work per step)
constexpr int lister_threads = 2;  // the kernel's stat is most of a re-scan: keep both cores on it

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

// A folder whose chunks are being compared with the library: its known files (direct children),
// read as a range of paths that skips each subfolder's range, and its subfolders in the library.
struct folder_state {
  std::string path, prefix, hi, next_lo;  // rows: prefix <= path < hi; next read from next_lo
  bool loading = true;
  std::unordered_map<std::string, known_file> known;  // by name
  std::vector<std::string> library_subdirs;           // in path order
};

// A subtree the library knows and the walk will not list (its folder vanished): its rows turn
// missing, a piece at a time.
struct gone_range {
  std::string next_lo, hi;
};

std::string join(const std::string& dir, const char* name) {
  return dir == "/" ? "/" + std::string(name) : dir + "/" + name;
}

// The successor of `s` in SQLite's BINARY order: the next read starts right after `s`.
std::string after(const std::string& s) {
  return s + '\0';
}

}  // namespace

bool is_video_name(const char* name, std::size_t len) {
  std::string ext;
  return video_extension(name, len, ext);
}

bool is_video_file(const std::string& name) {
  return is_video_name(name.c_str(), name.size());
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

  void warn(const std::string& message, const std::string& path) const {
    log.warn(message, {{"job_id", job_id}, {"job_type", "scan"}, {"file_path", path}});
  }

  // Reads up to `limit` rows of the folder's range. A row in a subfolder names that subfolder;
  // the read then jumps past the subfolder's range (one index seek per subfolder).
  db::status load_known(folder_state& f, long long limit) {
    long long rows = 0;
    while (f.loading && rows < limit) {
      long long want = limit - rows;
      known_q.reset().bind(1, f.next_lo).bind(2, f.hi).bind(3, want);
      int rc;
      long long n = 0;
      bool jumped = false;
      while ((rc = known_q.step()) == SQLITE_ROW) {
        ++n;
        std::string_view p = known_q.column_view(0);
        const char* rest = p.data() + f.prefix.size();
        std::size_t rest_len = p.size() - f.prefix.size();
        const void* slash = std::memchr(rest, '/', rest_len);
        if (slash) {
          std::size_t name_len = static_cast<std::size_t>(static_cast<const char*>(slash) - rest);
          f.library_subdirs.emplace_back(rest, name_len);
          f.next_lo = f.prefix;
          f.next_lo.append(rest, name_len).push_back('0');  // past "<dir>/<name>/..."
          jumped = true;
          break;
        }
        f.known.emplace(std::string(rest, rest_len),
                        known_file{known_q.column_int(1), known_q.column_int(2),
                                   known_q.column_int(3) != 0, false});
        f.next_lo.assign(p).push_back('\0');
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return known_q.failure(rc, "cannot read the library");
      known_q.reset();
      rows += n;
      if (!jumped && n < want) f.loading = false;  // the range is exhausted
    }
    return {};
  }

  // Up to `limit` rows of a vanished subtree that are not missing yet become missing paths.
  db::status load_gone(gone_range& g, long long limit, bool& exhausted) {
    gone_q.reset().bind(1, g.next_lo).bind(2, g.hi).bind(3, limit);
    int rc;
    long long n = 0;
    while ((rc = gone_q.step()) == SQLITE_ROW) {
      ++n;
      std::string path = gone_q.column_text(0);
      if (gone_q.column_int(1) == 0) pending_missing.push_back(path);
      g.next_lo = after(path);
    }
    if (rc != SQLITE_DONE) return gone_q.failure(rc, "cannot read the library");
    gone_q.reset();
    exhausted = n < limit;
    return {};
  }

  void record(folder_state& f, const std::string& name, const file_stat& st, scan_batch& out) {
    ++summary.files_found;
    auto it = f.known.find(name);
    if (it != f.known.end()) {
      it->second.seen = true;
      if (it->second.size == st.size && it->second.mtime_ns == st.mtime_ns && !it->second.missing)
        return;  // unchanged: nothing to write
      ++summary.files_updated;
    } else {
      ++summary.files_new;
    }
    video_extension(name.c_str(), name.size(), ext);
    out.upserts.push_back(file_record{join(f.path, name.c_str()), ext, rfc3339_ms(st.mtime_ns),
                                      st.size, st.mtime_ns});
  }

  // The folder is listed: what was known and not seen is gone, and so is every subtree the
  // library knows that the listing no longer has. An incomplete listing marks nothing.
  void finish(folder_state& f, const listed_chunk& last) {
    share_done += last.share;
    if (last.end_errno != 0) {
      ++summary.errors;
      warn(std::string("cannot list folder completely (nothing in it is marked missing): ") +
               std::strerror(last.end_errno),
           f.path);
      return;
    }
    for (auto& [name, k] : f.known)
      if (!k.seen && !k.missing) pending_missing.push_back(join(f.path, name.c_str()));
    for (const auto& name : f.library_subdirs)
      if (!std::binary_search(last.subdirs.begin(), last.subdirs.end(), name))
        gone.push_back({f.prefix + name + "/", f.prefix + name + "0"});
  }

  // Handles the current chunk as far as the batch has room; true when it is used up.
  db::status work_on_chunk(scan_batch& out, std::size_t room, std::size_t& work, bool& used) {
    used = false;
    listed_chunk& c = *chunk;
    if (c.unreadable || c.walked_already) {
      share_done += c.share;
      if (c.unreadable) {
        ++summary.errors;
        warn("cannot read folder, skipped (nothing below it is marked missing): " + c.error,
             c.path);
      } else {
        log.debug("folder already walked under another path, skipped",
                  {{"job_id", job_id}, {"job_type", "scan"}, {"file_path", c.path}});
      }
      used = true;
      return {};
    }
    auto it = folders.find(c.folder);
    if (it == folders.end()) {
      folder_state f;
      f.path = c.path;
      f.prefix = c.path == "/" ? "/" : c.path + "/";
      f.hi = c.path == "/" ? "0" : c.path + "0";
      f.next_lo = f.prefix;
      it = folders.emplace(c.folder, std::move(f)).first;
      ++summary.folders;
    }
    folder_state& f = it->second;
    if (f.loading) {  // the folder's known rows first (a giant folder takes several rounds)
      if (auto s = load_known(f, known_chunk); !s.ok()) return s;
      work += known_chunk / 8;
      return {};
    }
    std::size_t end = std::min(c.names.size(), pos + room);
    for (; pos < end; ++pos)
      if (c.stats[pos].ok) record(f, c.names[pos], c.stats[pos], out);  // else: vanished
    work += end;
    if (pos < c.names.size()) return {};
    if (c.last) {
      finish(f, c);
      folders.erase(it);
    }
    used = true;
    return {};
  }

  db::connection& db;
  std::string root, job_id, lo, hi;
  logging::logger log;
  std::string scan_time = now_rfc3339();
  db::statement known_q, gone_q;
  std::unique_ptr<folder_lister> lister;
  bool listed = false;  // the lister handed over every folder
  std::optional<listed_chunk> chunk;
  std::size_t pos = 0;                                    // the next name of `chunk` to compare
  std::unordered_map<std::size_t, folder_state> folders;  // being compared, by folder number
  std::vector<gone_range> gone;
  bool finished = false;
  double share_done = 0;
  long long expected = 0;  // files the library knew under the root at the start
  mutable double last_progress = 0;
  std::vector<std::string> pending_missing;  // found gone, not yet handed over (batch full)
  std::string ext;
  scan_summary summary;
};

scan_walk::scan_walk(db::connection& library, std::string root, std::string job_id,
                     logging::logger log)
    : impl_(std::make_unique<impl>(library, std::move(root), std::move(job_id), std::move(log))) {}
scan_walk::~scan_walk() = default;

db::status scan_walk::start() {
  auto& w = *impl_;
  w.known_q = db::statement(w.db,
                            "SELECT path, size, mtime_ns, missing FROM files WHERE path >= ? AND "
                            "path < ? ORDER BY path LIMIT ?");
  w.gone_q = db::statement(
      w.db, "SELECT path, missing FROM files WHERE path >= ? AND path < ? ORDER BY path LIMIT ?");
  for (auto* s : {&w.known_q, &w.gone_q})
    if (!s->error().empty()) return db::sqlite_error(SQLITE_ERROR, 0, s->error());
  struct stat st {};
  if (::stat(w.root.c_str(), &st) != 0)
    return vpo::errno_error(errno, "cannot open " + w.root);
  if (!S_ISDIR(st.st_mode))
    return vpo::errno_error(ENOTDIR, "cannot open " + w.root);
  if (::access(w.root.c_str(), R_OK | X_OK) != 0)
    return vpo::errno_error(errno, "cannot open " + w.root);
  // The basis of the progress: the last completed scan of this very tree, else the files the
  // library has under it (a range of the primary key).
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
  w.lister = std::make_unique<folder_lister>(w.root, lister_threads);
  return {};
}

db::status scan_walk::step(std::chrono::milliseconds budget, std::size_t max_entries,
                           std::size_t max_changes, scan_batch& out, bool& done) {
  auto& w = *impl_;
  out.job_id = w.job_id;
  out.scanned_at = w.scan_time;
  done = w.finished;
  auto deadline = std::chrono::steady_clock::now() + budget;
  std::size_t work = 0;
  auto room = [&] {
    auto used = out.upserts.size() + out.missing_paths.size();
    return used >= max_changes ? 0 : max_changes - used;
  };
  // Each round is a bounded piece of work: a piece of a chunk, of known rows, of a gone subtree.
  while (!w.finished && work < max_entries && room() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) break;
    ++work;
    if (!w.pending_missing.empty()) {  // hand over what is known to be gone, a batch at a time
      auto n = std::min(room(), w.pending_missing.size());
      auto from = w.pending_missing.end() - static_cast<std::ptrdiff_t>(n);
      std::move(from, w.pending_missing.end(), std::back_inserter(out.missing_paths));
      w.pending_missing.erase(from, w.pending_missing.end());
      continue;
    }
    if (!w.gone.empty()) {  // a vanished subtree: its known rows become missing paths
      bool exhausted = false;
      auto limit = static_cast<long long>(std::min<std::size_t>(room(), known_chunk));
      if (auto s = w.load_gone(w.gone.back(), limit, exhausted); !s.ok()) return s;
      work += known_chunk / 8;
      if (exhausted) w.gone.pop_back();
      continue;
    }
    if (!w.chunk) {
      if (w.listed) {  // every folder's last chunk was handled: nothing is left
        w.finished = true;
        continue;
      }
      listed_chunk c;
      auto r = w.lister->next(deadline, c);
      if (r == folder_lister::result::timeout) break;
      if (r == folder_lister::result::done) {
        w.listed = true;
        continue;
      }
      w.chunk = std::move(c);
      w.pos = 0;
    }
    bool used = false;
    if (auto s = w.work_on_chunk(out, room(), work, used); !s.ok()) return s;
    if (used) w.chunk.reset();
  }
  // In path order, new rows go into the library's B-tree one after the other (pages filled in
  // order, fewer pages written per batch) instead of at random places (a folder lists in hash
  // order): the store's work on a first scan drops by about a fifth. Only changes are sorted.
  std::sort(out.upserts.begin(), out.upserts.end(),
            [](const file_record& a, const file_record& b) { return a.path < b.path; });
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
