#!/usr/bin/env bash
# metrics_bench.sh: the CPU one /metrics scrape costs vpo once at least 100 method x route x code
# series of vpo_http_requests_total exist (issue 12: <= 1 ms). Builds Release, starts vpo with a
# token and a small rate limit (so 401s and 429s exist too), sends requests until the series are
# there, then scrapes /metrics with wrk (one thread, one connection, 5 s) and divides the
# daemon's CPU time (/proc/PID/stat utime + stime) by the scrapes answered.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j 2 --target vpo >/dev/null
work=$(mktemp -d /tmp/vpo-metrics-bench-XXXXXX)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
port=18483
mkdir -p "$work/home/.vpo"
cat >"$work/home/.vpo/config.toml" <<TOML
[server]
auth_token = "bench-token-0123456789"
[server.rate_limit]
get_max_requests = 400
mutate_max_requests = 40
window_seconds = 3600
TOML
HOME="$work/home" "$build/vpo" serve --port "$port" --log-level warning 2>"$work/vpo.log" &
pid=$!
url=http://127.0.0.1:$port
for _ in $(seq 200); do
  curl -s -o /dev/null "$url/health" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/vpo.log" >&2; exit 1; }
  sleep 0.05
done
auth=(-H "Authorization: Bearer bench-token-0123456789")
paths=(/health /livez /readyz /metrics /api/jobs /api/jobs/abc /api/jobs/abc/cancel
  /api/jobs/abc/retry /api/files /api/library /nope "/api/files?limit=x" "/api/jobs?status=x")
for method in GET HEAD POST PUT; do
  for p in "${paths[@]}"; do
    head=(-X "$method")
    [[ $method == HEAD ]] && head=(-I)
    curl -s -o /dev/null "${head[@]}" "$url$p" || true
    curl -s -o /dev/null "${head[@]}" "${auth[@]}" "$url$p" || true
    curl -s -o /dev/null "${head[@]}" "${auth[@]}" -d '{"type":"scan","path":"/nonexistent"}' \
      "$url$p" || true
  done
done
# 413 (a body over 1 MiB) and 431 (a header block over 16 KiB) on each route.
head -c $((1100 * 1024)) /dev/zero | tr '\0' 'x' >"$work/big-body"
big_header="X-Big: $(head -c $((17 * 1024)) /dev/zero | tr '\0' 'y')"
for p in "${paths[@]}"; do
  curl -s -o /dev/null -X POST "${auth[@]}" --data-binary @"$work/big-body" "$url$p" || true
  curl -s -o /dev/null -H "$big_header" "$url$p" || true
done
# Over the rate limit: 429 for reads and writes.
for _ in $(seq 45); do curl -s -o /dev/null -X POST "${auth[@]}" "$url/api/jobs" || true; done
for _ in $(seq 410); do curl -s -o /dev/null "${auth[@]}" "$url/api/library" || true; done
series=$(curl -s "$url/metrics" | grep -c '^vpo_http_requests_total{')
lines=$(curl -s "$url/metrics" | wc -l)
bytes=$(curl -s "$url/metrics" | wc -c)
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
out=$(wrk -t1 -c1 -d5s "$url/metrics")
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
reqs=$(awk '/requests in/ {print $1}' <<<"$out")
hz=$(getconf CLK_TCK)
echo "## /metrics scrape ($(date -u +%Y-%m-%d), $(nproc) cores)"
echo "series of vpo_http_requests_total: $series (the whole answer: $lines lines, $bytes bytes)"
grep -E 'Latency|Requests/sec' <<<"$out"
awk -v t=$(((u1 + s1) - (u0 + s0))) -v hz="$hz" -v n="$reqs" \
  'BEGIN { printf "vpo CPU per scrape: %.0f us (%d scrapes, %.2f s CPU)\n", t / hz / n * 1e6, n, t / hz }'
(( series >= 100 )) || echo "note: fewer than 100 series were made ($series)"
