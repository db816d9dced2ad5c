// job_worker.hpp: runs one job at a time, in steps of at most ~50 ms, so drain/force/cancel are
// handled between steps.
#pragma once

#include <caf/fwd.hpp>
#include <chrono>
#include <cstddef>
#include <string>

namespace vpo::actors {

struct job_worker_options {
  std::string database_path;
  std::chrono::milliseconds step_budget{40};
  std::size_t step_entries = 8192;
  /// Pause between steps; 0 in production. `VPO_TEST_SCAN_THROTTLE=<entries>:<ms>` sets
  /// step_entries and this pause (a test knob to make scans slow and deterministic).
  std::chrono::milliseconds step_pause{0};
};

/// Reads VPO_TEST_SCAN_THROTTLE into `o` (unchanged when unset or malformed).
void apply_test_throttle(job_worker_options& o);

/// Detached (file-system walks and SQLite writes block). Reports job_progress and job_done to
/// `queue`; answers `force_atom` with `forced_atom, std::string job_id` ("" when idle).
caf::actor spawn_job_worker(caf::actor_system& sys, const caf::actor& queue,
                            job_worker_options options);

}  // namespace vpo::actors
