#!/bin/bash
# posix_lock.sh - advisory locks through two FUSE mounts of one gateway:
# every fcntl case of posix_lock.c (exclusive and shared locks, F_GETLK,
# F_SETLKW waiting without polling and woken on release, splitting and
# merging, upgrade and downgrade, ranges to EOF, unlock on close of any
# descriptor, EDEADLK, an interrupted F_SETLKW, flock beside fcntl), flock(1)
# across the mounts, and a lock taken by an unprivileged user.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse
PL=$FLEXFS_BUILDDIR/tests/integration/posix_lock

fx_start_gateway gw
# Mount 1 first: its session's locks come first in F_GETLK answers.
fx_mount gw "$T/m1" allow_other
fx_mount gw "$T/m2" allow_other
echo data >"$T/m1/f"
chmod 666 "$T/m1/f"

fx_check "lock cases across two mounts" "$PL" cases "$T/m1/f" "$T/m2/f"

# ---- flock(1) ----
flock -x "$T/m1/f" sleep 3 &
holder=$!
fx_track_pid $holder
sleep 0.5
fx_expect_fail "flock -n while the other mount holds it" flock -n "$T/m2/f" true
fx_expect_fail "flock -s -n while the other mount holds it" \
  flock -s -n "$T/m2/f" true
start=$(date +%s.%N)
fx_check "flock -w waits for the holder" flock -w 20 "$T/m2/f" true
waited=$(echo "$(date +%s.%N) - $start" | bc)
fx_log "flock -w was granted after $waited s (holder sleeps 3 s)"
fx_check "flock waited for the release" test "$(echo "$waited > 1.5" | bc)" = 1
wait $holder
fx_check "flock free again" flock -n "$T/m1/f" true
# Shared flocks from both mounts at once.
flock -s "$T/m1/f" sleep 2 &
holder=$!
fx_track_pid $holder
sleep 0.5
fx_check "two shared flocks" flock -s -n "$T/m2/f" true
fx_expect_fail "exclusive against shared" flock -x -n "$T/m2/f" true
wait $holder

# ---- an unprivileged user's lock blocks root on the other mount ----
chmod 755 "$T"
mkdir -m 1777 "$T/flags"
setpriv --reuid=4321 --regid=4321 --clear-groups \
  "$PL" hold "$T/m1/f" w 0 0 "$T/flags/ready" &
holder=$!
fx_track_pid $holder
fx_wait_for 10 test -e "$T/flags/ready" || fx_fail "holder did not lock"
rc=0; "$PL" try "$T/m2/f" r 0 1 || rc=$?
fx_check "the user's lock refuses root on the other mount" test $rc = 3
got=$("$PL" getlk "$T/m2/f" w 0 0)
fx_check "F_GETLK names the holder ($got)" test "$got" = "w 0 0 $holder"
kill -TERM $holder
wait $holder
fx_check "lock free after its holder exits" "$PL" try "$T/m2/f" w 0 0

kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
