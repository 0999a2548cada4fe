#!/bin/bash
# nfs_tools.sh - libnfs's command-line tools (Debian's libnfs-utils) against
# the gateway's NFSv4.0 program: nfs-ls, nfs-cp in (a small file: libnfs
# 4.0.0 cannot send an NFSv4 WRITE much above 3.8 KiB) and out, nfs-cat;
# a 3 MB file written in 2 KiB chunks (tests/integration/nfs_api put) and
# read back whole by nfs-cp and nfs-cat.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
API="$FLEXFS_BUILDDIR/tests/integration/nfs_api"
for t in nfs-ls nfs-cp nfs-cat; do
  command -v $t >/dev/null || fx_skip "$t not found (Debian package libnfs-utils)"
done

fx_start_gateway gw
url() { echo "nfs://127.0.0.1/default${1-}?version=4&nfsport=$GW_PORT"; }

# Registered with rpcbind when it runs.
if rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
  rpcinfo -p 127.0.0.1 | grep -Eq "^ *100003 +4 +tcp +$GW_PORT " ||
    fx_fail "rpcinfo -p does not list program 100003 version 4"
else
  fx_log "rpcbind not running: registration not checked"
fi

# An empty volume lists nothing (and the listing works).
fx_check "nfs-ls of the empty volume" nfs-ls "$(url)"

printf 'hello over NFSv4\n' > "$T/small"
fx_check "nfs-cp in" nfs-cp "$T/small" "$(url /small)"
nfs-ls "$(url)" > "$T/ls" || fx_fail "nfs-ls"
grep -q 'small' "$T/ls" || fx_fail "nfs-ls does not show the copied file: $(cat "$T/ls")"
nfs-cat "$(url /small)" > "$T/small.cat" || fx_fail "nfs-cat"
cmp "$T/small" "$T/small.cat" || fx_fail "nfs-cat gives other bytes"
fx_check "nfs-cp out" nfs-cp "$(url /small)" "$T/small.out"
cmp "$T/small" "$T/small.out" || fx_fail "nfs-cp out gives other bytes"

# A larger file, then a tree listing with it.
fx_check "write 3 MB in 2 KiB chunks" "$API" "$GW_PORT" put /big 3000000
fx_check "nfs-cp out of 3 MB" nfs-cp "$(url /big)" "$T/big.out"
[ "$(stat -c %s "$T/big.out")" = 3000000 ] || fx_fail "nfs-cp out: wrong size"
nfs-cat "$(url /big)" > "$T/big.cat" || fx_fail "nfs-cat of 3 MB"
cmp "$T/big.out" "$T/big.cat" || fx_fail "nfs-cat and nfs-cp disagree"
fx_check "the content is the pattern" "$API" "$GW_PORT" check /big 3000000
nfs-ls -l "$(url)" > "$T/ls" 2>&1 || nfs-ls "$(url)" > "$T/ls" || fx_fail "nfs-ls"
grep -q big "$T/ls" || fx_fail "nfs-ls does not show big"

# Missing things are errors, and the gateway keeps serving.
fx_expect_fail "nfs-cat of a missing file" nfs-cat "$(url /no-such-file)"
fx_expect_fail "nfs-ls of a missing volume" nfs-ls "nfs://127.0.0.1/no-volume?version=4&nfsport=$GW_PORT"
fx_check "still serving" nfs-cat "$(url /small)"
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
