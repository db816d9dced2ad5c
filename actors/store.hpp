// store.hpp: the one writer of the library database, and the API's reader beside it.
#pragma once

#include <caf/fwd.hpp>
#include <string>

#include "actors/messages.hpp"

namespace vpo::actors {

/// Detached. The only actor that writes the library database (jobs and files), through a
/// store::queue_store. `init_atom, int max_attempts` opens its connection and recovers jobs left
/// running by a dead process (replies store_recovery); `store_op` (job transitions, sent with
/// high priority) replies store_reply; `jobs::scan_batch` (normal priority) is applied in one
/// short transaction and replies batch_ack. So a transition waits for at most one batch, and no
/// writer can starve another. A db_status that says "connected again" reopens the connection.
store_actor spawn_store(caf::actor_system& sys, std::string database_path);

/// Detached. Answers the API's reads (`job_query` list/get -> job_answer) and `count_atom`
/// (-> store::queue_store::status_counts) on its own connection: in WAL mode they never wait for
/// a write. `init_atom` opens it (replies init_result).
reader_actor spawn_reader(caf::actor_system& sys, std::string database_path);

/// Detached, one-shot: `check_atom` -> "" when `path` is a directory, else why not; then it
/// ends. A hung file system blocks only this actor (the caller's request times out).
caf::actor spawn_path_check(caf::actor_system& sys, const std::string& path);

}  // namespace vpo::actors
