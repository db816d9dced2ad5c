#!/usr/bin/env bash
# probe_allocs.sh: heap allocations per /health probe (issue 12: none). Runs the Release vpo
# with a malloc counter preloaded (bench/malloc_count.c) twice, serving no probe and then
# N probes over 8 keep-alive connections (h2load), and prints the difference per probe; then
# 3 s of probes with a new connection each (wrk, Connection: close): allocations per connection.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j 2 --target vpo >/dev/null
work=$(mktemp -d /tmp/vpo-allocs-XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -shared -fPIC bench/malloc_count.c -o "$work/malloc_count.so"
port=18484
count() {  # $1 probes -> malloc calls of the whole run
  rm -rf "$work/home" && mkdir -p "$work/home"
  HOME="$work/home" LD_PRELOAD="$work/malloc_count.so" "$build/vpo" serve --port "$port" \
    --log-level warning 2>"$work/err" &
  local pid=$! ready=
  for _ in $(seq 200); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/health" && { ready=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  [[ -n $ready ]] || { kill "$pid" 2>/dev/null; cat "$work/err" >&2; exit 1; }
  if [[ $1 == close ]]; then  # a new connection per probe, 3 s: the count goes to $work/n
    wrk -t1 -c4 -d3s -H 'Connection: close' "http://127.0.0.1:$port/health" |
      awk '/requests in/ {print $1}' >"$work/n"
  elif (($1 > 0)); then
    h2load -n "$1" -c 8 --h1 "http://127.0.0.1:$port/health" | grep -q "$1 succeeded" ||
      { echo "probe_allocs.sh: not all $1 probes succeeded" >&2; kill "$pid"; exit 1; }
  fi
  kill "$pid"
  wait "$pid" || true
  awk '/^MALLOC_CALLS/ {print $2}' "$work/err"
}
base=$(count 0)
loaded=$(count "$n")
closed=$(count close)
conns=$(cat "$work/n")
echo "## heap allocations per /health probe ($(date -u +%Y-%m-%d))"
awk -v a="$base" -v b="$loaded" -v n="$n" 'BEGIN {
  printf "keep-alive: malloc calls: %d with no probe, %d with %d probes: %.3f per probe\n", a, b, n, (b - a) / n }'
awk -v a="$base" -v b="$closed" -v n="$conns" 'BEGIN {
  printf "a new connection per probe: %d probes, %.1f malloc calls per connection\n", n, (b - a) / n }'
