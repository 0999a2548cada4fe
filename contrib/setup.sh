#!/bin/sh
# One command for a fresh Debian 12 machine: installs the packages flexfs
# needs, builds and installs it, starts a gateway on the embedded default
# (metadata in /var/lib/flexfs/meta, blocks in the local directory
# /var/lib/flexfs/blocks, listening on 127.0.0.1:2049) and mounts the
# default volume at /mnt/flexfs (or $FLEXFS_MOUNTPOINT).  Run as root.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
mnt=${FLEXFS_MOUNTPOINT:-/mnt/flexfs}
listen=${FLEXFS_LISTEN:-127.0.0.1:2049}
port=${listen##*:}
state=/var/lib/flexfs

cd "$top"
sh contrib/install-deps.sh
[ -x configure ] || ./autogen.sh
mkdir -p build && cd build
[ -f Makefile ] || ../configure --prefix=/usr/local --sysconfdir=/etc
make -j"$(nproc)"
make install

mkdir -p "$state/meta" "$state/blocks" "$mnt"
if [ -f /run/flexfs-gatewayd.pid ] && kill -0 "$(cat /run/flexfs-gatewayd.pid)" 2>/dev/null; then
  echo "flexfs-gatewayd already running (pid $(cat /run/flexfs-gatewayd.pid))"
else
  /usr/local/sbin/flexfs-gatewayd --listen "$listen" --meta-dir "$state/meta" \
    --store "file://$state/blocks" --pid-file /run/flexfs-gatewayd.pid
fi
if mountpoint -q "$mnt"; then
  echo "$mnt is already mounted"
else
  mount -t flexfs "127.0.0.1:/" "$mnt" -o "port=$port"
fi
echo "flexfs is up: gateway on $listen, default volume mounted at $mnt"
echo "stop with: umount $mnt; kill \$(cat /run/flexfs-gatewayd.pid)"
