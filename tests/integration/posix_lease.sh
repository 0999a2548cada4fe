#!/bin/bash
# posix_lease.sh - a client that dies holding a lock: after kill -9 of the
# lock holder's mount.flexfs, its lock stays until the session's lease runs
# out (short here: --lease-time 3), then a waiter on another mount gets it
# without retrying.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse
PL=$FLEXFS_BUILDDIR/tests/integration/posix_lock
LEASE=3

fx_start_gateway gw --lease-time $LEASE
fx_mount gw "$T/m1"
m1_pid=$MNT_PID
fx_mount gw "$T/m2"
echo data >"$T/m1/f"

"$PL" hold "$T/m1/f" w 0 0 "$T/ready" &
holder=$!
fx_track_pid $holder
fx_wait_for 10 test -e "$T/ready" || fx_fail "holder did not lock"
rc=0; "$PL" try "$T/m2/f" w 0 0 || rc=$?
fx_check "held lock refuses the other mount" test $rc = 3

# The client dies without a word: no unlock, no unmount.
kill -KILL "$m1_pid"
"$PL" wait "$T/m2/f" w 0 0 30 &
waiter=$!
fx_track_pid $waiter
start=$(date +%s.%N)
sleep 1
kill -0 $waiter || fx_fail "the waiter did not wait for the dead client's lock"
rc=0; wait $waiter || rc=$?
took=$(echo "$(date +%s.%N) - $start" | bc)
fx_check "the waiter got the lock once the lease ran out (rc $rc)" test $rc = 0
fx_log "lock granted $took s after the client died (lease $LEASE s)"
fx_check "not before the lease" test "$(echo "$took >= 2" | bc)" = 1
fx_check "soon after the lease" test "$(echo "$took < $LEASE + 8" | bc)" = 1
kill -TERM $holder 2>/dev/null || true
fx_pass
