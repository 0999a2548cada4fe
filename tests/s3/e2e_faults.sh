#!/bin/bash
# e2e_faults.sh - S3 faults seen through a real mount.  The S3 endpoint
# stopped in the middle of a write: the writer gets EIO (from write, fsync
# or close, never a silent success), nothing is committed (size, mtime and
# the old bytes stay, read cold from S3 after a remount), and once the
# endpoint is back new writes succeed.  A server answering 503 (or
# dropping connections) a few times: the retries hide it from
# applications, for writes and cold reads.  The gateway's collector
# counts the store errors it meets and collects once the store is back.
# One file whose uploads the store refuses fails no other writer waiting
# for write-back room.
# Over NFS, a truncating OPEN that must first commit buffered writes to a
# slow store holds up no other client.
: "${FLEXFS_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export FX_STORE=s3
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"
fx_require_root
fx_require_fuse
export FLEXFS_STATS_DIR=$T/stats
MiB=$((1 << 20))

fx_start_gateway gw --gc-grace 1
M=$T/mnt
fx_mount gw "$M"
remount() {
  fx_umount "$M" || fx_fail "unmount"
  fx_wait_for 30 sh -c "! kill -0 $MNT_PID" || fx_fail "client did not exit"
  fx_mount gw "$M"
}
elapsed() { echo $(( $(date +%s) - $1 )); }

# ---- the old content ----
head -c $((9 * MiB + 12345)) /dev/urandom >"$T/old"
cp "$T/old" "$M/f" || fx_fail "writing the old content"
old_stat=$(stat -c '%s %Y' "$M/f")
remount
fx_check "old content cold from S3" cmp "$M/f" "$T/old"

# ---- the S3 endpoint stops in the middle of a write ----
# The writer overwrites f in place: 1 MiB first (buffered), then, with the
# store gone, 11 MiB more (full blocks go up in the background), fsync and
# close.  It reports which calls failed and how.
python3 - "$M/f" "$T/ready" "$T/go" >"$T/writer.out" 2>&1 <<'EOF' &
import os, sys, time
path, ready, go = sys.argv[1:]
fd = os.open(path, os.O_RDWR)
os.pwrite(fd, os.urandom(1 << 20), 0)
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.05)
res = {}
def call(name, f):
    try:
        f()
        res[name] = "ok"
    except OSError as e:
        res[name] = os.strerror(e.errno)
data = os.urandom(11 << 20)
def write_all():
    off = 1 << 20
    for i in range(0, len(data), 1 << 20):
        os.pwrite(fd, data[i:i + (1 << 20)], off + i)
call("write", write_all)
call("fsync", lambda: os.fsync(fd))
call("close", lambda: os.close(fd))
print(" ".join("%s=%s" % kv for kv in res.items()))
EOF
wpid=$!
fx_track_pid $wpid
fx_wait_for 20 test -e "$T/ready" || fx_fail "writer did not start"
s3_stop_proxy
t0=$(date +%s)
touch "$T/go"
wait $wpid || fx_fail "writer crashed: $(cat "$T/writer.out")"
out=$(tail -n 1 "$T/writer.out")
fx_log "store down mid-write: $out after $(elapsed "$t0") s"
case "$out" in
  *"Input/output error"*) ;;
  *) fx_fail "the writer saw no EIO with the store down: $out" ;;
esac
echo "$out" | grep -Eq "=(ok|Input/output error)( |$)" || fx_fail "an error other than EIO: $out"
[ "$(echo "$out" | grep -o '=ok' | wc -l)" -lt 3 ] || fx_fail "all calls succeeded"
# The mount's view of f goes back to the gateway's within the attribute
# timeout: the failed data is dropped, not committed.
as_before() { [ "$(stat -c '%s %Y' "$M/f")" = "$old_stat" ]; }
fx_wait_for 5 as_before ||
  fx_fail "size and mtime moved: $(stat -c '%s %Y' "$M/f"), were $old_stat"
grep -q "upload failed" "$T/mount-mnt.log" || fx_fail "the client did not log the failed upload"

# ---- the endpoint comes back ----
s3_start_proxy
fx_check "the old content is intact" cmp "$M/f" "$T/old"
head -c $((6 * MiB)) /dev/urandom >"$T/new"
fx_check "a new write succeeds" dd if="$T/new" of="$M/g" bs=1M conv=fsync status=none
remount
fx_check "old content intact, cold from S3" cmp "$M/f" "$T/old"
fx_check "size and mtime as before" test "$(stat -c '%s %Y' "$M/f")" = "$old_stat"
fx_check "the new file reads back" cmp "$M/g" "$T/new"

