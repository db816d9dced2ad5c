#!/usr/bin/env bash
# check_contrib.sh: the deployment examples agree with the daemon: probe paths it serves, grace
# periods longer than shutdown_timeout + 2 s, JSON logs, an auth token wherever the bind is public.
set -euo pipefail
root="$(dirname "$0")/../.."
fail() { echo "contrib check failed: $*" >&2; exit 1; }

k8s="$root/contrib/kubernetes/vpo.yaml"
grep -q 'path: /livez' "$k8s" || fail "kubernetes liveness probe must use /livez"
grep -q 'path: /readyz' "$k8s" || fail "kubernetes readiness probe must use /readyz"
grace=$(sed -n 's/.*terminationGracePeriodSeconds: *\([0-9]*\).*/\1/p' "$k8s")
timeout=$(sed -n 's/.*shutdown_timeout = *\([0-9]*\).*/\1/p' "$k8s")
(( grace > timeout + 2 )) || fail "terminationGracePeriodSeconds ($grace) <= shutdown_timeout + 2 ($timeout + 2)"
grep -q 'bind = "0.0.0.0"' "$k8s" && { grep -q 'VPO_AUTH_TOKEN' "$k8s" || fail "public bind without VPO_AUTH_TOKEN"; }
grep -q 'format = "json"' "$k8s" || fail "kubernetes config should log JSON"
# Complete: everything it references is defined in it, and it parses as YAML.
/usr/bin/python3 - "$k8s" "$root/contrib/loki/promtail.yaml" <<'PY' || fail "kubernetes/promtail YAML"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
for need in [("Secret", "vpo-auth"), ("PersistentVolumeClaim", "vpo-data"),
             ("ConfigMap", "vpo-config"), ("Deployment", "vpo"), ("Service", "vpo")]:
    assert need in kinds, f"missing {need}"
pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
c = pod["containers"][0]
assert c["livenessProbe"]["httpGet"]["path"] == "/livez"
assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
refs = {v["secretKeyRef"]["name"] for e in c.get("env", []) for v in [e.get("valueFrom", {})] if "secretKeyRef" in v}
refs |= {v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
refs |= {v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v}
names = {n for _, n in kinds}
assert refs <= names, f"references {refs - names} that the file does not define"
yaml.safe_load(open(sys.argv[2]))
PY

unit="$root/contrib/systemd/vpo.service"
service_config="$root/contrib/systemd/config.toml"
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)/\1/p' "$unit")
svc_timeout=$(sed -n 's/^shutdown_timeout = *\([0-9]*\).*/\1/p' "$service_config")
(( stop > svc_timeout + 2 )) || fail "TimeoutStopSec ($stop) must exceed shutdown_timeout + 2 ($svc_timeout + 2)"
# The unit and the config it reads agree on the log format: the file sets it, the unit does not
# override it (an env value would lose to the file anyway).
grep -q '^format = "json"' "$service_config" || fail "the service config should log JSON"
grep -q 'VPO_LOG_FORMAT' "$unit" && fail "the unit sets VPO_LOG_FORMAT, which the config file overrides"
grep -q 'network-online' <(grep -v '^#' "$unit") && fail "the unit waits for network-online.target (loopback bind)"
grep -q '^ExecReload=/bin/kill -HUP $MAINPID' "$unit" || fail "the unit has no ExecReload sending SIGHUP"
# vpo.socket listens where the service config says vpo listens.
bind=$(sed -n 's/^bind = "\(.*\)".*/\1/p' "$service_config")
port=$(sed -n 's/^port = *\([0-9]*\).*/\1/p' "$service_config")
grep -qx "ListenStream=$bind:$port" "$root/contrib/systemd/vpo.socket" ||
  fail "vpo.socket does not listen on $bind:$port (server.bind/port of the service config)"

# Both log pipelines read the fields vpo writes (the ELK file's JSON validity is checked by the
# integration test "the ELK ingest pipeline is valid JSON").
for field in timestamp level logger; do
  grep -q "vpo.$field" "$root/contrib/elk/vpo-ingest-pipeline.json" || fail "ELK pipeline misses $field"
  grep -q "$field: $field" "$root/contrib/loki/promtail.yaml" || fail "promtail pipeline misses $field"
  grep -q "$field *= \"$field\"" "$root/contrib/loki/vpo.alloy" || fail "Alloy pipeline misses $field"
done
echo "contrib examples agree with the daemon"
