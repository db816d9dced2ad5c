#!/usr/bin/env bash
# check_install.sh: `cmake --install` (into a DESTDIR) places what contract §8 lists, and the
# installed unit names the installed binary and config file.
set -euo pipefail
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR="$dest" cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
unitdir=$(sed -n 's/^VPO_SYSTEMD_UNIT_DIR:PATH=//p' "$build/CMakeCache.txt")
sysusers=$(sed -n 's/^VPO_SYSUSERS_DIR:PATH=//p' "$build/CMakeCache.txt")
if [[ -z $unitdir ]]; then  # derived from the prefix, as cmake/install.cmake does
  if [[ $prefix == /usr ]]; then unitdir=$(pkg-config --variable=systemdsystemunitdir systemd); else unitdir=/etc/systemd/system; fi
fi
if [[ -z $sysusers ]]; then
  if [[ $prefix == /usr ]]; then sysusers=$(pkg-config --variable=sysusersdir systemd); else sysusers=/etc/sysusers.d; fi
fi
etc=$([[ $prefix == /usr ]] && echo /etc || echo "$prefix/etc")
fail() { echo "install check failed: $*" >&2; exit 1; }
for f in "$prefix/bin/vpo" "$unitdir/vpo.service" "$unitdir/vpo.socket" "$sysusers/vpo.conf" \
  "$etc/vpo/config.toml" "$prefix/share/man/man1/vpo.1.gz" \
  "$prefix/share/bash-completion/completions/vpo" "$prefix/share/doc/vpo/systemd.md" \
  "$prefix/share/doc/vpo/examples/vpo.example.toml"; do
  [[ -e $dest$f ]] || fail "$f is missing"
done
[[ -x $dest$prefix/bin/vpo ]] || fail "$prefix/bin/vpo is not executable"
grep -qx "ExecStart=$prefix/bin/vpo serve --config $etc/vpo/config.toml" "$dest$unitdir/vpo.service" ||
  fail "the installed unit does not start $prefix/bin/vpo with $etc/vpo/config.toml"
"$dest$prefix/bin/vpo" serve --check --config "$dest$etc/vpo/config.toml" >/dev/null ||
  fail "the installed config does not pass --check"
zcat "$dest$prefix/share/man/man1/vpo.1.gz" | grep -q -- 'shutdown.-timeout' ||
  fail "vpo(1) does not document the options"
bash -n "$dest$prefix/share/bash-completion/completions/vpo" || fail "bash completion: syntax"
# Every command and every option the binary documents is completed and in vpo(1).
completion="$dest$prefix/share/bash-completion/completions/vpo"
man=$(zcat "$dest$prefix/share/man/man1/vpo.1.gz")
for cmd in serve status "jobs list" "jobs show" "jobs cancel" "jobs retry" scan files; do
  for word in $cmd; do grep -qw -- "$word" "$completion" || fail "completion lacks '$word'"; done
  grep -q -- "vpo ${cmd// /\\? }" <<<"$man" || fail "vpo(1) does not cover 'vpo $cmd'"
  # shellcheck disable=SC2086
  for opt in $("$dest$prefix/bin/vpo" $cmd --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
    grep -q -- "$opt" "$completion" || fail "completion lacks $opt of 'vpo $cmd'"
  done
done
echo "cmake --install places every file of contract §8 under $prefix"
