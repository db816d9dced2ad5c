#!/usr/bin/env bash
# Builds CAF 0.17.6 (the version Debian 12 ships) with ThreadSanitizer, once, into a cache outside
# the checkout, and prints its prefix. Debian's libcaf is not instrumented: a TSan run of vpo on
# it cannot see the actor messaging and reports races inside CAF. The source is Debian's own
# (apt-get source actor-framework: ensure-deps.sh tsan adds a deb-src entry).
# Usage: scripts/build-caf-tsan.sh   (env: VPO_CACHE_DIR, default ~/.cache/vpo)
set -euo pipefail
cache=${VPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vpo}
prefix="$cache/caf-0.17.6-tsan"
if [[ -f "$prefix/.complete" ]]; then
  echo "$prefix"
  exit 0
fi
work="$cache/caf-src"
rm -rf "$work" "$prefix"
mkdir -p "$work"
(
  cd "$work"
  # The orig tarball is the upstream 0.17.6 release; Debian's patches only touch packaging.
  apt-get source --download-only actor-framework >&2 || true
  tarball=$(ls actor-framework_0.17.6.orig.tar.gz)
  tar xzf "$tarball"
  cd actor-framework-0.17.6
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCAF_NO_IO=yes -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_OPENSSL=yes \
    -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes -DCAF_NO_SUMMARY=yes \
    -DCAF_NO_COMPILER_CHECK=yes -DCMAKE_CXX_FLAGS="-fsanitize=thread -g -O1" >&2
  cmake --build build -j "${JOBS:-2}" >&2
  cmake --install build >&2
)
rm -rf "$work"
touch "$prefix/.complete"
echo "$prefix"
