#!/bin/bash
# client_diskcache.sh - the disk block cache (mount option cache_dir):
# - a copy kept under one metadata incarnation is never used under another:
#   a fresh metadata directory on the same store hands out the same block
#   keys for other data, and a gateway started on a backup makes itself a
#   new incarnation and ends the sessions in it, so that a mount living
#   through the restore stops using its copies (a plain restart keeps its
#   own incarnation);
# - what a mount wrote or fetched reads back after a remount with the
#   block store gone, whole blocks and random parts of them;
# - a damaged copy is noticed, dropped and fetched again;
# - the copies keep to cache_disk_size;
# - a second mount of the volume naming the same directory runs without.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse
fx_store_is_s3 && fx_skip "moves the local block directory away"
FLEXFS_ADMIN=$FLEXFS_BUILDDIR/tools/flexfs-admin
DC=$T/dc
STORE=file://$T/gw1/blocks
M=$T/mnt
MB=$T/mntb
CACHED="cache_dir=$DC,cache_disk_size=64M"

stop_gw() {
  local pidvar="${1}_PID"
  kill -TERM "${!pidvar}"
  fx_wait_for 20 sh -c "! kill -0 ${!pidvar}" || fx_fail "gateway $1 did not stop"
}
# copies: the block copies under the cache directory, one per line.
copies() { find "$DC" -type f -name '*-*-*' ! -name '.*' | sort; }
copy_bytes() { find "$1" -type f -name '*-*-*' ! -name '.*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
timelines() { find "$DC" -mindepth 1 -maxdepth 1 -type d | wc -l; }
blocks_away() { mv "$T/gw1/blocks" "$T/gw1/blocks.away"; }
blocks_back() { mv "$T/gw1/blocks.away" "$T/gw1/blocks"; }

head -c $((10 << 20)) /dev/urandom >"$T/a.old"
head -c $((10 << 20)) /dev/urandom >"$T/a.new"
head -c $((6 << 20)) /dev/urandom >"$T/b"

# ---- another incarnation, the same keys ----
fx_start_gateway gw1
fx_mount gw1 "$M" "$CACHED"
cp "$T/a.old" "$M/a"
fx_umount "$M"
[ "$(copies | wc -l)" -eq 3 ] || fx_fail "written blocks not kept on disk: $(copies)"
stop_gw gw1
# A new metadata directory on the same store: its first mount writes its
# first file under the keys gw1's first mount used.
fx_start_gateway gw2 --store "$STORE"
fx_mount gw2 "$MB"
cp "$T/a.new" "$MB/a"
fx_umount "$MB"
fx_mount gw2 "$M" "$CACHED"
cmp "$M/a" "$T/a.new" || fx_fail "a copy from another incarnation was used"
[ "$(timelines)" -eq 2 ] || fx_fail "expected a second incarnation directory"
fx_umount "$M"

# ---- reads with the store gone ----
fx_mount gw2 "$MB"
cp "$T/b" "$MB/b"                       # written elsewhere: not on this disk
fx_umount "$MB"
fx_mount gw2 "$M" "$CACHED"
cmp "$M/b" "$T/b" || fx_fail "b read back wrong"   # fetched, and kept
fx_umount "$M"
fx_mount gw2 "$M" "$CACHED"
blocks_away
cmp "$M/a" "$T/a.new" || { blocks_back; fx_fail "a, fetched before, not read from disk"; }
cmp "$M/b" "$T/b" || { blocks_back; fx_fail "b, fetched before, not read from disk"; }
blocks_back
fx_umount "$M"

# ---- parts of blocks, past a small memory cache ----
# a (10 MiB) is larger than this mount's memory cache, so random reads
# take parts of blocks, which must come from the disk copies' chunks.
fx_mount gw2 "$M" "$CACHED,cache_size=4M"
misses=$(grep -c "read failed" "$T/mount-mnt.log")
blocks_away
python3 - "$M/a" "$T/a.new" <<'PY' || { blocks_back; fx_fail "random reads not served from disk"; }
import os, random, sys
random.seed(7)
# O_DIRECT: the kernel asks for just these bytes, no read-ahead around.
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
ref = open(sys.argv[2], "rb").read()
for _ in range(300):
    off = random.randrange(0, len(ref) // 4096 - 1) * 4096
    n = random.choice((512, 4096, 8192))
    if os.pread(fd, n, off) != ref[off:off + n]:
        sys.exit("differs at %d" % off)
PY
blocks_back
fx_umount "$M"
# Not one of them went to the store (which would have failed, and been
# retried as a whole-block read).
[ "$(grep -c "read failed" "$T/mount-mnt.log")" = "$misses" ] ||
  fx_fail "random reads went to the store: $(grep "read failed" "$T/mount-mnt.log" | tail -n 1)"

# ---- a damaged copy ----
# The directory of gw2's incarnation, as the last mount named it.
cur=$(sed -n 's/.* disk cache \(.*\): [0-9]* copies.*/\1/p' "$T/mount-mnt.log" | tail -n 1)
victim=$(find "$cur" -type f -name '*-0-*' ! -name '.*' | head -n 1)
[ -n "$victim" ] || fx_fail "no copy of a first block"
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(5000); b = f.read(1); f.seek(5000); f.write(bytes([b[0] ^ 0x5a]))' "$victim"
fx_mount gw2 "$M" "$CACHED"
cat "$M/a" "$M/b" >"$T/ab.read"
cat "$T/a.new" "$T/b" | cmp - "$T/ab.read" || fx_fail "a damaged copy was used"
fx_umount "$M"
grep -q "is damaged" "$T/mount-mnt.log" || fx_fail "the damage was not noticed"
fx_mount gw2 "$M" "$CACHED"
blocks_away
cmp "$M/a" "$T/a.new" || { blocks_back; fx_fail "the damaged copy was not replaced"; }
blocks_back
fx_umount "$M"

# ---- the size bound ----
fx_mount gw2 "$M" "cache_dir=$DC,cache_disk_size=9M"
head -c $((20 << 20)) /dev/urandom >"$T/c"
cp "$T/c" "$M/c"
cmp "$M/c" "$T/c" || fx_fail "c read back wrong"
fx_umount "$M"
used=$(copy_bytes "$cur")
[ "$used" -le $((9 << 20)) ] || fx_fail "the cache holds $used bytes, over its 9 MiB"
[ "$used" -ge $((4 << 20)) ] || fx_fail "the cache kept too little: $used bytes"

# ---- incarnations across restarts and backups ----
fx_restart_gateway gw2 TERM
fx_mount gw2 "$M" "$CACHED"
fx_umount "$M"
[ "$(timelines)" -eq 2 ] || fx_fail "a restart changed the incarnation"
# A backup restored under a live caching mount, on the same port: the
# restored gateway ends the sessions in it, the mount mounts again, learns
# the new incarnation and stops using its disk copies.
fx_mount gw2 "$M" "$CACHED"
cat "$M/b" >/dev/null                   # b's copies on disk (a's went, above)
fx_umount "$M"
fx_mount gw2 "$M" "$CACHED"             # b on disk, not in this one's memory
"$FLEXFS_ADMIN" -p "$gw2_PORT" backup "$T/bk" >/dev/null || fx_fail "backup failed"
stop_gw gw2
mv "$T/gw2/meta" "$T/gw2/meta.before"
mv "$T/bk" "$T/gw2/meta"
fx_restart_gateway gw2 TERM
grep -q "new incarnation: the 1 sessions of the old one ended" "$T/gw2.log" ||
  fx_fail "the backup's gateway kept the incarnation or its sessions"
blocks_away
if cat "$M/b" >/dev/null 2>&1; then
  blocks_back; fx_fail "the live mount still read its disk copies after the restore"
fi
blocks_back
grep -q "another incarnation" "$T/mount-mnt.log" || fx_fail "the live mount did not notice"
cmp "$M/b" "$T/b" || fx_fail "b through the live mount after the restore"
fx_umount "$M"
fx_mount gw2 "$M" "$CACHED"
cmp "$M/b" "$T/b" || fx_fail "b on the restored gateway"
fx_umount "$M"
[ "$(timelines)" -eq 3 ] || fx_fail "the restored gateway's incarnation is not new"

# ---- one mount per cache directory ----
fx_mount gw2 "$M" "$CACHED"
fx_mount gw2 "$MB" "$CACHED"
grep -q "no disk cache: .*another mount of this volume uses it" "$T/mount-mntb.log" ||
  fx_fail "a second mount shared the cache directory"
cmp "$MB/b" "$T/b" || fx_fail "b through the mount without a disk cache"
fx_umount "$MB"
fx_umount "$M"

# ---- bad options ----
"$MOUNT_FLEXFS" "127.0.0.1:/" "$M" -f -o "port=$gw2_PORT,cache_dir=relative" \
    >"$T/bad.out" 2>&1 && fx_fail "a relative cache_dir was accepted"
"$MOUNT_FLEXFS" "127.0.0.1:/" "$M" -f -o "port=$gw2_PORT,cache_dir=$DC,cache_disk_size=1k" \
    >"$T/bad.out" 2>&1 && fx_fail "a 1 KiB cache_disk_size was accepted"
fx_pass
