#!/bin/bash
# nfs_api.sh - libnfs's API over NFSv4 against the gateway
# (tests/integration/nfs_api.c): files written at offsets and read back,
# truncation, rename, link, unlink, mkdir, chmod, symlinks, statvfs, a
# 5,000-entry directory (with creates/s, stats/s and readdir figures), two
# clients at once, and two contexts with the same client name (the second
# takes over: RFC 7530 16.33).
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
API="$FLEXFS_BUILDDIR/tests/integration/nfs_api"

fx_start_gateway gw
fx_check "libnfs API" "$API" "$GW_PORT" basic
fx_check "one client name, two verifiers" "$API" "$GW_PORT" samename
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
