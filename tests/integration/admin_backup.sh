#!/bin/bash
# admin_backup.sh - flexfs-admin backup against a real gateway: a hot
# backup taken while clients write is a copy a second gateway starts from
# and serves the same tree (names, attributes, block maps); changes after
# the backup are not in it; bad targets are refused.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"

fx_start_gateway gw
fx_check "a tree" "$NATIVE" "$GW_PORT" build 50
fx_check "data" "$NATIVE" "$GW_PORT" write data 5000000
fx_check "volume" adm volume create second --block-size 1M
FX_VOLUME=second fx_check "data in the second volume" "$NATIVE" "$GW_PORT" write x 3000000

# A writer keeps going while the backup runs.
(
  i=0
  while [ $i -lt 200 ]; do
    "$NATIVE" "$GW_PORT" build 5 "busy$i" >/dev/null 2>&1 || exit 1
    i=$((i + 1))
  done
) &
writer=$!
fx_track_pid $writer
sleep 0.3

"$NATIVE" "$GW_PORT" tree | grep -v "^/busy\|^/hard-busy" | sort >"$T/before" ||
  fx_fail "tree"
expect_exit 0 "backup" adm backup "$T/bk"
grep -q "^backup in $T/bk: [0-9]* files, " "$T/out" || fx_fail "backup output: $(cat "$T/out")"
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
# After the backup: not in it.
fx_check "a later file" "$NATIVE" "$GW_PORT" write later 1000

expect_exit 1 "backup into a non-empty directory" adm backup "$T/bk"
grep -q "is not empty" "$T/err" || fx_fail "non-empty message: $(cat "$T/err")"
expect_exit 2 "backup to a relative path" adm backup bk
expect_exit 1 "backup where the parent is missing" adm backup "$T/no/such/dir"
adm --json backup "$T/bk2" | jget "d['files'] > 0 and d['bytes'] > 0" |
  grep -qx True || fx_fail "backup --json"

# A second gateway on the copy (same block store, read-only use).
fx_start_gateway gw2 --meta-dir "$T/bk" --store "file://$GW_DIR/blocks"
"$NATIVE" "$gw2_PORT" tree | grep -v "^/busy\|^/hard-busy" | sort >"$T/after" ||
  fx_fail "tree on the copy"
diff "$T/before" "$T/after" >&2 || fx_fail "the copy's tree differs"
grep -q "^/d/f49 " "$T/after" || fx_fail "the copy lacks the tree"
grep -q "^/later " "$T/after" && fx_fail "a change after the backup is in it"
FX_VOLUME=second "$NATIVE" "$gw2_PORT" tree | grep -q "^/x type=100000 size=3000000 " ||
  fx_fail "the copy lacks the second volume's file"
# The copy is consistent: fsck of it finds nothing wrong.
GW_PORT=$gw2_PORT
expect_exit 0 "fsck of the copy" adm fsck
GW_PORT=$gw_PORT
kill -0 "$gw_PID" || fx_fail "gateway died"
kill -0 "$gw2_PID" || fx_fail "gateway on the copy died"
fx_pass
