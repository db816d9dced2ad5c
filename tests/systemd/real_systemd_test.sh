#!/usr/bin/env bash
# real_systemd_test.sh: vpo under a real systemd 252 (PID 1 in a container, systemd-nspawn;
# ../shared/notes/systemd-container.md) in a clean Debian 12 root file system (mmdebstrap, cached
# by its package list), installed from the .deb with `apt-get install ./vpo_*.deb` as
# docs/systemd.md tells an operator, and checked with systemctl, journalctl and curl only:
# verify, start (READY=1), status text, reload (applied; an invalid file kept out), the
# stop-timeout warning, the watchdog restarting a frozen daemon, `journalctl JOB_ID=`, SIGKILL ->
# restart -> job requeued and completed, stop idle (exit 0, fast) and during a job (exit 143 at
# the deadline = success), socket-activated restarts with zero refused connections, removal and
# purge.
# Usage: real_systemd_test.sh BUILD_DIR REPO_ROOT (BUILD_DIR: a configured and built tree; the
# .deb is made from it with cpack). Exit 77 (skipped) only where the container cannot run (not
# root, no systemd-nspawn, no root file system can be made, it does not boot);
# VPO_REQUIRE_SYSTEMD_TEST=1 (CI) turns that into a failure.
set -uo pipefail
build=$(readlink -f "$1")
root=$(readlink -f "$2")

skip() {
  echo "SKIPPED: the real-systemd test cannot run here: $*" >&2
  [[ ${VPO_REQUIRE_SYSTEMD_TEST:-0} == 1 ]] && { echo "VPO_REQUIRE_SYSTEMD_TEST=1: failing" >&2; exit 1; }
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "systemd-nspawn needs root"
for tool in systemd-nspawn mmdebstrap cpack dpkg-deb; do
  command -v $tool >/dev/null || skip "$tool is missing (scripts/ensure-deps.sh installs it)"
done

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

# ---- the package --------------------------------------------------------------------------
mkdir -p "$work"/{preset,payload,media,rootfs}
cpack -G DEB -B "$work/pkg" --config "$build/CPackConfig.cmake" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; echo "FAIL cpack could not make the .deb"; exit 1; }
deb=$(ls "$work"/pkg/vpo_*.deb)
cp "$deb" "$work/payload/"
ok "made $(basename "$deb") ($(dpkg-deb -f "$deb" Depends))"

# ---- a clean Debian 12 root file system: systemd, and what the .deb says it needs ------------
# The container has no network: the .deb's dependencies are in the root file system already, so
# a library dpkg-shlibdeps missed is missing there too, and vpo then fails to start.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' | grep -v '^$')
include=$(printf '%s\n' systemd systemd-sysv dbus curl $deps | sort -u | paste -sd, -)
sources=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
  grep -v '^#' | grep -v deb-src || true)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vpo
key=$(printf '%s\n%s\n' "$include" "$sources" | sha256sum | cut -c1-16)
tarball="$cache/rootfs-bookworm-$key.tar"
if [[ ! -s $tarball ]]; then
  mkdir -p "$cache"
  echo "building the root file system once ($include) -> $tarball"
  srcfile="$work/sources.sources"
  cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'BEGIN{RS="";ORS="\n\n"} !/deb-src/' >"$srcfile"
  # (mmdebstrap picks the format from the name: the partial file ends in .tar too)
  mmdebstrap --variant=apt --include="$include" bookworm "$tarball.part.tar" "$srcfile" \
    >"$work/mmdebstrap.log" 2>&1 ||
    { tail -20 "$work/mmdebstrap.log" >&2; rm -rf "$tarball.part.tar"; skip "mmdebstrap failed (no mirror reachable?)"; }
  mv "$tarball.part.tar" "$tarball"
fi
tar -C "$work/rootfs" -xf "$tarball" || skip "cannot unpack $tarball"
ok "clean Debian 12 root file system (cached: $(basename "$tarball"))"

echo 'disable *' >"$work/preset/99-vpo-test.preset"
# The library on a tmpfs of its own: 300,000 files take ~5 s there (minutes on some disks).
mount -t tmpfs -o size=64m,nr_inodes=400k,mode=0755 vpo-test-media "$work/media" ||
  skip "cannot mount a tmpfs for the test library"
(cd "$work/media" && for d in $(seq -w 0 299); do
  mkdir "d$d" && (cd "d$d" && touch f{000..999}.mkv)
done)