# ---- a few 503s and dropped connections: the retries hide them ----
s3_ctl reset >/dev/null
s3_ctl fail 3 503 >/dev/null
head -c $((5 * MiB)) /dev/urandom >"$T/h"
fx_check "a write through three 503s" dd if="$T/h" of="$M/h" bs=1M conv=fsync status=none
[ "$(s3_stat faults)" = 3 ] || fx_fail "the proxy injected $(s3_stat faults) of 3 faults"
remount
s3_ctl reset >/dev/null
s3_ctl fail 2 500 >/dev/null
fx_check "a cold read through two 500s" cmp "$M/h" "$T/h"
[ "$(s3_stat faults)" = 2 ] || fx_fail "the proxy injected $(s3_stat faults) of 2 faults"
s3_ctl down 2 >/dev/null
head -c $((3 * MiB)) /dev/urandom >"$T/i"
fx_check "a write through two dropped connections" dd if="$T/i" of="$M/i" bs=1M conv=fsync status=none
[ "$(s3_stat dropped)" = 2 ] || fx_fail "the proxy dropped $(s3_stat dropped) of 2 requests"
remount
fx_check "the file written through dropped connections" cmp "$M/i" "$T/i"

# ---- the collector meets a store that is down ----
VOL=$(adm --json volume list | jget "'%x' % [v['id'] for v in d if v['name'] == 'default'][0]")
g_prefix=$(printf '%s/%x/' "$VOL" "$(stat -c %i "$M/g")")
[ -n "$(fx_store_keys gw "$g_prefix")" ] || fx_fail "no objects of g under $g_prefix"
errs0=$(status_field store_errors)
s3_stop_proxy
rm "$M/g"
more_errors() { [ "$(status_field store_errors)" -gt "$errs0" ]; }
fx_wait_for 30 more_errors || fx_fail "the collector's store errors were not counted"
s3_start_proxy
adm gc >/dev/null 2>&1 || fx_fail "flexfs-admin gc with the store back"
g_gone() { [ -z "$(fx_store_keys gw "$g_prefix")" ]; }
fx_wait_for 30 g_gone || fx_fail "g's blocks were not collected once the store came back"

# ---- one file's uploads fail: the mount's other writers go on ----
# a holds dirty data the store refuses (403 for its keys only) while w is
# written through a mount with room for two blocks: w waits for room block
# after block, and each wait sends a's data out again, to fail again.
# Flushes of w still free room, so w's writes succeed; a's data stays
# dirty, and is written once the store takes it.
W=$T/wmnt
fx_mount gw "$W" writeback_size=8M
head -c 100000 /dev/urandom >"$T/a"
python3 - "$W/a" "$T/a" "$T/a.ready" "$T/a.go" >"$T/holder.out" 2>&1 <<'EOF2' &
import os, sys, time
path, src, ready, go = sys.argv[1:]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644)
os.write(fd, open(src, "rb").read())     # O_DIRECT: straight to the mount
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.05)
os.close(fd)
print("closed")
EOF2
hpid=$!
fx_track_pid $hpid
fx_wait_for 20 test -e "$T/a.ready" || fx_fail "holder did not start: $(cat "$T/holder.out")"
s3_ctl fail 1000000 403 "/$VOL/$(printf %x "$(stat -c %i "$W/a")")/" >/dev/null
s3_ctl reset >/dev/null
head -c $((48 * MiB)) /dev/urandom >"$T/w"
fx_check "writes go on while another file's uploads fail" \
  dd if="$T/w" of="$W/w" bs=1M conv=fsync status=none
[ "$(s3_stat faults)" -gt 0 ] || fx_fail "a's data was never sent out meanwhile"
s3_ctl up >/dev/null
touch "$T/a.go"
wait $hpid || fx_fail "holder: $(cat "$T/holder.out")"
fx_check "unmount with room for two blocks" fx_umount "$W"
fx_check "w reads back" cmp "$M/w" "$T/w"
fx_check "a, written once the store took it" cmp "$M/a" "$T/a"

# ---- NFS: a truncating OPEN on a slow store holds up nobody else ----
# The writes buffered before it must be committed first, 2 s per request
# here, and meanwhile other clients are served.
s3_ctl delay 2000 >/dev/null
fx_check "NFS: truncating OPEN on a slow store" \
  "$FLEXFS_BUILDDIR/tests/integration/nfs_raw" "$GW_PORT" truncate-slow-store
s3_ctl up >/dev/null

fx_check "unmount" fx_umount "$M"
[ "$(s3_stat bad_signature)" = 0 ] || fx_fail "the proxy refused signatures"
fx_pass
