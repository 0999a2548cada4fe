#!/bin/bash
# admin_fsck.sh - flexfs-admin fsck against a real gateway and block
# store: a clean tree is clean; damage made on purpose is found (block-map
# entries whose object is missing, an unreferenced object, a dangling
# entry, a wrong link count, an orphan inode) while young and foreign
# objects are left alone; --repair fixes all of it and a second pass is
# clean.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"

fx_start_gateway gw
B=$GW_DIR/blocks

fx_check "a file with data" "$NATIVE" "$GW_PORT" write good 100000
fx_check "a tree" "$NATIVE" "$GW_PORT" build 5
expect_exit 0 "fsck of a clean tree" adm fsck
grep -qx "fsck: clean" "$T/out" || fx_fail "fsck output: $(cat "$T/out")"
adm --json fsck >"$T/f.json"
jget "(d['state'], d['inodes'], d['objects'], d['blocks'], d['problems'])" <"$T/f.json" |
  grep -qx "('done', 9, 1, 1, \[\])" || fx_fail "clean fsck: $(cat "$T/f.json")"

# ---- damage in the block store and the block maps ----
# A map entry naming a version that was never uploaded.
"$NATIVE" "$GW_PORT" phantom ghost >"$T/ghost" || fx_fail "phantom"
ghost_key=$(sed -n 's/.*key=//p' "$T/ghost")
# A block object deleted behind the gateway's back.
good_obj=$(cd "$B" && find . -type f | sed 's|^\./||' | head -1)
[ -n "$good_obj" ] || fx_fail "no object of good"
rm "$B/$good_obj"
# An object nothing names, written long ago by a session long gone...
mkdir -p "$B/1/fff0"
echo junk >"$B/1/fff0/0.dead00000001"
touch -d '-2 hours' "$B/1/fff0/0.dead00000001"
# ...one written just now (maybe a write in flight: left alone)...
echo junk >"$B/1/fff0/1.dead00000002"
# ...and something that is no block at all.
echo hello >"$B/README"

expect_exit 4 "fsck finds the damage" adm fsck
grep -q "^missing block: inode [0-9]* (volume default) block 0 names object $ghost_key" "$T/out" ||
  fx_fail "phantom block not reported: $(cat "$T/out")"
grep -q "names object $good_obj, which the store does not have" "$T/out" ||
  fx_fail "deleted object not reported"
grep -q "^unreferenced object: 1/fff0/0.dead00000001" "$T/out" ||
  fx_fail "unreferenced object not reported"
grep -q "1.dead00000002" "$T/out" && fx_fail "a young object was reported"
grep -q "run fsck --repair" "$T/out" || fx_fail "no hint to repair"
adm --json fsck >"$T/f.json"
jget "(d['missing_blocks'], d['unreferenced_objects'], d['young_objects'], d['foreign_objects'])" <"$T/f.json" |
  grep -qx "(2, 1, 1, 1)" || fx_fail "fsck figures: $(cat "$T/f.json")"
[ -e "$B/1/fff0/0.dead00000001" ] || fx_fail "fsck without --repair deleted something"

# ---- damage in the namespace (the gateway stopped meanwhile) ----
kill -TERM "$GW_PID"
fx_wait_for 20 sh -c "! kill -0 $GW_PID" || fx_fail "gateway did not stop"
"$INJECT" "$GW_DIR/meta" dangling /d/f1 >/dev/null || fx_fail "inject dangling"
"$INJECT" "$GW_DIR/meta" nlink /d/f2 5 >/dev/null || fx_fail "inject nlink"
orphan=$("$INJECT" "$GW_DIR/meta" orphan /d/f3 | sed 's/ino=//') ||
  fx_fail "inject orphan"
fx_restart_gateway gw KILL

expect_exit 4 "fsck finds the namespace damage" adm fsck
grep -q '^dangling entry: "f1" in directory [0-9]* names missing inode' "$T/out" ||
  fx_fail "dangling entry not reported: $(cat "$T/out")"
grep -q "^wrong link count: inode [0-9]* (volume default) has nlink 5, its entries say 1" "$T/out" ||
  fx_fail "wrong nlink not reported"
grep -q "^orphan inode: $orphan (volume default, file, nlink 1) has no entry" "$T/out" ||
  fx_fail "orphan not reported"

# The progress bar is drawn on a terminal (and fsck still works there).
if command -v script >/dev/null; then
  script -qec "'$FLEXFS_ADMIN' -p $GW_PORT fsck" /dev/null >"$T/tty" 2>&1
  [ $? = 4 ] || fx_fail "fsck under a terminal: $(tail -c 300 "$T/tty")"
fi

# ---- repair ----
expect_exit 1 "fsck --repair" adm fsck --repair
grep -q "fsck: 6 problems, 6 repaired" "$T/out" ||
  fx_fail "repair summary: $(cat "$T/out")"
expect_exit 0 "fsck after repair" adm fsck
grep -qx "fsck: clean" "$T/out" || fx_fail "not clean after repair: $(cat "$T/out")"
[ -e "$B/1/fff0/0.dead00000001" ] && fx_fail "the unreferenced object is still there"
[ -e "$B/1/fff0/1.dead00000002" ] || fx_fail "the young object was deleted"
[ -e "$B/README" ] || fx_fail "the foreign object was deleted"
"$NATIVE" "$GW_PORT" tree >"$T/tree" || fx_fail "tree"
grep -q "^/lost+found/#$orphan type=100000 size=0 nlink=1 " "$T/tree" ||
  fx_fail "orphan not in lost+found: $(cat "$T/tree")"
grep -q "^/d/f1 " "$T/tree" && fx_fail "the dangling entry is still listed"
grep -q "^/d/f2 .* nlink=1 " "$T/tree" || fx_fail "nlink not fixed"
grep -q "^/ghost .* map=0$" "$T/tree" || fx_fail "ghost still maps a block"
grep -q "^/good .* map=0$" "$T/tree" || fx_fail "good still maps its lost block"
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