# ---- boot ---------------------------------------------------------------------------------
(
  # A cgroup of its own, so parallel runs do not collide (the host's layout is hybrid).
  for h in systemd unified; do
    mkdir -p "/sys/fs/cgroup/$h/$cgroup" && echo "$BASHPID" >"/sys/fs/cgroup/$h/$cgroup/cgroup.procs"
  done
  exec timeout --foreground -k 20 600 systemd-nspawn -D "$work/rootfs" --register=no \
    --keep-unit --private-network -M "$machine" --console=read-only \
    --bind-ro="$work/preset:/etc/systemd/system-preset" \
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

# ---- 1. install as docs/systemd.md says: the .deb --------------------------------------------
check "apt-get install ./$(basename "$deb") (no network: every dependency is there)" \
  ct env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/run/payload/$(basename "$deb")"
check "the vpo system user exists (systemd-sysusers in postinst)" ct id vpo
check "/etc/vpo/config.toml is a conffile" \
  sh -c "nsenter -t $pid1 -a -- dpkg-query -W -f='\${Conffiles}' vpo | grep -q /etc/vpo/config.toml"
for f in /usr/bin/vpo /lib/systemd/system/vpo.service /lib/systemd/system/vpo.socket \
  /usr/lib/sysusers.d/vpo.conf /usr/share/man/man1/vpo.1.gz \
  /usr/share/bash-completion/completions/vpo /usr/share/doc/vpo/examples/vpo.example.toml; do
  check "installed: $f" ct test -e "$f"
done
if [[ ${VPO_SANITIZED:-0} == 1 ]]; then
  # The ASan build (make sanitize): LeakSanitizer stops the process's threads with ptrace at exit,
  # which the unit's system-call filter forbids, and it would then exit 1. Leaks are checked by
  # every other test of that run; here the exit codes are what is tested.
  drop_in 00-sanitizer "Environment=ASAN_OPTIONS=detect_leaks=0"
fi
check "systemd-analyze verify vpo.service vpo.socket" \
  ct systemd-analyze verify /lib/systemd/system/vpo.service /lib/systemd/system/vpo.socket

# This test polls jobs ten times a second: far above [server.rate_limit]'s default (120 reads a
# minute per client), which an operator's tools stay within.
printf '\n[server.rate_limit]\nget_max_requests = 100000\n' | ct tee -a /etc/vpo/config.toml >/dev/null

# ---- 2. start: systemctl returns after READY=1 -----------------------------------------------
check "systemctl enable --now vpo" ct systemctl enable --now vpo
check "active and healthy as soon as systemctl start returns (Type=notify, READY=1)" healthy
client_status() { ct vpo status --config /etc/vpo/config.toml | grep -q '^status  *healthy$'; }
check "the client: vpo status --config /etc/vpo/config.toml says healthy (exit 0)" client_status
client_jobs() { ct vpo jobs list | grep -q 'no jobs'; }
check "the client: vpo jobs list (no jobs yet)" client_jobs
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
ct systemctl kill --kill-whom=main -s SIGSTOP vpo
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
# curl's exit status: 7 refused, 52 empty reply, 56 reset, 28 timeout.
refused=$(ct grep -c "^000 7$" /run/loop.out)
unanswered=$(ct grep -c "^000 " /run/loop.out)
check "3 restarts (main pids: $pids) during $total requests: none refused (got $refused)" \
  test "$refused" = 0
# Not failed on: a connection the old process accepted at the very moment its drain began,
# before the request reached it, is closed unanswered (rare, under load; docs/systemd.md).
echo "info $unanswered of $total requests unanswered (closed by the old process's drain)"
[[ $unanswered == 0 ]] || ct sh -c 'sort /run/loop.out | uniq -c'
check "the requests span the restarts" test "$total" -gt $((before + 200))

# ---- 11. upgrade (the same package again): a running vpo restarts, an edited config stays -------
before_upgrade=$(main_pid)
check "the edited config says level = debug" ct grep -q '^level = "debug"' /etc/vpo/config.toml
ct env DEBIAN_FRONTEND=noninteractive apt-get install --reinstall -y -q \
  "/run/payload/$(basename "$deb")" >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; bad "reinstall"; }
restarted() { local p; p=$(main_pid); [[ $p != 0 && $p != "$before_upgrade" ]] && healthy; }
check "an upgrade restarts the running vpo (drained), which serves again" wait_until 20 restarted
check "an upgrade keeps the edited /etc/vpo/config.toml" \
  ct grep -q '^level = "debug"' /etc/vpo/config.toml

# ---- 12. removal and purge ----------------------------------------------------------------------
ct env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q vpo >"$work/remove.log" 2>&1
stopped() { ! ct systemctl is-active --quiet vpo.service && ! ct systemctl is-active --quiet vpo.socket; }
check "apt-get remove stops vpo and vpo.socket" stopped
check "apt-get remove keeps /etc/vpo/config.toml and the library" \
  ct test -e /etc/vpo/config.toml -a -e /var/lib/vpo/library.db
ct env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q vpo >"$work/purge.log" 2>&1
check "apt-get purge removes /etc/vpo and /var/lib/vpo" \
  ct test ! -e /etc/vpo -a ! -e /var/lib/vpo

echo "---- $failures failure(s)"
if ((failures > 0)); then
  echo "---- journalctl -u vpo (last 40)"
  ct journalctl -u vpo --no-pager -n 40 -o short-precise
  exit 1
fi
