#!/bin/sh
# The whole test suite from a fresh checkout on Debian 12: installs what the
# build and the tests need, builds with warnings as errors, installs the
# test-only S3 server, and runs `make check`.  .ci/run calls exactly this.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/install-deps.sh
[ -x configure ] || ./autogen.sh
build=${FLEXFS_BUILD_DIR:-$top/build}
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" --enable-werror
make -j"$(nproc)"
if [ -x "$top/tests/s3/setup.sh" ]; then
  "$top/tests/s3/setup.sh"
fi
make -j"$(nproc)" check || {
  echo "== failed tests:"
  for f in $(find . -name '*.log' -path '*tests*'); do
    if grep -q '^:test-result: FAIL' "${f%.log}.trs" 2>/dev/null; then
      echo "==== $f"; tail -n 80 "$f"
    fi
  done
  exit 1
}
