#!/bin/bash
# admin_status.sh - flexfs-admin status and checkpoint against a real
# gateway: the figures move as operations run (native calls, and a FUSE
# mount when the client is built), JSON output parses, usage errors and an
# unreachable gateway give clear messages and the right exit codes.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"

fx_start_gateway gw

# ---- human output ----
expect_exit 0 "status" adm status
grep -q "^gateway *127.0.0.1:$GW_PORT (flexfs [0-9.]*), up " "$T/out" ||
  fx_fail "status has no gateway line: $(cat "$T/out")"
grep -q "^volumes *1$" "$T/out" || fx_fail "status: volumes is not 1"
grep -q "^sessions *0$" "$T/out" || fx_fail "status: sessions is not 0"
grep -q "^db cache .*hits" "$T/out" || fx_fail "status: no db cache line"
grep -q "^db log *[1-9][0-9]* files" "$T/out" || fx_fail "status: no db log"
grep -q "^store *file://$GW_DIR/blocks" "$T/out" || fx_fail "status: store"

# ---- figures move ----
creates=$(op_count flexfs CREATE)
mkdirs=$(op_count flexfs MKDIR)
fx_check "native calls" "$NATIVE" "$GW_PORT" build 25
[ "$(op_count flexfs CREATE)" -ge $((creates + 25)) ] ||
  fx_fail "CREATE count did not grow by 25"
[ "$(op_count flexfs MKDIR)" -eq $((mkdirs + 1)) ] ||
  fx_fail "MKDIR count did not grow by 1"
# An error reply is counted as one.
errs=$(adm --json status | jget "sum(o['errors'] for o in d['operations'] if o['op'] == 'MKDIR')")
"$NATIVE" "$GW_PORT" build 1 >/dev/null 2>&1 &&
  fx_fail "a second mkdir of d succeeded"
[ "$(adm --json status | jget "sum(o['errors'] for o in d['operations'] if o['op'] == 'MKDIR')")" -eq $((errs + 1)) ] ||
  fx_fail "the EEXIST of MKDIR was not counted as an error"
# Latency figures are there and sane.
adm --json status | jget "all(o['count'] == 0 or (o['max_ns'] > 0 and o['p50_ns'] <= o['max_ns'] and o['avg_ns'] <= o['max_ns']) for o in d['operations'])" |
  grep -qx True || fx_fail "latency figures are inconsistent"
# Status counts itself (the admin program is measured too).
[ "$(op_count admin STATUS)" -ge 3 ] || fx_fail "admin STATUS not counted"
[ "$(adm --json volume list | jget "[v['inodes'] for v in d if v['name'] == 'default'][0]")" -ge 28 ] ||
  fx_fail "volume list inode count did not grow"

# Sessions: a native session shows up and goes.  (The failed build above
# left its session to run out its lease.)
s0=$(status_field sessions)
hold_session held
[ "$(status_field sessions)" = $((s0 + 1)) ] || fx_fail "sessions did not grow"
fx_check "evict" adm evict "$HOLD_SESSION"
[ "$(status_field sessions)" = "$s0" ] || fx_fail "sessions did not drop after evict"

# DB figures.
adm --json status | jget "d['db']['cache_hits'] + d['db']['cache_misses'] > 0 and d['db']['log_files'] >= 1 and d['db']['log_bytes'] > 0 and d['db']['cache_bytes'] > 0" |
  grep -qx True || fx_fail "db figures missing"
adm --json status | jget "d['uptime_seconds'] >= 0 and d['start_time'] > 1600000000 and d['version'] != ''" |
  grep -qx True || fx_fail "version/uptime missing"

# ---- checkpoint ----
expect_exit 0 "checkpoint" adm checkpoint
grep -qx "checkpoint done" "$T/out" || fx_fail "checkpoint output"
adm --json checkpoint | jget "d['checkpoint']" | grep -qx True ||
  fx_fail "checkpoint --json"

# ---- a FUSE mount moves the figures too ----
if have_fuse; then
  commits=$(op_count flexfs COMMIT_WRITE)
  s0=$(status_field sessions)
  fx_mount gw "$T/mnt"
  [ "$(status_field sessions)" = $((s0 + 1)) ] || fx_fail "the FUSE mount is not a session"
  head -c 300000 /dev/urandom >"$T/data"
  cp "$T/data" "$T/mnt/data"
  sync "$T/mnt/data"
  fx_check "data read back" cmp "$T/data" "$T/mnt/data"
  [ "$(op_count flexfs COMMIT_WRITE)" -gt "$commits" ] ||
    fx_fail "COMMIT_WRITE not counted for the mount's write"
  fx_umount "$T/mnt" || fx_fail "umount"
  fx_wait_for 10 sh -c "[ \"\$('$FLEXFS_ADMIN' -p $GW_PORT --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"sessions\"])')\" = $s0 ]" ||
    fx_fail "the session did not end at unmount"
else
  fx_log "mount.flexfs not built or no FUSE: FUSE part of the test skipped"
fi

# ---- errors ----
expect_exit 2 "unknown command" adm frobnicate
grep -q "unknown command" "$T/err" || fx_fail "no message for unknown command"
expect_exit 2 "extra argument" adm status now
expect_exit 2 "bad port" "$FLEXFS_ADMIN" -p 0 status
expect_exit 2 "no command" "$FLEXFS_ADMIN"
expect_exit 0 "help" "$FLEXFS_ADMIN" --help
grep -q "client-stats" "$T/out" || fx_fail "help lists no commands"
port=$(free_port)
expect_exit 1 "unreachable gateway" "$FLEXFS_ADMIN" -p "$port" status
grep -q "cannot reach the gateway at 127.0.0.1:$port" "$T/err" ||
  fx_fail "unclear message for an unreachable gateway: $(cat "$T/err")"
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
