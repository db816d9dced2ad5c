#!/usr/bin/env bash
# Installs the Debian 12 packages vpo needs to build and test; prints the apt-get line when not root.
# Usage: scripts/ensure-deps.sh [build|bench|fuzz|tsan]
# tsan also adds a deb-src entry for Debian 12 (apt-get source of CAF, built with TSan).
set -euo pipefail

build_pkgs=(g++ cmake ninja-build pkg-config ccache
  libcaf-dev libboost-dev libtomlplusplus-dev libspdlog-dev libfmt-dev catch2
  libsqlite3-dev libsystemd-dev nlohmann-json3-dev libcli11-dev systemd
  systemd-container dbus curl mmdebstrap  # the real-systemd test: nspawn, its bus, a client, a rootfs
  dpkg-dev help2man  # make package: dpkg-shlibdeps; the man page
  prometheus  # promtool check metrics, and a real Prometheus scraping vpo (tests only)
  python3-yaml)  # tests/contrib/check_contrib.sh: the Kubernetes and Promtail YAML
bench_pkgs=(wrk nginx-light curl nghttp2-client)
fuzz_pkgs=(clang-14 libclang-rt-14-dev llvm-14)
tsan_pkgs=(dpkg-dev)  # apt-get source

case "${1:-build}" in
  build) wanted=("${build_pkgs[@]}") ;;
  bench) wanted=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
  fuzz) wanted=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  tsan) wanted=("${build_pkgs[@]}" "${tsan_pkgs[@]}") ;;
  *) echo "usage: $0 [build|bench|fuzz|tsan]" >&2; exit 2 ;;
esac

# The TSan build of CAF starts from Debian's own source package: it needs a deb-src entry.
src_list=/etc/apt/sources.list.d/vpo-deb-src.sources
if [[ "${1:-build}" == tsan && ! -f "$src_list" ]] &&
   ! grep -rqs "^Types:.*deb-src\|^deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "vpo: make tsan needs Debian 12 source packages: add a deb-src entry as root, e.g." >&2
    echo "  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > $src_list && apt-get update" >&2
    exit 1
  fi
  echo "vpo: adding a deb-src entry for Debian 12 ($src_list)" >&2
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$src_list"
  apt-get update -qq
fi

missing=()
for p in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "vpo: missing Debian packages: ${missing[*]}" >&2
  echo "vpo: install them as root, then re-run:" >&2
  echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "vpo: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Packages with a service (prometheus) must not start it here: the tests run their own, on
# loopback, and a host without systemd would start it through its init script. policy-rc.d
# (invoke-rc.d's veto) for the time of the install, unless the machine has one already.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
