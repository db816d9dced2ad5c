// job_queue.hpp: the detached owner of the jobs table, its workers, and the jobs' drain.
#pragma once

#include <caf/fwd.hpp>
#include <string>

namespace vpo::actors {

struct job_queue_options {
  std::string database_path;
  int workers = 2;
  int max_attempts = 3;  ///< a job interrupted this many times by crashes becomes failed
};

/// `init_atom`: opens its connection, recovers jobs left running by a dead process, starts the
/// workers, replies `init_result`. Answers `job_query` with `job_answer`; pushes `job_counts` to
/// subscribers (`subscribe_atom, actor`). A drain participant: `drain_atom, int64` -> claims
/// nothing new, replies `drained_atom, participant_report` when no job runs; `force_atom` ->
/// running jobs stop at their next step and go back to queued.
caf::actor spawn_job_queue(caf::actor_system& sys, job_queue_options options);

}  // namespace vpo::actors
