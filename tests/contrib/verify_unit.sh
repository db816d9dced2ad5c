#!/usr/bin/env bash
# verify_unit.sh: `systemd-analyze verify` on contrib/systemd/vpo.service and vpo.socket, with
# ExecStart pointed at the freshly built binary (verify needs the executable to exist).
set -euo pipefail
binary=$1
unit_dir=$(mktemp -d)
trap 'rm -rf "$unit_dir"' EXIT
src="$(dirname "$0")/../../contrib/systemd"
sed "s|/usr/local/bin/vpo|$binary|" "$src/vpo.service" >"$unit_dir/vpo.service"
cp "$src/vpo.socket" "$unit_dir/vpo.socket"
out=$(systemd-analyze verify "$unit_dir/vpo.service" "$unit_dir/vpo.socket" 2>&1) ||
  { echo "$out"; exit 1; }
# verify also prints warnings without failing: treat any output about our units as a failure.
if grep -q "vpo\.\(service\|socket\)" <<<"$out"; then echo "$out"; exit 1; fi
echo "vpo.service and vpo.socket verified"
