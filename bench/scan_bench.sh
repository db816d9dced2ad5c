#!/usr/bin/env bash
# scan_bench.sh: scan throughput on a warm cache of empty files, against `find | wc -l` in the
# same run. Usage: bench/scan_bench.sh [directories, default 200] [files per directory, 1000]
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=${1:-200}
per=${2:-1000}
build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j 2 --target vpo >/dev/null

work=$(mktemp -d /tmp/vpo-scan-bench-XXXXXX)
cleanup() {
  [[ -n "${vpo_pid:-}" ]] && kill "$vpo_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

tree="$work/tree"
for d in $(seq 1 "$dirs"); do
  mkdir -p "$tree/d$d"
  (cd "$tree/d$d" && seq 1 "$per" | sed 's/$/.mkv/' | xargs touch)
done
total=$((dirs * per))
find "$tree" -type f >/dev/null  # warm the cache

ms() { date +%s%3N; }
t0=$(ms); n=$(find "$tree" -type f | wc -l); t1=$(ms)
find_ms=$((t1 - t0))

port=18490
HOME="$work" "$build/vpo" serve --port "$port" 2>"$work/vpo.log" &
vpo_pid=$!
curl -s --retry 20 --retry-connrefused --retry-delay 0 -o /dev/null "http://127.0.0.1:$port/health"

scan() {  # prints the job's duration in ms (completed_at - started_at) and its summary
  local id job status
  id=$(curl -s -XPOST "http://127.0.0.1:$port/api/jobs" -d "{\"type\":\"scan\",\"path\":\"$tree\"}" |
    sed 's/.*"id":"\([^"]*\)".*/\1/')
  for _ in $(seq 1 6000); do
    job=$(curl -s "http://127.0.0.1:$port/api/jobs/$id")
    status=$(sed 's/.*"status":"\([^"]*\)".*/\1/' <<<"$job")
    [[ "$status" == completed || "$status" == failed ]] && break
    sleep 0.05
  done
  local started completed
  started=$(sed 's/.*"started_at":"\([^"]*\)".*/\1/' <<<"$job")
  completed=$(sed 's/.*"completed_at":"\([^"]*\)".*/\1/' <<<"$job")
  echo "$(( $(date -d "$completed" +%s%3N) - $(date -d "$started" +%s%3N) )) $(sed 's/.*"summary":\({[^}]*}\).*/\1/' <<<"$job")"
}

read -r first_ms first_summary < <(scan)
read -r again_ms again_summary < <(scan)

echo "# scan of $total empty .mkv files in $dirs folders, warm cache, same run"
printf "%-34s %8s ms  %10s files/s\n" "find -type f | wc -l ($n)" "$find_ms" \
  "$(awk -v n="$n" -v t="$find_ms" 'BEGIN {printf "%.0f", n / (t > 0 ? t : 1) * 1000}')"
printf "%-34s %8s ms  %10s files/s   %s\n" "vpo scan, first (all new)" "$first_ms" \
  "$(awk -v n="$total" -v t="$first_ms" 'BEGIN {printf "%.0f", n / (t > 0 ? t : 1) * 1000}')" "$first_summary"
printf "%-34s %8s ms  %10s files/s   %s\n" "vpo scan, again (unchanged)" "$again_ms" \
  "$(awk -v n="$total" -v t="$again_ms" 'BEGIN {printf "%.0f", n / (t > 0 ? t : 1) * 1000}')" "$again_summary"
awk -v a="$first_ms" -v b="$find_ms" 'BEGIN {printf "vpo first scan / find time: %.1fx (target: >= 50000 files/s)\n", a / (b > 0 ? b : 1)}'
