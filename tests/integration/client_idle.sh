#!/bin/bash
# client_idle.sh - the gateway closes idle connections (--idle-timeout) and
# a mount carries on: the next call goes out on a new connection, and a
# call is never taken for a resend of one the gateway never saw (a resent
# UNLINK that finds no name counts as done, so that would turn "no such
# file" into success).  Also: a lock wait longer than the idle time is
# not cut off.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse

fx_start_gateway gw --idle-timeout 1 --log-level debug
# A keeps names in the kernel's cache for a minute, so that its rm goes
# to the gateway for a name B removed meanwhile.
A=$T/a B=$T/b
fx_mount gw "$A" entry_timeout=60,attr_timeout=60
fx_mount gw "$B"
idle() { sleep 3; }   # idle time 1 s, looked for every second

mkdir "$A/d1" "$A/d2"
echo one >"$A/f1"
echo one >"$A/f2"
ls -l "$A" >/dev/null
rm "$B/f1" "$B/f2"
rmdir "$B/d1" "$B/d2"
idle
fx_expect_fail "unlink of a name removed elsewhere, after idling" rm "$A/f1"
idle
fx_expect_fail "rmdir of a name removed elsewhere, after idling" rmdir "$A/d1"
idle
fx_expect_fail "rename of a name removed elsewhere, after idling" \
  mv "$A/f2" "$A/x"
idle
fx_check "a write after idling" sh -c "echo two >'$A/g'"
idle
fx_check "a read after idling" test "$(cat "$A/g")" = "two"
grep -q "closing a connection idle" "$T/gw.log" ||
  fx_fail "the gateway closed no idle connection"
M=$A

# A lock wait (a deferred call) outlasts the idle time.
exec 7>>"$M/f"
flock -x 7
(flock -x "$M/f" true && echo got >"$T/lock.out") &
waiter=$!
fx_track_pid $waiter
sleep 3.5
fx_check "the waiter still waits" test ! -e "$T/lock.out"
flock -u 7
exec 7>&-
fx_wait_for 10 test -e "$T/lock.out" || fx_fail "the lock waiter lost its wait"
wait $waiter || fx_fail "the lock waiter failed"
fx_pass
