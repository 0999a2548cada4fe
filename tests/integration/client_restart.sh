#!/bin/bash
# client_restart.sh - the client across gateway restarts and unmounts:
# a running writer rides out a gateway restart (SIGTERM and kill -9) with
# no error and its data checks out; unmounting with dirty data and
# mounting again keeps the data; mount errors are reported before the
# client detaches; the daemon mode (no -f) detaches and unmounts cleanly.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse
HELPERS=$FLEXFS_BUILDDIR/tests/integration

fx_start_gateway gw
M=$T/mnt
fx_mount gw "$M"

# ---- a writer across restarts ----
mkdir "$T/src" "$M/w"
for i in $(seq 1 40); do head -c $((300000 + i * 1000)) /dev/urandom >"$T/src/$i"; done
writer() {
  for i in $(seq 1 40); do
    cp "$T/src/$i" "$M/w/$i" || { echo "cp $i failed" >&2; return 1; }
    mkdir "$M/w/d$i" || { echo "mkdir $i failed" >&2; return 1; }
    sleep 0.1
  done
}
# A second writer keeps one file open and fsyncs as it goes.
python3 - "$M/w/stream" "$T/stream.ref" >"$T/stream.log" 2>&1 <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
ref = open(sys.argv[2], "wb")
for i in range(60):
    chunk = os.urandom(200000)
    os.write(fd, chunk)
    ref.write(chunk)
    if i % 5 == 4:
        os.fsync(fd)
    time.sleep(0.1)
os.close(fd)
PY
stream_pid=$!
fx_track_pid $stream_pid
writer &
writer_pid=$!
fx_track_pid $writer_pid
sleep 1
fx_restart_gateway gw TERM
sleep 1.5
fx_restart_gateway gw KILL
wait $writer_pid || fx_fail "the writer saw an error across gateway restarts"
wait $stream_pid || { cat "$T/stream.log" >&2; fx_fail "the streaming writer saw an error"; }
for i in $(seq 1 40); do
  cmp -s "$T/src/$i" "$M/w/$i" || fx_fail "file $i differs after the restarts"
  test -d "$M/w/d$i" || fx_fail "directory d$i missing after the restarts"
done
fx_check "streamed file after the restarts" cmp "$T/stream.ref" "$M/w/stream"

# Acknowledged data survives kill -9 of both the client and the gateway,
# taken while the writer still has the file open.
python3 - "$M/synced" "$T/synced.ref" "$T/synced.ready" <<'PY' &
import os, sys, time
data = os.urandom(3000000)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, data)
os.fsync(fd)
open(sys.argv[2], "wb").write(data)
os.write(fd, os.urandom(100000))    # not synced: may be lost
open(sys.argv[3], "w").close()
time.sleep(120)
PY
sync_pid=$!
fx_track_pid $sync_pid
fx_wait_for 30 test -e "$T/synced.ready" || fx_fail "fsync writer did not finish"
kill -KILL "$MNT_PID"
fx_restart_gateway gw KILL
kill -KILL $sync_pid
wait $sync_pid 2>/dev/null
umount -l "$M" 2>/dev/null || fusermount3 -u -z "$M" 2>/dev/null
fx_mount gw "$M"
fx_check "fsynced data survives kill -9 of client and gateway" \
  cmp -n 3000000 "$T/synced.ref" "$M/synced"
size=$(stat -c %s "$M/synced")
fx_check "the file is whole blocks old or new ($size)" \
  test "$size" = 3000000 -o "$size" = 3100000

