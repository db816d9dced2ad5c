#!/usr/bin/env bash
# verify_unit.sh: `systemd-analyze verify` on contrib/systemd/vpo.service, with ExecStart
# pointed at the freshly built binary (verify needs the executable to exist).
set -euo pipefail
binary=$1
unit_dir=$(mktemp -d)
trap 'rm -rf "$unit_dir"' EXIT
sed "s|/usr/local/bin/vpo|$binary|" "$(dirname "$0")/../../contrib/systemd/vpo.service" \
  >"$unit_dir/vpo.service"
out=$(systemd-analyze verify "$unit_dir/vpo.service" 2>&1) || { echo "$out"; exit 1; }
# verify also prints warnings without failing: treat any output about our unit as a failure.
if grep -q "vpo.service" <<<"$out"; then echo "$out"; exit 1; fi
echo "vpo.service verified"
