# admin_lib.sh - helpers of the admin tests (tests/integration/admin_*.sh),
# sourced after tests/lib/common.sh.
NATIVE="$FLEXFS_BUILDDIR/tests/integration/admin_native"
INJECT="$FLEXFS_BUILDDIR/tests/integration/admin_inject"
[ -x "$FLEXFS_ADMIN" ] || fx_fail "flexfs-admin is not built"
command -v python3 >/dev/null || fx_skip "python3 is needed to read --json"

# adm ARGS...: flexfs-admin against the current gateway ($GW_PORT).
adm() { "$FLEXFS_ADMIN" -p "$GW_PORT" "$@"; }

# jget EXPR: evaluates a Python expression over the JSON document on
# stdin, bound to d; prints the result.
jget() {
  python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# op_count PROGRAM OP: calls of one operation so far, from status --json.
op_count() {
  adm --json status | jget "sum(o['count'] for o in d['operations'] if o['program'] == '$1' and o['op'] == '$2')"
}

# status_field KEY: one top-level figure of status --json.
status_field() { adm --json status | jget "d['$1']"; }

# expect_exit CODE DESCRIPTION COMMAND...: the command must exit with CODE.
expect_exit() {
  local want=$1 what=$2; shift 2
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" = "$want" ] || fx_fail "$what: exit $rc, expected $want (stdout: $(head -c 300 "$T/out"); stderr: $(head -c 300 "$T/err"))"
}

# have_fuse: can this test mount the FUSE client?
have_fuse() {
  [ -x "$MOUNT_FLEXFS" ] && [ -c /dev/fuse ] && [ "$(id -u)" = 0 ]
}

# free_port: a TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# hold_session NAME [lock]: a native session holding NAME open (and
# write-locked) in the background; sets HOLD_PID and HOLD_SESSION.
hold_session() {
  local out="$T/hold-$1.out"
  "$NATIVE" "$GW_PORT" hold "$@" >"$out" 2>>"$T/native.log" &
  HOLD_PID=$!
  fx_track_pid "$HOLD_PID"
  fx_wait_for 10 grep -q '^session=' "$out" || fx_fail "hold $1 did not start"
  HOLD_SESSION=$(sed -n 's/^session=\([0-9]*\).*/\1/p' "$out")
}
