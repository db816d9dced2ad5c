// db_health.hpp: the detached actor that opens, locks and probes the library database.
#pragma once

#include <caf/fwd.hpp>
#include <chrono>
#include <string>

namespace vpo::actors {

struct db_health_options {
  std::string database_path;
  std::chrono::milliseconds probe_interval{500};
  std::chrono::milliseconds probe_timeout{1000};  ///< SQLite busy timeout of a probe
  /// Less free space than this on the database's file system counts as "cannot be written".
  unsigned long long min_free_bytes = 1024 * 1024;
};

/// Detached (SQLite blocks). `init_atom` opens/creates/verifies the database and takes the
/// single-instance lock, replying `init_result`; then it probes every `probe_interval` and
/// sends `db_status` to each subscriber (`subscribe_atom, actor`) on every change.
caf::actor spawn_db_health(caf::actor_system& sys, db_health_options options);

}  // namespace vpo::actors
