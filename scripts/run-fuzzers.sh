#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time: scripts/run-fuzzers.sh <build dir> <seconds>.
# Seeds come from fuzz/corpus/<target> (checked in, never written to); what the run finds goes to
# <build dir>/corpus/<target>; a crash, a leak, a timeout or a violated property fails the run and
# leaves the input under <build dir>/artifacts/ (turn it into a regression test and a seed).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/fuzz}
seconds=${2:-60}
mkdir -p "$build/artifacts"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for target in http_fuzz jobs_body_fuzz config_fuzz client_answer_fuzz config_file_fuzz; do
  mkdir -p "$build/corpus/$target"
  echo "== $target: ${seconds}s"
  if ! "$build/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" \
      "$build/corpus/$target" "fuzz/corpus/$target" 2>"$build/$target.log"; then
    echo "$target: FAILED (see $build/$target.log and $build/artifacts/)" >&2
    tail -40 "$build/$target.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/$target.log" || true
  fi
done
exit $status
