#!/bin/bash
# gw_durability.sh - what the gateway acknowledged survives `kill -9` and
# a clean SIGTERM restart: a tree built through the protocol is checked
# after each restart (tests/integration/gw_protocol.c build/verify-tree).
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
GWP="$FLEXFS_BUILDDIR/tests/integration/gw_protocol"

fx_start_gateway gw
fx_check "build tree one" "$GWP" build-tree "$GW_PORT" one
fx_restart_gateway gw KILL
fx_check "tree one after kill -9" "$GWP" verify-tree "$GW_PORT" one

fx_check "build tree two" "$GWP" build-tree "$GW_PORT" two
fx_restart_gateway gw TERM
fx_check "tree one after SIGTERM" "$GWP" verify-tree "$GW_PORT" one
fx_check "tree two after SIGTERM" "$GWP" verify-tree "$GW_PORT" two
grep -q "shutting down" "$T/gw.log" || fx_fail "no clean shutdown logged"
grep -q "stopped" "$T/gw.log" || fx_fail "shutdown did not finish"

# A kill -9 in the middle of a stream of changes: whatever was
# acknowledged before it is there afterwards.
"$GWP" build-tree "$GW_PORT" three >"$T/three.out" 2>/dev/null &
builder=$!
fx_track_pid $builder
fx_wait_for 20 grep -q "acked dir 2" "$T/three.out" || fx_fail "build three stalled"
fx_restart_gateway gw KILL
wait $builder 2>/dev/null      # it fails: the gateway went away under it
acked=$(grep -c "^acked dir" "$T/three.out")
fx_log "build three was killed after $acked acknowledged directories"
fx_check "tree two after a kill under load" "$GWP" verify-tree "$GW_PORT" two
fx_check "acknowledged part of tree three" "$GWP" verify-tree "$GW_PORT" three "$acked"
fx_pass
