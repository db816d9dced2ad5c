#!/usr/bin/env bash
# jobs_bench.sh: the job engine on a generated library (default 400,000 files, built once under
# /tmp): scan throughput first run and rescan (find on the same tree for scale), API latency
# during a scan, cancel -> cancelled, forced stops. Usage: bench/jobs_bench.sh [files]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j 2 --target vpo vpo_bench_jobs >/dev/null
exec "$build/vpo_bench_jobs" "${1:-400000}"
