#!/bin/bash
# admin_volume.sh - volume create, list and delete against a real gateway:
# block sizes, the errors (taken name, bad name or size, not empty,
# mounted, unknown), a forced delete handing the blocks to gc (and gc
# then deleting them), and the result surviving a restart.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"

fx_start_gateway gw --gc-grace 1

expect_exit 0 "create scratch" adm volume create scratch --block-size 64k
grep -q "^volume scratch created (id [0-9]*, block size 64.0 KiB)" "$T/out" ||
  fx_fail "create output: $(cat "$T/out")"
adm --json volume list >"$T/vols.json"
jget "sorted(v['name'] for v in d)" <"$T/vols.json" | grep -qx "\['default', 'scratch'\]" ||
  fx_fail "volume list: $(cat "$T/vols.json")"
jget "[v['block_size'] for v in d if v['name'] == 'scratch'][0]" <"$T/vols.json" |
  grep -qx 65536 || fx_fail "scratch block size"
jget "[v['inodes'] for v in d if v['name'] == 'scratch'][0]" <"$T/vols.json" |
  grep -qx 1 || fx_fail "a new volume holds its root only"
vol_id=$(jget "[v['id'] for v in d if v['name'] == 'scratch'][0]" <"$T/vols.json")
expect_exit 0 "default block size" adm --json volume create other
jget "d['block_size']" <"$T/out" | grep -qx 4194304 || fx_fail "default size"

# Errors.
expect_exit 1 "taken name" adm volume create scratch
grep -q "File exists" "$T/err" || fx_fail "taken name: $(cat "$T/err")"
expect_exit 1 "name with /" adm volume create a/b
grep -q "invalid name" "$T/err" || fx_fail "bad name: $(cat "$T/err")"
expect_exit 1 "name too long" adm volume create "$(printf 'x%.0s' $(seq 300))"
expect_exit 1 "block size not a power of two" adm volume create b3 --block-size 3M
expect_exit 1 "block size too small" adm volume create b1 --block-size 1k
expect_exit 2 "block size not a size" adm volume create bz --block-size lots
expect_exit 2 "no name" adm volume create
expect_exit 1 "unknown volume" adm volume delete nosuch
grep -q "No such file" "$T/err" || fx_fail "unknown volume: $(cat "$T/err")"

# Files in scratch (blocks of 64 KiB: 4 of them).
FX_VOLUME=scratch fx_check "write into scratch" "$NATIVE" "$GW_PORT" write f 200000
FX_VOLUME=scratch fx_check "tree in scratch" "$NATIVE" "$GW_PORT" build 3
adm --json volume list | jget "[(v['inodes'], v['bytes']) for v in d if v['name'] == 'scratch'][0]" |
  grep -qx "(7, 200000)" || fx_fail "scratch figures: $(adm volume list)"
nobj=$(find "$GW_DIR/blocks/$(printf %x "$vol_id")" -type f | wc -l)
[ "$nobj" = 4 ] || fx_fail "expected 4 block objects of scratch, found $nobj"

expect_exit 1 "delete a volume with files" adm volume delete scratch
grep -q "not empty; use --force" "$T/err" || fx_fail "not-empty message"

# Mounted: refused even with --force, until the session goes.
FX_VOLUME=scratch hold_session held
expect_exit 1 "delete a mounted volume" adm volume delete scratch --force
grep -q "is mounted" "$T/err" || fx_fail "mounted message: $(cat "$T/err")"
fx_check "evict" adm evict "$HOLD_SESSION"
expect_exit 0 "forced delete" adm --json volume delete scratch --force
jget "(d['inodes'], d['blocks_to_garbage'])" <"$T/out" | grep -qx "(8, 4)" ||
  fx_fail "forced delete figures: $(cat "$T/out")"
adm --json volume list | jget "sorted(v['name'] for v in d)" |
  grep -qx "\['default', 'other'\]" || fx_fail "scratch still listed"
FX_VOLUME=scratch "$NATIVE" "$GW_PORT" tree >/dev/null 2>&1 &&
  fx_fail "the deleted volume can still be mounted"

# Its blocks go with the next gc pass after the grace period.
sleep 1.2
fx_check "gc" adm gc
fx_wait_for 10 sh -c "[ -z \"\$(find '$GW_DIR/blocks/$(printf %x "$vol_id")' -type f 2>/dev/null)\" ]" ||
  fx_fail "block objects of the deleted volume remain"
fx_wait_for 5 sh -c "'$FLEXFS_ADMIN' -p $GW_PORT status | grep -q '^garbage *0 '" ||
  fx_fail "garbage left"

# An empty volume goes without --force.
expect_exit 0 "delete an empty volume" adm volume delete other
grep -q "^volume other deleted" "$T/out" || fx_fail "delete output"

# The result survives a restart; the name can be used again.
fx_restart_gateway gw TERM --gc-grace 1
adm --json volume list | jget "[v['name'] for v in d]" | grep -qx "\['default'\]" ||
  fx_fail "volumes after restart: $(adm volume list)"
expect_exit 0 "create scratch again" adm volume create scratch
FX_VOLUME=scratch "$NATIVE" "$GW_PORT" tree >"$T/tree" || fx_fail "mount new scratch"
[ ! -s "$T/tree" ] || fx_fail "the new scratch is not empty: $(cat "$T/tree")"
fx_pass
