#!/usr/bin/env bash
# make tsan: builds vpo and its tests with ThreadSanitizer against CAF built the same way, then
# runs the unit tests and the integration tests that stop or reload the daemon under load (signals,
# drains, forced stops, cancels; the 200,000-file scale tests are left to the other runs: under
# TSan they take minutes each). Every report of every process (tests and daemons) goes to
# build/tsan/reports; any report fails the run. Suppressions (tests/tsan.supp) name one
# third-party function each, with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
caf=$(scripts/build-caf-tsan.sh)
build=build/tsan
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVPO_TSAN=ON -DVPO_WERROR=ON \
  -DCAF_ROOT="$caf" >/dev/null
cmake --build "$build" -j "${JOBS:-2}"
reports="$PWD/$build/reports"
rm -rf "$reports"
mkdir -p "$reports"
# die_after_fork=0: one unit test forks and walks a tree as another user in the child (which
# starts the walk's lister threads); TSan would otherwise end that child.
export TSAN_OPTIONS="log_path=$reports/tsan second_deadlock_stack=1 history_size=4 die_after_fork=0 suppressions=$PWD/tests/tsan.supp"
status=0
"$build/vpo_unit_tests" "[actors],[store],[coordinator],[db_health],[signals],[logging],[scan]" || status=1
"$build/vpo_integration_tests" "[shutdown]~[scale],[jobs]~[scale],[reload],[hostile]~[slow]" || status=1
if compgen -G "$reports/tsan*" >/dev/null; then
  echo "ThreadSanitizer reports:" >&2
  for f in "$reports"/tsan*; do
    echo "== $f" >&2
    head -60 "$f" >&2
  done
  status=1
fi
[[ $status -eq 0 ]] && echo "tsan: no reports"
exit $status
