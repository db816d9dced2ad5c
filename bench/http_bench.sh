#!/usr/bin/env bash
# http_bench.sh: /health of vpo side by side with nginx (1 worker, the same JSON as a constant)
# and, when python3-aiohttp is installed, the Python VPO design (aiohttp), measured the way the
# workplace harness does (../shared/bench: run.sh = wrk with ONE thread, targets interleaved,
# server CPU per request; lifecycle.sh = start, stop, RSS). Prints the harness's tables and
# ratios (vs vpo, the first target), then vpo's lifecycle figures and its thread count.
#
# Usage: bench/http_bench.sh [-q]   (-q: quick, 1 round of 3 s at 1 and 64 connections)
# The harness is found at $VPO_BENCH_HARNESS, else ../shared/bench next to this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
harness=${VPO_BENCH_HARNESS:-$repo/../shared/bench}
if [[ ! -x $harness/run.sh || ! -x $harness/lifecycle.sh ]]; then
  echo "http_bench.sh: the benchmark harness (run.sh, lifecycle.sh) is not at $harness;" \
    "set VPO_BENCH_HARNESS to its folder" >&2
  exit 1
fi
quick=0
[[ ${1:-} == -q ]] && quick=1
build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j 2 --target vpo >/dev/null

work=$(mktemp -d /tmp/vpo-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

vpo_port=18480 nginx_port=18481 aiohttp_port=18482
mkdir -p "$work/home" "$work/aiohttp"
HOME="$work/home" "$build/vpo" serve --port "$vpo_port" --log-level warning 2>"$work/vpo.log" &
pids+=($!)
vpo_pid=$!
"$harness/peers/nginx_run.sh" -p "$nginx_port" -w 1 -d "$work/nginx" >"$work/nginx.log" 2>&1 &
pids+=($!)
targets=("vpo=http://127.0.0.1:$vpo_port/health" "nginx-w1=http://127.0.0.1:$nginx_port/health")
if /usr/bin/python3 -c 'import aiohttp' 2>/dev/null; then
  /usr/bin/python3 "$harness/peers/aiohttp_health.py" --port "$aiohttp_port" \
    --db "$work/aiohttp/library.db" >"$work/aiohttp.log" 2>&1 &
  pids+=($!)
  targets+=("aiohttp=http://127.0.0.1:$aiohttp_port/health")
else
  echo "(python3-aiohttp is not installed: the Python peer is left out)"
fi
for t in "${targets[@]}"; do
  curl -s --retry 50 --retry-connrefused --retry-delay 0 --max-time 2 -o /dev/null "${t#*=}" ||
    { echo "http_bench.sh: ${t%%=*} did not answer" >&2; exit 1; }
done

echo "## /health under load ($(date -u +%Y-%m-%d), $(nproc) cores)"
if ((quick)); then
  "$harness/run.sh" -c "1 64" -m keepalive -r 1 -d 3 -w 1 -o "$work/run" "${targets[@]}"
else
  "$harness/run.sh" -r 2 -d 5 -o "$work/run" "${targets[@]}"
fi
echo
echo "## vpo threads while serving: $(ls /proc/$vpo_pid/task | wc -l)"
for t in /proc/$vpo_pid/task/*; do cat "$t/comm"; done | sort | uniq -c | sed 's/^/  /'
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()

echo
echo "## vpo lifecycle (lifecycle.sh: exec -> first 200, SIGTERM -> exit idle, RSS)"
mkdir -p "$work/lc"
HOME="$work/lc" "$harness/lifecycle.sh" -p "$vpo_port" -n vpo -i 7 -N "$((quick ? 0 : 1000000))" \
  -- "$repo/$build/vpo" serve --port "$vpo_port" --log-level warning | grep -v '^\[vpo\]'
