#!/bin/bash
# e2e_keys.sh - block objects in S3 through a real mount: keys follow the
# design (<prefix>/<volume>/<inode>/<block index>.<version>, hex) with the
# bytes of the blocks; an overwritten block keeps exactly one version once
# the garbage collector (--gc-grace 1) has run; a deleted or truncated
# file leaves no object behind; garbage survives a gateway kill -9; after
# GC the bucket holds exactly the live block versions (expected keys from
# inode numbers and sizes, and fsck finding nothing missing or
# unreferenced); fsck judges the age of an unreferenced S3 object (HEAD)
# and --repair deletes it only once it is old.
: "${FLEXFS_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export FX_STORE=s3
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"
fx_require_root
fx_require_fuse
export FLEXFS_STATS_DIR=$T/stats
BS=$((4 << 20))

fx_start_gateway gw --gc-grace 1
M=$T/mnt
fx_mount gw "$M"
VOL=$(adm --json volume list | jget "'%x' % [v['id'] for v in d if v['name'] == 'default'][0]") ||
  fx_fail "volume list"
hex() { printf '%x' "$1"; }
ino_of() { hex "$(stat -c %i "$1")"; }
keys() { fx_store_keys gw "$@" || fx_fail "listing the bucket"; }
# versions FILE INDEX: the object keys of one block of FILE.
versions() { keys "$VOL/$(ino_of "$1")/" | grep "^$VOL/[0-9a-f]*/$(hex "$2")\." || true; }
nversions() { versions "$@" | grep -c . || true; }
# expected_blocks: "VOL/INO/INDEX" of every block the files in the mount
# have, by their sizes (files here are written whole: no holes).
expected_blocks() {
  local f ino size i
  find "$M" -type f | while read -r f; do
    ino=$(ino_of "$f"); size=$(stat -c %s "$f")
    for ((i = 0; i * BS < size; i++)); do echo "$VOL/$ino/$(hex $i)"; done
  done | sort
}
stored_blocks() { keys | sed 's/\.[0-9a-f]*$//' | sort; }
live_only() { [ "$(stored_blocks)" = "$(expected_blocks)" ]; }
# Waits until the bucket holds one version of each live block, no more.
gc_settles() { fx_wait_for 30 live_only; }
fsck_clean() {
  adm --json fsck >"$T/fsck.json" || return 1
  jget "(d['missing_blocks'], d['unreferenced_objects'], d['problems'])" <"$T/fsck.json" |
    grep -qx "(0, 0, \[\])"
}

# ---- keys and bytes of fresh files ----
head -c $((10 * 1024 * 1024 + 1)) /dev/urandom >"$T/a"
head -c 100 /dev/urandom >"$T/b"
cp "$T/a" "$M/a" && cp "$T/b" "$M/b" || fx_fail "writing files"
ia=$(ino_of "$M/a"); ib=$(ino_of "$M/b")
keys >"$T/keys"
grep -qvE "^$VOL/[0-9a-f]+/[0-9a-f]+\.[0-9a-f]+$" "$T/keys" &&
  fx_fail "keys not VOL/INO/INDEX.VERSION in hex: $(head -3 "$T/keys")"
fx_check "the bucket holds a's 3 blocks and b's 1, one version each" live_only
fx_check "block objects of a by index" \
  test "$(grep "^$VOL/$ia/" "$T/keys" | cut -d/ -f3 | cut -d. -f1 | tr '\n' ' ')" = "0 1 2 "
sizes=$("$FLEXFS_BUILDDIR/tests/s3/storetool" -c "$S3_CRED" "$gw_STORE" list "$VOL/$ia/" | cut -f2 | tr '\n' ' ')
fx_check "object sizes are the blocks' lengths ($sizes)" test "$sizes" = "$BS $BS 2097153 "
# Where s3rver keeps them: under the bucket and the store's prefix.
k1=$(versions "$M/a" 1)
obj="$S3_DATA/$S3_BUCKET/$S3_PREFIX/gw/$k1._S3rver_object"
fx_check "block 1 of a is in the bucket under the prefix ($obj)" test -f "$obj"
fx_check "its bytes are a's second 4 MiB" \
  cmp "$obj" <(tail -c +$((BS + 1)) "$T/a" | head -c $BS)
fx_check "fsck: nothing missing or unreferenced" fsck_clean

# ---- an overwritten block keeps one version ----
printf 'overwritten' | dd of="$M/a" bs=1 seek=$((BS + 4096)) conv=notrunc status=none ||
  fx_fail "overwrite"
