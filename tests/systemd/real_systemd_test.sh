#!/usr/bin/env bash
# real_systemd_test.sh: vpo under a real systemd 252 (PID 1 in a container, systemd-nspawn over
# the host's /usr; ../shared/notes/systemd-container.md), installed as docs/systemd.md tells an
# operator and checked with systemctl, journalctl and curl only: verify, start (READY=1), status
# text, reload (applied; an invalid file kept out), the stop-timeout warning, the watchdog
# restarting a frozen daemon, `journalctl JOB_ID=`, SIGKILL -> restart -> job requeued and
# completed, stop idle (exit 0, fast) and during a job (exit 143 at the deadline = success), and
# socket-activated restarts with zero refused connections.
# Usage: real_systemd_test.sh VPO_BINARY REPO_ROOT. Exit 77 (skipped) only where systemd-nspawn
# cannot run (not root, not installed, the container does not boot); VPO_REQUIRE_SYSTEMD_TEST=1
# (CI) turns that into a failure.
set -uo pipefail
binary=$(readlink -f "$1")
root=$(readlink -f "$2")

skip() {
  echo "SKIPPED: the real-systemd test cannot run here: $*" >&2
  [[ ${VPO_REQUIRE_SYSTEMD_TEST:-0} == 1 ]] && { echo "VPO_REQUIRE_SYSTEMD_TEST=1: failing" >&2; exit 1; }
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "systemd-nspawn needs root"
command -v systemd-nspawn >/dev/null ||
  skip "systemd-nspawn is missing (scripts/ensure-deps.sh installs systemd-container)"
command -v curl >/dev/null || skip "curl is missing (scripts/ensure-deps.sh installs it)"

work=$(mktemp -d /tmp/vpo-systemd.XXXXXX)
machine="vpotest$$"
cgroup="vpo-systemd-test-$$"
nspawn_pid=""
failures=0

cleanup() {
  if [[ -n $nspawn_pid ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" 2>/dev/null  # nspawn halts the container cleanly
    for _ in $(seq 1 200); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn_pid" 2>/dev/null
  fi
  umount "$work/media" 2>/dev/null
  rm -rf "$work"
  for h in systemd unified; do rmdir "/sys/fs/cgroup/$h/$cgroup" 2>/dev/null; done
  return 0
}
trap cleanup EXIT

ok() { echo "ok   [${SECONDS}s] $*"; }
bad() { echo "FAIL [${SECONDS}s] $*"; failures=$((failures + 1)); }
check() {  # check "what" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
# wait_until SECONDS command...: polls every 0.1 s until the command succeeds or time is up.
wait_until() {
  local end=$((SECONDS + $1)); shift
  while ((SECONDS < end)); do "$@" && return 0; sleep 0.1; done
  "$@"
}

# ---- the payload: what an operator installs (docs/systemd.md) --------------------------------
mkdir -p "$work"/{preset,bin,payload,media}
# The library on a tmpfs of its own: 300,000 files take ~5 s there (minutes on some disks).
mount -t tmpfs -o size=64m,nr_inodes=400k,mode=0755 vpo-test-media "$work/media" ||
  skip "cannot mount a tmpfs for the test library"
echo 'disable *' >"$work/preset/99-vpo-test.preset"
cp "$binary" "$work/bin/vpo"
cp "$root"/contrib/systemd/{vpo.service,vpo.socket,config.toml} "$work/payload/"
echo 'u vpo - "Video Policy Orchestrator daemon" /var/lib/vpo' >"$work/payload/vpo-sysusers.conf"
# A library big enough that a scan is still running when it is interrupted: 300,000 files.
(cd "$work/media" && for d in $(seq -w 0 299); do
  mkdir "d$d" && (cd "d$d" && touch f{000..999}.mkv)
done)

# ---- boot ---------------------------------------------------------------------------------
(
  # A cgroup of its own, so parallel runs do not collide (the host's layout is hybrid).
  for h in systemd unified; do
    mkdir -p "/sys/fs/cgroup/$h/$cgroup" && echo "$BASHPID" >"/sys/fs/cgroup/$h/$cgroup/cgroup.procs"
  done
  exec timeout --foreground -k 20 600 systemd-nspawn -D / --volatile=yes --register=no \
    --keep-unit --private-network -M "$machine" --console=read-only \
    --bind-ro="$work/preset:/etc/systemd/system-preset" --bind-ro="$work/bin:/usr/local/bin" \
    --bind-ro="$work/payload:/run/payload" --bind-ro="$work/media:/srv/media" \
    -b -- systemd.firstboot=off systemd.mask=systemd-networkd-wait-online.service
) >"$work/console.log" 2>&1 &
nspawn_pid=$!

pid1=""
find_pid1() {  # the container's systemd: a descendant of nspawn named systemd
  local p
  for p in $(pgrep -P "$nspawn_pid") $(pgrep -P "$(pgrep -P "$nspawn_pid" | tr '\n' ',' | sed 's/,$//')" 2>/dev/null); do
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == systemd ]] && { pid1=$p; return 0; }
  done
  return 1
}
wait_until 30 find_pid1 || { tail -20 "$work/console.log" >&2; skip "the container did not boot"; }
ct() { nsenter -t "$pid1" -a -- "$@"; }
booted() { [[ $(ct systemctl is-system-running 2>/dev/null) =~ ^(running|degraded)$ ]]; }
wait_until 60 booted || { tail -20 "$work/console.log" >&2; skip "systemd in the container did not reach running"; }
ok "booted systemd $(ct systemctl --version | head -1 | cut -d' ' -f2) as PID 1 in a container"

# ---- helpers that act as the operator ------------------------------------------------------
curl_ct() { ct curl -s --max-time 10 "$@"; }
health() { curl_ct http://127.0.0.1:8321/health; }
healthy() { health | grep -q '"status":"healthy"'; }
prop() { ct systemctl show -p "$1" --value vpo; }
main_pid() { prop MainPID; }
journal() { ct journalctl -u vpo --no-pager -o cat "$@"; }
journal_has() { local needle=$1; shift; journal "$@" | grep -qF -- "$needle"; }
submit_scan() {
  curl_ct -X POST -H 'Content-Type: application/json' -d '{"type":"scan","path":"/srv/media"}' \
    http://127.0.0.1:8321/api/jobs | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'
}
job_is() { curl_ct "http://127.0.0.1:8321/api/jobs/$1" | grep -q "\"status\":\"$2\""; }
set_config() { ct sed -i "$1" /etc/vpo/config.toml; }
drop_in() {  # drop_in NAME CONTENT: a drop-in as `systemctl edit` makes, then daemon-reload
  ct mkdir -p /etc/systemd/system/vpo.service.d
  printf '[Service]\n%s\n' "$2" | ct tee "/etc/systemd/system/vpo.service.d/$1.conf" >/dev/null
  ct systemctl daemon-reload
}

# ---- 1. install as docs/systemd.md says -----------------------------------------------------
ct sh -ec 'mkdir -p /etc/sysusers.d /etc/vpo
  cp /run/payload/vpo-sysusers.conf /etc/sysusers.d/vpo.conf && systemd-sysusers
  cp /run/payload/config.toml /etc/vpo/config.toml
  cp /run/payload/vpo.service /run/payload/vpo.socket /etc/systemd/system/
  systemctl daemon-reload' || bad "install"
if [[ ${VPO_SANITIZED:-0} == 1 ]]; then
  # The ASan build (make sanitize): LeakSanitizer stops the process's threads with ptrace at exit,
  # which the unit's system-call filter forbids, and it would then exit 1. Leaks are checked by
  # every other test of that run; here the exit codes are what is tested.
  drop_in 00-sanitizer "Environment=ASAN_OPTIONS=detect_leaks=0"
fi
check "systemd-analyze verify vpo.service vpo.socket" \
  ct systemd-analyze verify /etc/systemd/system/vpo.service /etc/systemd/system/vpo.socket

# ---- 2. start: systemctl returns after READY=1 -----------------------------------------------
check "systemctl enable --now vpo" ct systemctl enable --now vpo
check "active and healthy as soon as systemctl start returns (Type=notify, READY=1)" healthy
check "status text: serving: 0 running, 0 queued" \
  test "$(prop StatusText)" = "serving: 0 running, 0 queued"
check "journald records are native: VPO_LOGGER and PRIORITY fields" \
  journal_has '"message":"ready"' VPO_LOGGER=vpo.supervisor PRIORITY=6
check "no network-online.target wait" \
  test "$(ct systemctl show -p Wants --value vpo | grep -c network-online)" = 0

# ---- 3. reload -----------------------------------------------------------------------------
set_config 's/^level = .*/level = "debug"/'
check "systemctl reload vpo" ct systemctl reload vpo
reload_counted() { health | grep -q '"config_reload_count":1'; }
check "the reload applied when systemctl reload returned (config_reload_count 1)" reload_counted
check "the new log level is live (a debug record in the journal)" \
  wait_until 5 journal_has '"level":"debug"' PRIORITY=7
ct cp /etc/vpo/config.toml /run/config.good
set_config 's/^workers = .*/workers = "many"/'
check "systemctl reload with an invalid file" ct systemctl reload vpo
check "the invalid file is reported at ERROR (journalctl -p err)" \
  wait_until 5 journal_has 'config reload failed' -p err
kept_out() {
  local h; h=$(health)
  grep -q '"status":"healthy"' <<<"$h" && grep -q '"config_reload_error":"' <<<"$h" &&
    grep -q '"workers":2' <<<"$h"
}
check "the invalid file is kept out: still active, healthy, config_reload_error set" kept_out
ct cp /run/config.good /etc/vpo/config.toml
ct systemctl reload vpo

# ---- 4. the stop-timeout warning ------------------------------------------------------------
drop_in 10-short-stop "TimeoutStopSec=5"
ct systemctl restart vpo
check "a stop timeout shorter than shutdown_timeout + 2 s is warned about at start" \
  wait_until 5 journal_has 'shorter than server.shutdown_timeout + 2 s' -p warning
ct rm /etc/systemd/system/vpo.service.d/10-short-stop.conf
ct systemctl daemon-reload

# ---- 5. the watchdog restarts a frozen daemon -------------------------------------------------
drop_in 20-fast-watchdog "WatchdogSec=2"
ct systemctl restart vpo
frozen=$(main_pid)
restarts=$(prop NRestarts)
ct kill -STOP "$frozen"
new_main() { local p; p=$(main_pid); [[ $p != 0 && $p != "$frozen" ]] && healthy; }
check "a frozen daemon (SIGSTOP) is killed by the watchdog and restarted" wait_until 30 new_main
watchdog_named() { ct journalctl -u vpo --no-pager | grep -qi 'watchdog timeout'; }
check "systemd names the watchdog as the reason" wait_until 5 watchdog_named ||
  ct journalctl -u vpo --no-pager | grep -i -B2 -A2 'watchdog\|SIGABRT\|core' | tail -20
check "the restart is counted (NRestarts)" test "$(prop NRestarts)" -gt "$restarts"

# ---- 6. a scan's records by JOB_ID -----------------------------------------------------------
id=$(submit_scan)
check "a scan is accepted" test -n "$id"
check "the scan of 300,000 files completes" wait_until 60 job_is "$id" completed
check "journalctl -u vpo JOB_ID=<id> finds the job's records" \
  wait_until 5 journal_has '"message":"job completed"' "JOB_ID=$id"

# ---- 7. SIGKILL mid-scan: restarted, the job requeued and completed -----------------------------
killed=$(main_pid)
id=$(submit_scan)
check "a second scan starts" wait_until 10 job_is "$id" running
ct systemctl kill -s SIGKILL vpo
gone() { local p; p=$(main_pid); [[ $p != 0 && $p != "$killed" ]]; }
check "after SIGKILL, Restart=on-failure starts vpo again" wait_until 20 gone
check "the interrupted job is requeued at the next start and completes" \
  wait_until 60 job_is "$id" completed
story() { journal_has 'put back to queued' "JOB_ID=$id" && journal_has 'job completed' "JOB_ID=$id"; }
check "the journal tells that job's story (put back to queued, completed)" wait_until 5 story

# ---- 8. stop, idle: exit 0, fast ----------------------------------------------------------------
start=$(date +%s%N)
ct systemctl stop vpo
took_ms=$((($(date +%s%N) - start) / 1000000))
status=$(prop ExecMainStatus)
check "idle stop: exit 0 (ExecMainStatus $status)" test "$status" = 0
check "idle stop took ${took_ms} ms (< 2000)" test "$took_ms" -lt 2000
check "idle stop: Result=success" test "$(prop Result)" = success

# ---- 9. stop during a job: drain, then 143 at the deadline, a success ------------------------------
set_config 's/^shutdown_timeout = .*/shutdown_timeout = 0.1/'
ct systemctl start vpo
id=$(submit_scan)
check "a scan runs before the stop" wait_until 10 job_is "$id" running
ct systemctl stop vpo
status=$(prop ExecMainStatus)
check "stop during a job: exit 143 at the deadline (ExecMainStatus $status)" test "$status" = 143
check "stop during a job: counted as a success (SuccessExitStatus=143)" \
  test "$(prop Result)" = success
check "the summary names the requeued job" \
  wait_until 5 journal_has '"jobs_requeued":1' -p warning
set_config 's/^shutdown_timeout = .*/shutdown_timeout = 30/'

# ---- 10. socket activation: restarts refuse no connection -----------------------------------------
ct systemctl enable --now vpo.socket
ct systemctl start vpo
check "vpo serves on the socket systemd passes" \
  wait_until 5 journal_has 'socket activation' VPO_LOGGER=vpo.http
ct sh -c 'rm -f /run/loop.stop /run/loop.out
  while [ ! -e /run/loop.stop ]; do
    curl -s -o /dev/null --max-time 10 -w "%{http_code} %{exitcode}\n" http://127.0.0.1:8321/health >>/run/loop.out
  done' &
loop=$!
lines() { ct sh -c 'wc -l </run/loop.out 2>/dev/null || echo 0'; }
at_least() { (($(lines) >= $1)); }
wait_until 10 at_least 20
before=$(lines)
pids="$(main_pid)"
for _ in 1 2 3; do ct systemctl restart vpo; pids="$pids $(main_pid)"; done
wait_until 10 at_least $((before + 200))
ct touch /run/loop.stop
wait "$loop"
total=$(lines)
refused=$(ct grep -c "^000 " /run/loop.out)
check "3 restarts (main pids: $pids) during $total requests: none refused or unanswered (got $refused)" \
  test "$refused" = 0 || ct sh -c 'sort /run/loop.out | uniq -c'  # curl exit 7 refused, 52 empty reply
check "the requests span the restarts" test "$total" -gt $((before + 200))

echo "---- $failures failure(s)"
if ((failures > 0)); then
  echo "---- journalctl -u vpo (last 40)"
  ct journalctl -u vpo --no-pager -n 40 -o short-precise
  exit 1
fi
