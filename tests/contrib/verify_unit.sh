#!/usr/bin/env bash
# verify_unit.sh: `systemd-analyze verify` on contrib/systemd/vpo.service and vpo.socket, with
# ExecStart pointed at the freshly built binary (verify needs the executable to exist), and
# `systemd-analyze security --offline=yes`: the unit's exposure must be at most 2.0.
set -euo pipefail
binary=$1
unit_dir=$(mktemp -d)
trap 'rm -rf "$unit_dir"' EXIT
src="$(dirname "$0")/../../contrib/systemd"
sed "s|/usr/bin/vpo|$binary|" "$src/vpo.service" >"$unit_dir/vpo.service"
cp "$src/vpo.socket" "$unit_dir/vpo.socket"
out=$(systemd-analyze verify "$unit_dir/vpo.service" "$unit_dir/vpo.socket" 2>&1) ||
  { echo "$out"; exit 1; }
# verify also prints warnings without failing: treat any output about our units as a failure.
if grep -q "vpo\.\(service\|socket\)" <<<"$out"; then echo "$out"; exit 1; fi
# The sandbox: exposure at most 2.0 ("OK") by systemd's own rating (contract §8).
score=$(systemd-analyze security --offline=yes "$unit_dir/vpo.service" 2>&1 |
  sed -n 's/.*Overall exposure level for vpo.service: \([0-9.]*\).*/\1/p')
[[ -n $score ]] || { echo "systemd-analyze security gave no exposure level"; exit 1; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
  { echo "vpo.service exposure $score > 2.0"; exit 1; }
echo "vpo.service and vpo.socket verified; exposure $score (at most 2.0)"
