#!/bin/bash
# admin_rpcinfo.sh - the classic RPC tools against a gateway: with rpcbind
# running, `rpcinfo -p` lists the native, NFSv4 and admin programs on the
# gateway's port and `rpcinfo -t HOST PROG` answers for each; a clean stop
# unregisters them, but not the entries a later gateway registered over
# them.  Starts Debian's rpcbind (by PID, stopped after) when none runs.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"
fx_require_root
NATIVE_PROG=541480970                   # 0x2046580a
ADMIN_PROG=541480971                    # 0x2046580b
NFS_PROG=100003

if rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
  fx_log "using the rpcbind already running"
else
  RPCBIND=$(command -v rpcbind || echo /usr/sbin/rpcbind)
  [ -x "$RPCBIND" ] || fx_skip "rpcbind is not installed (Debian package rpcbind)"
  [ -d /run/rpcbind ] || { mkdir -p /run/rpcbind && made_run_dir=1; }
  "$RPCBIND" -f -w >"$T/rpcbind.log" 2>&1 &
  RPCBIND_PID=$!
  fx_track_pid $RPCBIND_PID
  # Ours: stopped by PID at the end, with the files it leaves in /run.
  rpcbind_cleanup() {
    kill -TERM "$RPCBIND_PID" 2>/dev/null || return 0
    for _ in $(seq 1 50); do kill -0 "$RPCBIND_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$RPCBIND_PID" 2>/dev/null && return 0
    rm -f /run/rpcbind.sock /run/rpcbind.lock /run/rpcbind/rpcbind.xdr \
      /run/rpcbind/portmap.xdr
    [ -n "${made_run_dir:-}" ] && rmdir /run/rpcbind 2>/dev/null
    return 0
  }
  trap 'rc=$?; rpcbind_cleanup; (exit $rc); fx_cleanup' EXIT
  fx_wait_for 10 rpcinfo -p 127.0.0.1 ||
    fx_skip "rpcbind cannot start here: $(cat "$T/rpcbind.log")"
fi

listed() { grep -Eq "^ *$1 +$2 +tcp +$GW_PORT( |$)" "$T/list"; }
# A gateway registers over whatever entry it finds (one that died left it),
# so a gateway another test starts just after ours takes the entries; then
# ours starts again (in a fresh directory) and registers anew.
for try in 1 2 3 4 5; do
  fx_start_gateway gw$try
  rpcinfo -p 127.0.0.1 >"$T/list" || fx_fail "rpcinfo -p"
  listed $NATIVE_PROG 1 && break
  fx_log "the entries name another gateway; starting ours again"
  kill -TERM "$GW_PID"
  fx_wait_for 20 sh -c "! kill -0 $GW_PID" || fx_fail "gateway did not stop"
done
listed $NATIVE_PROG 1 || fx_fail "native program not registered: $(cat "$T/list")"
listed $ADMIN_PROG 1 || fx_fail "admin program not registered: $(cat "$T/list")"
rpcinfo -t 127.0.0.1 $NATIVE_PROG 1 || fx_fail "rpcinfo -t of the native program"
rpcinfo -t 127.0.0.1 $ADMIN_PROG 1 || fx_fail "rpcinfo -t of the admin program"
rpcinfo -t 127.0.0.1 $ADMIN_PROG 2 >/dev/null 2>&1 &&
  fx_fail "the admin program answers a version it does not have"

# NFSv4: when the gateway serves it on its port, it must be registered too.
if rpcinfo -n "$GW_PORT" -t 127.0.0.1 $NFS_PROG 4 >/dev/null 2>&1; then
  listed $NFS_PROG 4 || fx_fail "NFSv4 served but not registered: $(cat "$T/list")"
  rpcinfo -t 127.0.0.1 $NFS_PROG 4 || fx_fail "rpcinfo -t of NFSv4"
else
  fx_log "this gateway does not serve NFSv4 yet: its registration not checked"
fi

# A gateway that stops takes away only its own entries: a second gateway
# registers over the first one's, the first stops, and the second one's
# entries stay.  Tests running beside this one start and stop gateways
# too: a round in which one of theirs took the entries is run again, but
# entries that are gone fail at once.
kept=0
for try in 1 2 3; do
  fx_start_gateway first$try
  FIRST_PID=$GW_PID FIRST_PORT=$GW_PORT
  fx_start_gateway second$try
  rpcinfo -p 127.0.0.1 >"$T/list" || fx_fail "rpcinfo -p"
  listed $NATIVE_PROG 1 || { fx_log "another gateway took the entries; again"; continue; }
  kill -TERM "$FIRST_PID"
  fx_wait_for 20 sh -c "! kill -0 $FIRST_PID" || fx_fail "gateway did not stop"
  rpcinfo -p 127.0.0.1 >"$T/list" || fx_fail "rpcinfo -p"
  if listed $NATIVE_PROG 1 && listed $ADMIN_PROG 1; then kept=1; break; fi
  grep -Eq "^ *$NATIVE_PROG +1 +tcp +" "$T/list" ||
    fx_fail "the first gateway's stop took the second's entries away: $(cat "$T/list")"
  fx_log "another gateway took the entries; again"
done
[ $kept = 1 ] || fx_fail "other gateways kept taking the entries: $(cat "$T/list")"
grep -Eq "tcp +$FIRST_PORT( |$)" "$T/list" &&
  fx_fail "the stopped gateway is still listed: $(cat "$T/list")"

# A clean stop takes the registrations away.
kill -TERM "$GW_PID"
fx_wait_for 20 sh -c "! kill -0 $GW_PID" || fx_fail "gateway did not stop"
rpcinfo -p 127.0.0.1 >"$T/list2" || fx_fail "rpcinfo -p after stop"
grep -Eq "tcp +$GW_PORT( |$)" "$T/list2" &&
  fx_fail "still registered after a clean stop: $(cat "$T/list2")"
fx_pass
