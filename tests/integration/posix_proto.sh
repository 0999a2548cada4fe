#!/bin/bash
# posix_proto.sh - ACCESS, xattrs (and ACLs) and advisory locks over the
# native protocol against a real gateway (tests/integration/posix_proto.c).
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_start_gateway gw --workers 4
fx_check "posix protocol checks" \
  "$FLEXFS_BUILDDIR/tests/integration/posix_proto" "$GW_PORT"
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
