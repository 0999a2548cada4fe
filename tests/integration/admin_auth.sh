#!/bin/bash
# admin_auth.sh - who may use the admin program: root on the gateway host
# only, plus the hosts admin_hosts names.  A non-root caller, a caller
# without AUTH_SYS and a caller from another address (127.0.0.2 stands in
# for another host) get AUTH_ERROR, and the gateway logs each refusal;
# NULL answers everyone (rpcinfo -t).
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"
fx_require_root
command -v setpriv >/dev/null || fx_skip "setpriv (util-linux) is needed"

fx_start_gateway gw
LOG=$T/gw.log
expect_exit 0 "root on the gateway host" adm status

# Not root.
expect_exit 1 "uid 65534" setpriv --reuid=65534 --regid=65534 --clear-groups \
  "$FLEXFS_ADMIN" -p "$GW_PORT" volume create evil
grep -q "refused the call: admin calls need root" "$T/err" ||
  fx_fail "non-root message: $(cat "$T/err")"
fx_wait_for 5 grep -q "admin: refused VOLUME_CREATE from 127.0.0.1 uid 65534: not root" "$LOG" ||
  fx_fail "the refusal of a non-root caller is not logged"
adm --json volume list | jget "[v['name'] for v in d]" | grep -qx "\['default'\]" ||
  fx_fail "the refused call changed something"

# Another host (an address that is not the gateway's own).
expect_exit 1 "from 127.0.0.2" adm -s 127.0.0.2 status
grep -q "refused the call" "$T/err" || fx_fail "other-host message: $(cat "$T/err")"
fx_wait_for 5 grep -q "admin: refused STATUS from 127.0.0.2 uid 0: host not in admin_hosts" "$LOG" ||
  fx_fail "the refusal of another host is not logged"

# By hand: STATUS without AUTH_SYS (AUTH_NONE) is refused; NULL answers
# anyone (AUTH_NONE, or AUTH_SYS of any uid), as rpcinfo -t needs.
python3 - "$GW_PORT" <<'PY' || fx_fail "raw admin calls were not answered as they should be"
import socket, struct, sys

def call(proc, flavor, uid=0):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    if flavor == 1:                     # AUTH_SYS: stamp, machine, uid, gid, gids
        body = struct.pack(">II", 0, 4) + b"test" + struct.pack(">III", uid, uid, 0)
    else:
        body = b""
    msg = struct.pack(">IIIIII", 77, 0, 2, 0x2046580b, 1, proc)
    msg += struct.pack(">II", flavor, len(body)) + body + struct.pack(">II", 0, 0)
    s.sendall(struct.pack(">I", 0x80000000 | len(msg)) + msg)
    data = b""
    while len(data) < 4 or len(data) < 4 + (struct.unpack(">I", data[:4])[0] & 0x7fffffff):
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("connection closed")
        data += chunk
    s.close()
    xid, mtype, stat = struct.unpack(">III", data[4:16])
    assert (xid, mtype) == (77, 1)
    if stat == 1:                       # MSG_DENIED: reject_stat, auth_stat
        return ("denied",) + struct.unpack(">II", data[16:24])
    # MSG_ACCEPTED: verifier, accept_stat
    vlen = struct.unpack(">I", data[20:24])[0]
    return ("accepted", struct.unpack(">I", data[24 + vlen:28 + vlen])[0])

ok = True
r = call(1, 0)
ok &= r[0] == "denied" and r[1] == 1           # AUTH_ERROR
r = call(1, 1, 65534)
ok &= r[0] == "denied" and r[1] == 1
ok &= call(0, 0) == ("accepted", 0)            # SUCCESS
ok &= call(0, 1, 65534) == ("accepted", 0)
sys.exit(0 if ok else 1)
PY
fx_wait_for 5 grep -q "admin: refused STATUS from 127.0.0.1: not AUTH_SYS" "$LOG" ||
  fx_fail "the AUTH_NONE refusal is not logged"

# admin_hosts lets another host in (root there only), from the command line...
fx_restart_gateway gw TERM --admin-hosts "10.1.0.0/16, 127.0.0.2"
expect_exit 0 "from an allowed host" adm -s 127.0.0.2 status
expect_exit 1 "non-root from an allowed host" setpriv --reuid=65534 \
  --regid=65534 --clear-groups "$FLEXFS_ADMIN" -s 127.0.0.2 -p "$GW_PORT" status
expect_exit 1 "from a host not listed" adm -s 127.0.0.3 status

# ...and from the config file.
printf '[gateway]\nadmin_hosts = 127.0.0.3\n' >"$T/gw.conf"
fx_restart_gateway gw TERM -c "$T/gw.conf"
expect_exit 0 "allowed by the config file" adm -s 127.0.0.3 status
expect_exit 1 "no longer allowed" adm -s 127.0.0.2 status

# A malformed list stops the gateway at start with a message.
mkdir -p "$T/bad/meta"
if timeout 20 "$GATEWAYD" -f --listen 127.0.0.1:0 --meta-dir "$T/bad/meta" \
     --store "file://$T/bad" --admin-hosts "not-a-host" >"$T/bad.log" 2>&1; then
  fx_fail "the gateway started with a bad admin_hosts"
fi
grep -q "admin_hosts" "$T/bad.log" || fx_fail "no message for a bad admin_hosts"
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
