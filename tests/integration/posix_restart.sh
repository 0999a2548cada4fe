#!/bin/bash
# posix_restart.sh - advisory locks across gateway restarts: a held lock
# still refuses another mount after SIGTERM and after kill -9 of the
# gateway (lock state is in Berkeley DB, sessions survive); a blocking
# F_SETLKW under way rides out both restarts; after the restart a grace
# period (--grace-time) lets no conflicting lock be granted even once the
# holder lets go, while locks that conflict with nothing are granted at
# once, and the waiter is granted when it ends.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse
PL=$FLEXFS_BUILDDIR/tests/integration/posix_lock
GRACE=6

fx_start_gateway gw --grace-time $GRACE
fx_mount gw "$T/m1"
fx_mount gw "$T/m2"
echo data >"$T/m1/f"

"$PL" hold "$T/m1/f" w 0 100 "$T/ready" &
holder=$!
fx_track_pid $holder
fx_wait_for 10 test -e "$T/ready" || fx_fail "holder did not lock"

try() { local rc=0; "$PL" try "$@" || rc=$?; echo $rc; }

# A waiter whose blocking call is under way across both restarts: its
# client sends it again to the new gateway.
"$PL" wait "$T/m2/f" w 0 10 60 &
waiter=$!
fx_track_pid $waiter
sleep 0.5
for sig in TERM KILL; do
  fx_restart_gateway gw $sig --grace-time $GRACE
  fx_check "after $sig: the held lock still refuses the other mount" \
    test "$(try "$T/m2/f" w 50 1)" = 3
  got=$("$PL" getlk "$T/m2/f" r 0 0)
  fx_check "after $sig: F_GETLK names the holder ($got)" \
    test "$got" = "w 0 100 $holder"
done

# The holder lets go within the grace period: still no conflicting lock
# for anyone else until it ends; a lock elsewhere is fine at once.
restarted=$(date +%s.%N)
kill -USR1 $holder
fx_wait_for 10 test -e "$T/ready.unlocked" || fx_fail "holder did not unlock"
fx_check "in grace: a lock that conflicts with nothing is granted" \
  test "$(try "$T/m2/f" w 200 10)" = 0
fx_check "in grace: a conflicting lock is refused" \
  test "$(try "$T/m2/f" w 10 1)" = 3
sleep 1
kill -0 $waiter || fx_fail "the waiter was granted during the grace period"
rc=0; wait $waiter || rc=$?
took=$(echo "$(date +%s.%N) - $restarted" | bc)
fx_check "the waiter is granted when the grace period ends (rc $rc)" \
  test $rc = 0
fx_log "waiter granted $took s after the restart (grace $GRACE s)"
fx_check "not before the grace period ends" \
  test "$(echo "$took >= $GRACE - 2" | bc)" = 1
fx_check "after the grace period, locks are granted" \
  test "$(try "$T/m2/f" w 10 1)" = 0
kill -TERM $holder
fx_pass
