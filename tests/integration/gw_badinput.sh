#!/bin/bash
# gw_badinput.sh - malformed RPC traffic (random bytes, truncated and
# oversized records, unknown programs, versions and procedures, garbage
# arguments, overlong names, bad credentials) gets the RPC error or a
# closed connection, and the gateway keeps serving other clients
# (tests/integration/gw_badinput.py).
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
GWP="$FLEXFS_BUILDDIR/tests/integration/gw_protocol"
command -v python3 >/dev/null || fx_skip "needs python3"

fx_start_gateway gw
fx_check "bad input cases" python3 "$FLEXFS_SRCDIR/tests/integration/gw_badinput.py" \
  "$GW_PORT" "$GW_PID"
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_check "normal client afterwards" "$GWP" ping "$GW_PORT"
fx_pass
