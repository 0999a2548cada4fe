#!/bin/bash
# nfs_raw.sh - COMPOUNDs of our own making (tests/integration/nfs_raw.c):
# undefined ops, truncated arguments, stale and malformed handles, garbage;
# client IDs (CLID_INUSE, callback update, reboot), open state (confirm,
# replay, OLD/BAD/STALE stateids, share reservations, downgrade), locks
# (LOCK, LOCKT, LOCKU, RELEASE_LOCKOWNER, DENIED with the holder), lease
# expiry, a bound on client records, the grace period after a kill -9 with
# a file open, and 3,000 mutated COMPOUNDs that must not bring the gateway
# down.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
RAW="$FLEXFS_BUILDDIR/tests/integration/nfs_raw"
LEASE=3

fx_start_gateway gw --lease-time $LEASE
fx_check "protocol and state" "$RAW" "$GW_PORT" basic
fx_check "byte-range locks" "$RAW" "$GW_PORT" locks
fx_check "lease expiry" "$RAW" "$GW_PORT" expire $LEASE
fx_check "client records are bounded" "$RAW" "$GW_PORT" clients $LEASE
SEED=${FX_SEED:-$RANDOM}
fx_log "fuzz seed $SEED (FX_SEED=$SEED to repeat)"
fx_check "mutated COMPOUNDs" "$RAW" "$GW_PORT" fuzz 3000 "$SEED"
kill -0 "$GW_PID" || fx_fail "gateway died"

# A file left open by a client when the gateway dies: after the restart
# new opens wait for the grace period, reclaims do not.
cd "$T" || fx_fail "cd"
fx_check "open before the crash" "$RAW" "$GW_PORT" crash-open
fx_restart_gateway gw KILL --lease-time $LEASE
fx_check "grace period" "$RAW" "$GW_PORT" grace $LEASE
# A clean stop leaves nothing to reclaim: no grace period after it.
fx_restart_gateway gw TERM --lease-time $LEASE
fx_check "no grace after a clean stop" "$RAW" "$GW_PORT" basic
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
