#!/usr/bin/env bash
# probe_latency.sh: /health latency (wrk --latency, one thread) while vpo is idle, while scans
# run back to back (--workers 1, a tree of 400,000 files), and while another process holds the
# database's write lock (issue 12: p99 unchanged): a paced prober (one keep-alive connection, a
# probe every 5 ms, timed by a Python client), and wrk floods on 1 and 64 connections.
# The tree is bench/jobs_bench.sh's (/tmp/vpo-bench-tree-400000), made here if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j 2 --target vpo >/dev/null
exec /usr/bin/python3 - "$build/vpo" <<'PY'
import json, os, re, shutil, sqlite3, subprocess, sys, tempfile, threading, time, urllib.request

vpo = os.path.abspath(sys.argv[1])
tree = "/tmp/vpo-bench-tree-400000"
if not os.path.isdir(tree):
    tmp = tree + ".part"
    shutil.rmtree(tmp, ignore_errors=True)
    for d in range(400):
        folder = os.path.join(tmp, "d%03d" % d)
        os.makedirs(folder)
        for f in range(1000):
            os.close(os.open(os.path.join(folder, "f%04d.mkv" % f), os.O_CREAT | os.O_WRONLY, 0o644))
    os.rename(tmp, tree)

home = tempfile.mkdtemp(prefix="vpo-probe-latency-")
port = 18485
url = "http://127.0.0.1:%d" % port
log = open(os.path.join(home, "vpo.log"), "w")
proc = subprocess.Popen([vpo, "serve", "--port", str(port), "--workers", "1", "--log-level",
                         "warning"], env=dict(os.environ, HOME=home,
                                              VPO_SERVER_RATE_LIMIT_ENABLED="false"),
                        stderr=log)

def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)

try:
    for _ in range(500):
        try:
            call("GET", "/api/library")
            break
        except Exception:
            if proc.poll() is not None:
                sys.exit("vpo did not start: see " + log.name)
            time.sleep(0.02)

    def wrk(conns):
        out = subprocess.run(["wrk", "-t1", "-c%d" % conns, "-d5s", "--latency", url + "/health"],
                             capture_output=True, text=True, check=True).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        def pct(p):
            m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)\b" % p, out)
            v = float(m.group(1))
            return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
        return rate, pct("50"), pct("99")

    def paced(seconds=5.0, every=0.005):
        # An operator's prober: one keep-alive connection, a probe every 5 ms, each timed.
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        lat = []
        end = time.monotonic() + seconds
        nxt = time.monotonic()
        while time.monotonic() < end:
            t0 = time.perf_counter()
            conn.request("GET", "/health")
            conn.getresponse().read()
            lat.append((time.perf_counter() - t0) * 1000)
            nxt += every
            time.sleep(max(0.0, nxt - time.monotonic()))
        conn.close()
        lat.sort()
        return len(lat) / seconds, lat[len(lat) // 2], lat[int(len(lat) * 0.99)]

    rows = []
    def measure(label):
        rate, p50, p99 = paced()
        rows.append((label, "paced 200/s", rate, p50, p99))
        for c in (1, 64):
            rate, p50, p99 = wrk(c)
            rows.append((label, "wrk c=%d" % c, rate, p50, p99))

    measure("idle")

    stop = threading.Event()
    scans = [0]
    def scanning():
        while not stop.is_set():
            job = call("POST", "/api/jobs", {"type": "scan", "path": tree})
            while not stop.is_set():
                j = call("GET", "/api/jobs/" + job["id"])
                if j["status"] not in ("queued", "running"):
                    scans[0] += 1
                    break
                time.sleep(0.05)
    t = threading.Thread(target=scanning)
    t.start()
    time.sleep(0.5)
    measure("scans back to back")
    stop.set()
    t.join()

    db = sqlite3.connect(os.path.join(home, ".vpo", "library.db"), timeout=10,
                         isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    time.sleep(1.5)  # db_health notices (degraded 503 is the contract's answer then)
    measure("another process holds the write lock")
    db.execute("ROLLBACK")
    db.close()

    print("## /health latency under other load (%s, %d cores; wrk -t1 -d5s --latency)"
          % (time.strftime("%Y-%m-%d", time.gmtime()), os.cpu_count()))
    print("| while | load | req/s | p50 ms | p99 ms | p99 vs idle |")
    print("|---|---:|---:|---:|---:|---:|")
    idle = {c: p99 for (label, c, _, _, p99) in rows if label == "idle"}
    for label, c, rate, p50, p99 in rows:
        print("| %s | %s | %.0f | %.2f | %.2f | %.2fx |" % (label, c, rate, p50, p99, p99 / idle[c]))
    print("(%d scans of 400,000 files completed during the scan rows)" % scans[0])
finally:
    proc.terminate()
    proc.wait(timeout=40)
    shutil.rmtree(home, ignore_errors=True)
PY