printf 'overwritten' | dd of="$T/a" bs=1 seek=$((BS + 4096)) conv=notrunc status=none
# The old version goes once its grace is over.
one_new_version() { [ "$(versions "$M/a" 1)" != "$k1" ] && [ "$(nversions "$M/a" 1)" = 1 ]; }
fx_wait_for 30 one_new_version ||
  fx_fail "block 1 after the overwrite and GC: $(versions "$M/a" 1 | tr '\n' ' ')"
k1new=$(versions "$M/a" 1)
fx_check "blocks 0 and 2 kept their versions" test "$(nversions "$M/a" 0)$(nversions "$M/a" 2)" = 11
fx_check "the new version holds the merged block" \
  cmp "$S3_DATA/$S3_BUCKET/$S3_PREFIX/gw/$k1new._S3rver_object" \
      <(tail -c +$((BS + 1)) "$T/a" | head -c $BS)

# ---- a deleted file leaves nothing; a truncated one loses its tail ----
rm "$M/b"
truncate -s $((5 * 1024 * 1024)) "$M/a"
truncate -s $((5 * 1024 * 1024)) "$T/a"
gone() { [ -z "$(keys "$VOL/$ib/")" ] && [ -z "$(versions "$M/a" 2)" ]; }
fx_wait_for 30 gone || fx_fail "objects left: $(keys "$VOL/$ib/") $(versions "$M/a" 2)"
fx_check "after GC the bucket holds exactly the live blocks" gc_settles

# ---- many files, rewritten and removed: the bucket converges ----
mkdir "$M/d"
for i in $(seq 1 20); do head -c $((i * 400000)) /dev/urandom >"$M/d/f$i"; done
for i in $(seq 1 20 | shuf | head -8); do head -c $((i * 300000)) /dev/urandom >"$M/d/f$i"; done
rm -f "$M"/d/f1[0-5]
fx_check "files rewritten and removed: exactly the live blocks remain" gc_settles
fx_check "fsck agrees: nothing missing or unreferenced" fsck_clean

# ---- garbage survives a gateway kill -9 ----
fx_restart_gateway gw TERM --gc-grace 3600
head -c $((6 << 20)) /dev/urandom >"$M/c"
ic=$(ino_of "$M/c")
rm "$M/c"
sleep 2
[ -n "$(keys "$VOL/$ic/")" ] || fx_fail "c's objects went before their grace"
fx_restart_gateway gw KILL --gc-grace 1
c_gone() { [ -z "$(keys "$VOL/$ic/")" ]; }
fx_wait_for 30 c_gone ||
  fx_fail "garbage from before the kill -9 was not collected: $(keys "$VOL/$ic/")"
fx_check "the tree is intact after the restart" cmp "$M/a" "$T/a"

# ---- fsck on S3: an unreferenced object is judged by its age ----
# (Last-Modified has whole seconds: a grace of 4 s tells young from old.)
fx_restart_gateway gw TERM --gc-grace 4
echo junk >"$T/junk"
stray="$VOL/fff0/0.dead00000001"
fx_check "a stray object" "$FLEXFS_BUILDDIR/tests/s3/storetool" -c "$S3_CRED" "$gw_STORE" put "$stray" "$T/junk"
st=$("$FLEXFS_BUILDDIR/tests/s3/storetool" -c "$S3_CRED" "$gw_STORE" stat "$stray") ||
  fx_fail "HEAD of the stray object"
age=$(( $(date +%s) - $(echo "$st" | cut -f2) ))
[ "$age" -ge -5 ] && [ "$age" -le 60 ] || fx_fail "stray object's Last-Modified is off by $age s"
adm --json fsck >"$T/fsck.json"
jget "(d['unreferenced_objects'], d['young_objects'])" <"$T/fsck.json" | grep -qx "(0, 1)" ||
  fx_fail "a fresh stray object must count as young: $(cat "$T/fsck.json")"
sleep 6
adm --json fsck >"$T/fsck.json"
jget "d['unreferenced_objects']" <"$T/fsck.json" | grep -qx 1 ||
  fx_fail "an old stray object is unreferenced: $(cat "$T/fsck.json")"
adm fsck --repair >"$T/repair.out" 2>&1
grep -q "unreferenced object: $stray .*deleted" "$T/repair.out" ||
  fx_fail "fsck --repair: $(cat "$T/repair.out")"
[ -z "$(keys "$VOL/fff0/")" ] || fx_fail "the stray object is still there"
fx_check "fsck clean after repair" fsck_clean
fx_check "bucket still exactly the live blocks" gc_settles

# ---- the data itself, cold from the bucket ----
fx_umount "$M" || fx_fail "unmount"
fx_mount gw "$M"
fx_check "a reads back from S3" cmp "$M/a" "$T/a"
fx_check "unmount" fx_umount "$M"
[ "$(s3_stat bad_signature)" = 0 ] || fx_fail "the proxy refused signatures"
fx_pass
