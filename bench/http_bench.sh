#!/usr/bin/env bash
# http_bench.sh: /health throughput and p99 of vpo vs nginx (1 worker, `return 200` with the same
# JSON) in the same run, wrk with 64 keep-alive connections; then start/stop times.
# Usage: bench/http_bench.sh [seconds per wrk run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j 2 --target vpo vpo_bench_startstop >/dev/null

work=$(mktemp -d /tmp/vpo-bench-XXXXXX)
cleanup() {
  [[ -n "${vpo_pid:-}" ]] && kill "$vpo_pid" 2>/dev/null || true
  [[ -n "${nginx_pid:-}" ]] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

vpo_port=18480
nginx_port=18481
HOME="$work" "$build/vpo" serve --port "$vpo_port" 2>"$work/vpo.log" &
vpo_pid=$!

body=$(curl -s --retry 20 --retry-connrefused --retry-delay 0 "http://127.0.0.1:$vpo_port/health")
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $work/nginx/logs/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      default_type application/json;
      add_header Cache-Control no-store;
      return 200 '$body';
    }
  }
}
CONF
/usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
curl -s --retry 20 --retry-connrefused --retry-delay 0 -o /dev/null "http://127.0.0.1:$nginx_port/health"

run_wrk() {  # prints "req/s p99_ms"
  wrk -t2 -c64 -d"${secs}s" --latency "$1" >"$work/wrk.out"
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$work/wrk.out")
  echo "$rps $p99"
}

read -r vpo_rps vpo_p99 < <(run_wrk "http://127.0.0.1:$vpo_port/health")
read -r ngx_rps ngx_p99 < <(run_wrk "http://127.0.0.1:$nginx_port/health")

echo "# vpo /health vs nginx return 200, wrk -t2 -c64 -d${secs}s, same machine, same run"
printf "%-8s %12s %10s\n" server "req/s" "p99 ms"
printf "%-8s %12.0f %10.2f\n" vpo "$vpo_rps" "$vpo_p99"
printf "%-8s %12.0f %10.2f\n" nginx "$ngx_rps" "$ngx_p99"
awk -v a="$vpo_rps" -v b="$ngx_rps" 'BEGIN {printf "ratio vpo/nginx req/s: %.2f (target >= 0.5)\n", a / b}'
echo "vpo RSS after load: $(ps -o rss= -p "$vpo_pid") KiB"

kill -TERM "$vpo_pid"; wait "$vpo_pid" || true; vpo_pid=
echo
"$build/vpo_bench_startstop" 20
