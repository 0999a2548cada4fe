#!/bin/sh
# setup.sh - installs what the benchmark (tests/bench/run.sh) compares
# flexfs with: fio, s3fs-fuse, rclone and nfs-ganesha with its VFS backend,
# from Debian's packages, when they are missing.  Services the packages
# would start are not started (the bench starts its own by PID).
# Idempotent; prints nothing when everything is there.  Exit status 0 when
# every package is installed, 1 otherwise (the bench then shows the systems
# that lack one as "n/a").
set -u

want="fio s3fs rclone nfs-ganesha nfs-ganesha-vfs"
missing=
for p in $want; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    missing="$missing $p"
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: need root to install:$missing" >&2
  exit 1
fi
echo "setup.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Keep the packages' init scripts from starting daemons (ganesha, rpcbind):
# a policy-rc.d that refuses, unless the machine already has one.
prc=/usr/sbin/policy-rc.d
made_prc=
if [ ! -e "$prc" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$prc" && chmod 755 "$prc" && made_prc=1
fi
rc=0
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2 ||
  { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends $missing >&2; } ||
  rc=1
[ -z "$made_prc" ] || rm -f "$prc"
exit $rc
