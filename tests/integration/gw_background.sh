#!/bin/bash
# gw_background.sh - the gateway's background threads: the lease reaper
# ends a session that stopped renewing (and drops the unlinked file it
# held open), and the garbage collector deletes superseded and unlinked
# block versions from the store after the grace period, keeping live ones
# (tests/integration/gw_protocol.c lease/gc).
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
GWP="$FLEXFS_BUILDDIR/tests/integration/gw_protocol"

fx_start_gateway gw --lease-time 2 --gc-grace 1
fx_check "lease expiry" "$GWP" lease "$GW_PORT"
fx_check "garbage collection" "$GWP" gc "$GW_PORT" "file://$GW_DIR/blocks"
grep -q "session.* expired" "$T/gw.log" || fx_fail "no expiry logged"
fx_pass
