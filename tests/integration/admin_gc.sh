#!/bin/bash
# admin_gc.sh - flexfs-admin gc against a real gateway: garbage within its
# grace period stays, past it the pass deletes the objects and empties the
# backlog, live blocks stay; the progress bar path works on a terminal.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"

fx_start_gateway gw --gc-grace 3
B=$GW_DIR/blocks

"$NATIVE" "$GW_PORT" write doomed 300000 >"$T/doomed" || fx_fail "write doomed"
"$NATIVE" "$GW_PORT" write kept 300000 >"$T/kept" || fx_fail "write kept"
doomed_ino=$(sed -n 's/^ino=\([0-9]*\).*/\1/p' "$T/doomed")
kept_ino=$(sed -n 's/^ino=\([0-9]*\).*/\1/p' "$T/kept")
objs() { find "$B" -path "*/$(printf %x "$1")/*" -type f | wc -l; }
[ "$(objs "$doomed_ino")" = 1 ] && [ "$(objs "$kept_ino")" = 1 ] ||
  fx_fail "expected one object per file"

fx_check "unlink" "$NATIVE" "$GW_PORT" rm doomed
[ "$(status_field garbage_blocks)" = 1 ] || fx_fail "garbage backlog is not 1"

# Within the grace period nothing goes.
expect_exit 0 "gc within the grace" adm gc
grep -q "^gc: deleted 0 block versions; 1 still waiting (within the 3 s grace period)" "$T/out" ||
  fx_fail "gc output: $(cat "$T/out")"
[ "$(objs "$doomed_ino")" = 1 ] || fx_fail "an object went within its grace"

# Past it, the pass (ours, or the collector's own in the meantime)
# empties the backlog.
sleep 5  # the grace counts whole seconds
adm --json gc >"$T/gc.json" || fx_fail "gc: $(cat "$T/gc.json")"
jget "(d['job'], d['state'], d['backlog_after'], d['grace_seconds'])" <"$T/gc.json" |
  grep -qx "('gc', 'done', 0, 3)" || fx_fail "gc --json: $(cat "$T/gc.json")"
[ "$(objs "$doomed_ino")" = 0 ] || fx_fail "the garbage object is still there"
[ "$(objs "$kept_ino")" = 1 ] || fx_fail "a live object was deleted"
[ "$(status_field garbage_blocks)" = 0 ] || fx_fail "backlog not empty"

# Through a terminal: the progress bar path.
if command -v script >/dev/null; then
  script -qec "'$FLEXFS_ADMIN' -p $GW_PORT gc" /dev/null >"$T/tty" 2>&1 ||
    fx_fail "gc under a terminal: $(tail -c 300 "$T/tty")"
  grep -q "gc: deleted 0 block versions" "$T/tty" || fx_fail "gc tty output"
fi
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
