#!/bin/bash
# nfs_fuse.sh - one volume through both front ends: a file written over
# NFSv4 (libnfs) is read whole through a FUSE mount, a file written through
# the mount is read whole over NFS, and namespace changes on either side
# show on the other; locks taken either way conflict.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
API="$FLEXFS_BUILDDIR/tests/integration/nfs_api"
fx_require_root
fx_require_fuse
[ -x "$MOUNT_FLEXFS" ] || fx_skip "mount.flexfs is not built"
command -v nfs-cat >/dev/null || fx_skip "nfs-cat not found (libnfs-utils)"

fx_start_gateway gw
url() { echo "nfs://127.0.0.1/default${1-}?version=4&nfsport=$GW_PORT"; }
MNT="$T/mnt"
fx_mount gw "$MNT" "attr_timeout=0,entry_timeout=0"

# NFS -> FUSE: 2.5 MB in 2 KiB NFS writes, read through the mount.
fx_check "NFS write" "$API" "$GW_PORT" put /from-nfs 2500000
nfs-cat "$(url /from-nfs)" > "$T/from-nfs.nfs" || fx_fail "nfs-cat"
[ "$(stat -c %s "$MNT/from-nfs")" = 2500000 ] || fx_fail "size through FUSE"
cmp "$T/from-nfs.nfs" "$MNT/from-nfs" || fx_fail "FUSE reads other bytes than NFS wrote"

# FUSE -> NFS: 5 MB of random bytes (two blocks), read over NFS.
head -c 5000000 /dev/urandom > "$T/rand"
cp "$T/rand" "$MNT/from-fuse" || fx_fail "cp into the mount"
sync "$MNT/from-fuse" 2>/dev/null || sync
nfs-cat "$(url /from-fuse)" > "$T/from-fuse.nfs" || fx_fail "nfs-cat of the FUSE file"
cmp "$T/rand" "$T/from-fuse.nfs" || fx_fail "NFS reads other bytes than FUSE wrote"

# Overwrite part of the NFS file through FUSE; NFS sees it.
printf 'PATCHED' | dd of="$MNT/from-nfs" bs=1 seek=1000 conv=notrunc status=none ||
  fx_fail "overwrite through FUSE"
nfs-cat "$(url /from-nfs)" > "$T/patched" || fx_fail "nfs-cat"
[ "$(dd if="$T/patched" bs=1 skip=1000 count=7 status=none)" = PATCHED ] ||
  fx_fail "NFS does not see the overwrite"
cmp -n 1000 "$T/patched" "$T/from-nfs.nfs" || fx_fail "bytes before the patch changed"

# Both sides writing disjoint ranges of one block in turn: each write
# merges into the version the other committed (nothing is lost).
fx_check "NFS writes at 0" "$API" "$GW_PORT" pwrite /shared 0 AAAAAAAAAA
printf 'BBBBBBBBBB' | dd of="$MNT/shared" bs=1 seek=20 conv=notrunc status=none ||
  fx_fail "FUSE writes at 20"
fx_check "NFS writes at 10" "$API" "$GW_PORT" pwrite /shared 10 CCCCCCCCCC
printf 'DDDDDDDDDD' | dd of="$MNT/shared" bs=1 seek=30 conv=notrunc status=none ||
  fx_fail "FUSE writes at 30"
want=AAAAAAAAAACCCCCCCCCCBBBBBBBBBBDDDDDDDDDD
[ "$(cat "$MNT/shared")" = "$want" ] || fx_fail "FUSE reads $(cat "$MNT/shared")"
[ "$(nfs-cat "$(url /shared)")" = "$want" ] || fx_fail "NFS reads $(nfs-cat "$(url /shared)")"

# Namespace: a directory made through FUSE is listed over NFS, a file
# removed over NFS is gone from the mount.
mkdir "$MNT/dir-from-fuse" || fx_fail "mkdir through FUSE"
nfs-ls "$(url)" | grep -q dir-from-fuse || fx_fail "NFS does not list the FUSE directory"
fx_check "a file over NFS" "$API" "$GW_PORT" put /to-remove 10
[ -e "$MNT/to-remove" ] || fx_fail "FUSE does not see the NFS file"
fx_check "NFS removes it" "$API" "$GW_PORT" unlink /to-remove
[ -e "$MNT/to-remove" ] && fx_fail "FUSE still sees the removed file"
# Locks: a FUSE mount's fcntl lock refuses an NFS LOCK and the other way
# round.  (Needs the FUSE client to take its locks in the gateway: when a
# second mount is not refused either, the client keeps locks to itself
# for now and this part is skipped with a note.)
command -v python3 >/dev/null || fx_skip "python3 not found (for fcntl)"
LOCKPY='import fcntl, sys, time
f = open(sys.argv[1], "r+")
try:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    print("refused", flush=True); sys.exit(3)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))'
: > "$MNT/locked"
python3 -c "$LOCKPY" "$MNT/locked" 6 > "$T/fuse-lock.out" 2>&1 &
hold=$!
fx_track_pid $hold
fx_wait_for 10 grep -q locked "$T/fuse-lock.out" || fx_fail "no fcntl lock through FUSE"
MNT2="$T/mnt2"
fx_mount gw "$MNT2" "attr_timeout=0,entry_timeout=0"
if python3 -c "$LOCKPY" "$MNT2/locked" 0 >/dev/null 2>&1; then
  fx_log "NOTE: a second FUSE mount is not refused the lock: the client does not share locks yet; cross-protocol locks not checked"
else
  out=$("$API" "$GW_PORT" lock /locked 0)
  [ "$out" = refused ] || fx_fail "an NFS LOCK was granted over a FUSE mount's fcntl lock ($out)"
  wait $hold
  "$API" "$GW_PORT" lock /locked 6 > "$T/nfs-lock.out" 2>&1 &
  hold=$!
  fx_track_pid $hold
  fx_wait_for 10 grep -q locked "$T/nfs-lock.out" || { cat "$T/nfs-lock.out" >&2; fx_fail "no NFS lock"; }
  python3 -c "$LOCKPY" "$MNT/locked" 0 >/dev/null 2>&1 &&
    fx_fail "a FUSE fcntl lock was granted over an NFS lock"
fi
kill "$hold" 2>/dev/null
wait "$hold" 2>/dev/null
fx_pass
