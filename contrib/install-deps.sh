#!/bin/sh
# Installs the Debian 12 packages flexfs needs to build, run and be tested.
# Used by the README's first command and by .ci/run; safe to run again.
set -eu
BUILD_PKGS="build-essential autoconf automake libtool pkg-config rpcsvc-proto \
  libtirpc-dev libfuse3-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libdb-dev \
  libnfs-dev check"
RUN_PKGS="fuse3 libnfs-utils rpcbind ca-certificates"
TEST_PKGS="fio attr acl util-linux coreutils tar findutils procps psmisc python3"
# npm (for the test S3 server) may come with a nodejs that is not Debian's; take Debian's only
# when there is none.
command -v npm >/dev/null 2>&1 || TEST_PKGS="$TEST_PKGS nodejs npm"
want=""
[ -n "${FLEXFS_NO_TESTS:-}" ] && TEST_PKGS=""
for p in $BUILD_PKGS $RUN_PKGS $TEST_PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || want="$want $p"
done
if [ -n "$want" ]; then
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends $want
fi
