// db_health.cpp: open + lock at startup, then a timer-driven probe that reports transitions.
#include "actors/db_health.hpp"

#include <chrono>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/guard.hpp"
#include "db/damage.hpp"
#include "db/instance_lock.hpp"
#include "db/library.hpp"
#include "db/schema.hpp"
#include "logging/log.hpp"

namespace vpo::actors {
namespace {

struct db_health_state {
  db_health_options options;
  std::string path;  // absolute
  db::connection conn;
  db::file_identity identity;
  db::instance_lock lock;
  bool connected = false;
  bool readable = false;
  std::string reason;
  // Damage SQLite reported (on any connection, or by the integrity check): while set, the
  // database is disconnected. Checked again after a reopen and every integrity_recheck.
  std::string damage;
  bool integrity_due = true;  // the first probe after start-up checks the whole file
  std::chrono::steady_clock::time_point next_integrity_check{};
  std::vector<caf::actor> subscribers;
  logging::logger log{"vpo.db"};
  static inline const char* name = "vpo.db_health";
};

using db_actor = caf::stateful_actor<db_health_state>;

void publish(db_actor* self) {
  for (auto& s : self->state.subscribers)
    self->send(s, db_status{self->state.connected, self->state.reason, self->state.readable});
}

init_result on_init(db_actor* self) {
  auto& st = self->state;
  auto ms = static_cast<int>(st.options.probe_timeout.count());
  // The instance lock first: a second instance (an upgrade started beside the running one)
  // must not create or migrate the database under the first one.
  if (db::status f = db::ensure_folder(st.path); !f.ok())
    return {false, f.message + ". " + f.fix};
  if (std::string err = st.lock.acquire(st.path); !err.empty()) return {false, err};
  long long upgraded_from = 0;
  auto t0 = std::chrono::steady_clock::now();
  db::status s = db::open_library(st.path, db::open_mode::create_if_missing, ms, st.conn,
                                  st.identity, &upgraded_from);
  if (!s.ok()) return {false, s.message + ". " + s.fix};
  if (upgraded_from > 0) {
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    st.log.info("database schema upgraded from version " + std::to_string(upgraded_from) + " to " +
                    std::to_string(db::current_schema_version()) + " in " +
                    std::to_string(took.count()) + " ms",
                {{"file_path", st.path},
                 {"from_version", upgraded_from},
                 {"schema_version", db::current_schema_version()},
                 {"duration_ms", static_cast<long long>(took.count())}});
  }
  st.connected = st.readable = true;
  st.log.info("database ready: " + st.path,
              {{"file_path", st.path}, {"schema_version", db::current_schema_version()}});
  self->delayed_send(self, st.options.probe_interval, probe_atom::value);
  return {true, {}};
}

// A file whose pages are damaged still opens and answers the probe's query: damage is what
// SQLite told any connection (db::take_damage) or what the integrity check of the whole file
// finds, at start-up, after a reopen, and while damaged every integrity_recheck (to see a repair).
constexpr auto integrity_budget = std::chrono::milliseconds(1000);
constexpr auto integrity_recheck = std::chrono::seconds(30);

db::status check_damage(db_health_state& st) {
  auto now = std::chrono::steady_clock::now();
  if (auto reported = db::take_damage(st.conn.handle()); reported && st.damage.empty()) {
    st.damage = "database " + st.path + " is damaged: SQLite reported '" + *reported + "'";
    st.next_integrity_check = now + integrity_recheck;
  }
  if (st.integrity_due || (!st.damage.empty() && now >= st.next_integrity_check)) {
    bool finished = false;
    db::status c = db::check_integrity(st.conn, st.path, integrity_budget, finished);
    st.integrity_due = false;
    st.next_integrity_check = now + integrity_recheck;
    // Not finished within its budget (a very large file): no verdict; damage that operations
    // meet is still reported by them.
    if (finished) st.damage = c.ok() ? "" : c.message;
  }
  if (st.damage.empty()) return {};
  return db::damaged(st.damage);
}

// One probe; on failure it tries to reopen the file (restored or replaced by a valid copy).
void on_probe(db_actor* self) {
  auto& st = self->state;
  auto ms = static_cast<int>(st.options.probe_timeout.count());
  db::status s;
  if (st.conn.is_open()) s = db::probe_library(st.conn, st.path, st.identity);
  bool busy = s.is(errc::busy);
  // A locked file is still the right file: reopening would only wait for the lock again.
  if (!busy && (!st.conn.is_open() || !s.ok())) {
    st.conn.close();
    db::status reopened =
        db::open_library(st.path, db::open_mode::existing_only, ms, st.conn, st.identity);
    if (reopened.ok()) {
      s = {};
      st.damage.clear();  // another file (a restored copy): judged afresh
      st.integrity_due = true;
    } else if (s.ok()) {
      s = reopened;  // the connection was already closed: report why it stays so
    }
  }
  bool readable = s.ok();
  if (readable) s = check_damage(st);
  // Readable is not enough: another process holding the write lock, a read-only file or a full
  // disk leave reads working and every write failing (contract §4: disconnected, with why).
  if (readable && s.ok()) s = db::probe_writable(st.conn, st.path, st.options.min_free_bytes);
  bool now = s.ok();
  // Checkpoints happen here, not in the store's commits: a passive checkpoint waits for nobody
  // and never holds the write lock, so the one writer's transactions stay short.
  if (now) st.conn.exec("PRAGMA wal_checkpoint(PASSIVE)");
  std::string reason = now ? "" : s.message;
  if (now != st.connected || reason != st.reason || readable != st.readable) {
    bool changed = now != st.connected || reason != st.reason;
    st.connected = now;
    st.reason = reason;
    st.readable = readable;
    if (changed) {
      if (now)
        st.log.info("database connected again: " + st.path, {{"file_path", st.path}});
      else
        st.log.error("database disconnected: " + s.message + ". " + s.fix,
                     {{"file_path", st.path}, {"readable", readable}});
    }
    publish(self);
  }
  self->delayed_send(self, st.options.probe_interval, probe_atom::value);
}

caf::behavior db_health_impl(db_actor* self, db_health_options options) {
  install_guards(self, "db_health");
  self->state.options = options;
  self->state.path = db::absolute_path(options.database_path);
  return {
      [=](init_atom) { return on_init(self); },
      [=](probe_atom) { on_probe(self); },
      [=](subscribe_atom, const caf::actor& subscriber) {
        self->state.subscribers.push_back(subscriber);
        self->send(subscriber,
                   db_status{self->state.connected, self->state.reason, self->state.readable});
        return caf::ok_atom::value;
      },
  };
}

}  // namespace

caf::actor spawn_db_health(caf::actor_system& sys, db_health_options options) {
  return sys.spawn<caf::detached>(db_health_impl, std::move(options));
}

}  // namespace vpo::actors
