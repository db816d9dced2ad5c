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

unit="$root/contrib/systemd/vpo.service"
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)/\1/p' "$unit")
(( stop > 30 + 2 )) || fail "TimeoutStopSec ($stop) must exceed the default shutdown_timeout + 2"

# Both log pipelines read the fields vpo writes (the ELK file's JSON validity is checked by the
# integration test "the ELK ingest pipeline is valid JSON").
for field in timestamp level logger; do
  grep -q "vpo.$field" "$root/contrib/elk/vpo-ingest-pipeline.json" || fail "ELK pipeline misses $field"
  grep -q "$field: $field" "$root/contrib/loki/promtail.yaml" || fail "promtail pipeline misses $field"
done
echo "contrib examples agree with the daemon"
