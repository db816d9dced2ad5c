// job_worker.hpp: runs one job at a time, in steps of a few milliseconds, so cancel and force
// (high priority) are handled between steps.
#pragma once

#include <caf/fwd.hpp>
#include <chrono>
#include <cstddef>
#include <string>

#include "actors/messages.hpp"

namespace vpo::actors {

struct job_worker_options {
  std::string database_path;  ///< read by the walk (its own connection)
  std::chrono::milliseconds step_budget{8};
  std::size_t step_entries = 16384;  ///< directory entries per step at most
  /// Changes per batch: one store transaction of ~4 ms (API writes wait for it: p99 ~13 ms during
  /// a first scan); 1,000 kept that at ~10 ms but cost ~15 % of first-scan throughput.
  std::size_t batch_changes = 1500;
  int batches_in_flight = 2;  ///< walk ahead of the store by this many batches
  std::chrono::milliseconds progress_every{
      100};       ///< a batch with only progress, at most this often
  int nice = 10;  ///< the walk's thread priority: API answers and the store go first
};

/// Detached (the walk blocks on the file system). Walks outside any transaction and hands each
/// step's changes to `store` as a scan_batch (at most `batches_in_flight` unacknowledged);
/// reports job_done to `queue` once the last batch is applied. `cancel_atom, id` ends the job
/// `cancelled` at once; `force_atom` stops it and replies job_stopped (its summary so far).
caf::actor spawn_job_worker(caf::actor_system& sys, const caf::actor& queue,
                            const store_actor& store, job_worker_options options);

}  // namespace vpo::actors
