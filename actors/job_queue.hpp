// job_queue.hpp: the jobs' control plane: dispatch, cancel, drain and force. It does no I/O:
// writes go to the store actor, reads to the reader, so it answers within milliseconds.
#pragma once

#include <caf/fwd.hpp>
#include <string>

namespace vpo::actors {

struct job_queue_options {
  std::string database_path;
  int workers = 2;
  int max_attempts = 3;     ///< a job interrupted this many times by crashes becomes failed
  int retention_days = 30;  ///< finished jobs older than this are deleted (0: never)
  bool auto_purge = true;   ///< false: finished jobs are never deleted
};

/// `init_atom`: spawns the store (recovers jobs left running by a dead process), the reader and
/// the workers (all linked: they end with the queue), replies `init_result`. Answers `job_query`
/// with `job_answer`; pushes `job_counts` to subscribers (`subscribe_atom, actor`). A drain
/// participant: `drain_atom, int64` -> claims nothing new, replies `drained_atom,
/// participant_report` when no job runs; `force_atom` -> stops the running jobs and puts them
/// back to queued in the database before it replies `forced_atom, participant_report`.
/// Retention: at start-up and hourly, finished jobs older than `retention_days` are deleted in
/// steps of 500 (each its own short transaction); `retention_atom, int32, bool` changes it.
caf::actor spawn_job_queue(caf::actor_system& sys, job_queue_options options);

}  // namespace vpo::actors