# ---- unmount with dirty data, then mount again ----
head -c 7000000 /dev/urandom >"$T/dirty.ref"
exec 3>"$M/dirty"
head -c 3000000 "$T/dirty.ref" >&3
umount -l "$M" || fx_fail "lazy unmount with a file open"
tail -c +3000001 "$T/dirty.ref" >&3
exec 3>&-
fx_wait_for 60 sh -c "! kill -0 $MNT_PID" || fx_fail "client did not finish after unmount"
fx_mount gw "$M"
fx_check "data written around an unmount is there after remount" cmp "$T/dirty.ref" "$M/dirty"
"$HELPERS/client_mmap" "$M/mapped" $((6 << 20)) nosync || fx_fail "mmap writer"
fx_umount "$M"
fx_wait_for 60 sh -c "! kill -0 $MNT_PID" || fx_fail "client did not finish after unmount"
fx_mount gw "$M"
python3 - "$M/mapped" <<'PY' || fx_fail "mmap data after unmount and remount"
import sys
d = open(sys.argv[1], "rb").read()
assert len(d) == 6 << 20
for i in range(0, len(d), 997):
    assert d[i] == (i * 7 + i // 4096) & 0xff, i
PY
fx_umount "$M"

# ---- a session that expired (client frozen past its lease) ----
# The client mounts again and opens its files again; writes go on.
fx_start_gateway gw2 --lease-time 2
M2=$T/mnt2
fx_mount gw2 "$M2"
python3 - "$M2/lease" "$T/lease.ref" "$T/lease.go" <<'PY' >"$T/lease.log" 2>&1 &
import os, sys, time
a, b = os.urandom(2000000), os.urandom(2000000)
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, a)
os.fsync(fd)
open(sys.argv[2] + ".half", "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.1)
os.write(fd, b)
os.fsync(fd)
assert os.pread(fd, 10, 1999995) == a[-5:] + b[:5]
os.close(fd)
open(sys.argv[2], "wb").write(a + b)
PY
lease_pid=$!
fx_track_pid $lease_pid
fx_wait_for 30 test -e "$T/lease.ref.half" || fx_fail "lease writer did not start"
kill -STOP "$MNT_PID"
fx_wait_for 20 grep -q "expired" "$T/gw2.log" || { kill -CONT "$MNT_PID"; fx_fail "the session did not expire"; }
kill -CONT "$MNT_PID"
touch "$T/lease.go"
wait $lease_pid || { cat "$T/lease.log" >&2; fx_fail "writer failed after its session expired"; }
fx_check "data written across a lost session" cmp "$T/lease.ref" "$M2/lease"
fx_check "the client mounted again" grep -q "new session" "$T/mount-mnt2.log"
fx_umount "$M2"

# ---- unmounting while the gateway is gone ----
# Nothing is dirty, so the client has only its goodbye to say: it says it
# briefly and exits, instead of riding out a restart nobody is waiting for.
fx_mount gw2 "$M2"
kill -KILL "$gw2_PID"
fusermount3 -u "$M2" || fx_fail "unmount with the gateway gone"
fx_wait_for 15 sh -c "! kill -0 $MNT_PID" ||
  fx_fail "client still running 15 s after unmount with its gateway gone"

# ---- mount errors, reported before detaching ----
expect_mount_error() {    # DESCRIPTION PATTERN ARGS...
  local what=$1 pat=$2; shift 2
  local out rc
  out=$(timeout 30 "$MOUNT_FLEXFS" "$@" 2>&1); rc=$?
  [ $rc -ne 0 ] || fx_fail "$what: mount.flexfs exited 0"
  [ $rc -ne 124 ] || fx_fail "$what: mount.flexfs hung"
  echo "$out" | grep -qi -- "$pat" || fx_fail "$what: message '$out' lacks '$pat'"
}
free_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/m2"
expect_mount_error "unreachable gateway" "cannot reach" 127.0.0.1:/ "$T/m2" -o port=$free_port
expect_mount_error "no such volume" "no such volume" 127.0.0.1:/nosuchvolume "$T/m2" -o port=$gw_PORT
expect_mount_error "missing mount point" "No such file" 127.0.0.1:/ "$T/nonexistent" -o port=$gw_PORT
touch "$T/plainfile"
expect_mount_error "mount point not a directory" "not a directory" 127.0.0.1:/ "$T/plainfile" -o port=$gw_PORT
expect_mount_error "unknown option" "unknown option" 127.0.0.1:/ "$T/m2" -o port=$gw_PORT,bogus=1
expect_mount_error "bad spec" "HOST:/VOLUME" localhost "$T/m2"
fx_mount gw "$M"
expect_mount_error "busy mount point" "busy" 127.0.0.1:/ "$M" -o port=$gw_PORT
fx_umount "$M"

# ---- daemon mode, called the way mount(8) calls helpers ----
# daemon_pid DIR: the PID of the detached client mounted on DIR (found by
# its unique mount point), tracked so that cleanup can stop it.
daemon_pid() {
  local p found=""
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "mount.flexfs 127.0.0.1:/ $1 "; then
      found=${p#/proc/}
    fi
  done
  [ -n "$found" ] || return 1
  fx_track_pid "$found"
  echo "$found"
}
# check_daemon DIR: the mount on DIR is up, served by a detached process;
# data goes through, and unmounting ends the process.
check_daemon() {
  local d=$1 dpid
  fx_check "daemon mount is up when the command returns" mountpoint -q "$d"
  dpid=$(daemon_pid "$d") || fx_fail "daemon process for $d not found"
  fx_check "the daemon detached from us" \
    test "$(ps -o ppid= -p "$dpid" | tr -d ' ')" != $$
  echo "via-daemon $d" >"$d/daemon-file"
  umount "$d" || fx_fail "umount of the daemon mount $d"
  fx_wait_for 30 sh -c "! kill -0 $dpid" || fx_fail "daemon did not exit after umount"
  fx_mount gw "$M"
  fx_check "data written through the daemon mount" \
    test "$(cat "$M/daemon-file")" = "via-daemon $d"
  fx_umount "$M"
}
D=$T/daemon
mkdir -p "$D"
FX_MOUNTS+=("$D")
"$MOUNT_FLEXFS" 127.0.0.1:/ "$D" -o rw,_netdev,nofail,relatime,port=$gw_PORT ||
  fx_fail "daemon mount failed"
check_daemon "$D"

# mount(8) itself, with an fstab line: it needs /sbin/mount.flexfs, which
# we provide for the test when there is none.
helper=/sbin/mount.flexfs
if [ ! -e $helper ] && [ -w /sbin ] && ln -s "$MOUNT_FLEXFS" $helper; then
  trap 'rc=$?; rm -f '$helper'; (exit $rc); fx_cleanup' EXIT
fi
if [ "$(readlink $helper 2>/dev/null)" = "$MOUNT_FLEXFS" ]; then
  D2=$T/fstab-mount
  mkdir -p "$D2"
  FX_MOUNTS+=("$D2")
  printf '127.0.0.1:/ %s flexfs port=%s,_netdev,nofail 0 0\n' "$D2" "$gw_PORT" >"$T/fstab"
  mount -T "$T/fstab" "$D2" || fx_fail "mount(8) with an fstab line"
  check_daemon "$D2"
else
  fx_log "$helper is not this build's: mount(8) not tested"
fi
fx_pass
