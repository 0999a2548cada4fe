#!/bin/bash
# gw_protocol.sh - the native protocol against a real flexfs-gatewayd on
# 127.0.0.1: every procedure with its attributes and errors, from several
# libtirpc clients at once (tests/integration/gw_protocol.c); rpcinfo when
# rpcbind runs; and the loopback figures of `gw_protocol bench`.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
GWP="$FLEXFS_BUILDDIR/tests/integration/gw_protocol"

fx_start_gateway gw --workers 4
fx_check "protocol checks" "$GWP" test "$GW_PORT"
kill -0 "$GW_PID" || fx_fail "gateway died"

# Registered with rpcbind when it runs (541480970 is FLEXFS_PROG).
if rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
  rpcinfo -p 127.0.0.1 | grep -Eq "^ *541480970 +1 +tcp +$GW_PORT( |$)" ||
    fx_fail "rpcinfo -p does not list the native program"
  rpcinfo -t 127.0.0.1 541480970 1 || fx_fail "rpcinfo -t gets no answer"
else
  fx_log "rpcbind not running: registration not checked"
fi

fx_check "bench" "$GWP" bench "$GW_PORT" 4 1
fx_pass
