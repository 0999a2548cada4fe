#!/bin/bash
# client_lostreply.sh - a commit the gateway took but whose reply was lost,
# with the gateway then out of reach past the mount's gateway_timeout:
# fsync reports EIO, yet the uploaded blocks the gateway now names must
# stay (another mount reads the new data, not an error), and the next
# flush (close) succeeds.  A proxy (rpc_dropper.py) drops the reply and
# then refuses connections for a while.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse

fx_start_gateway gw
B=$T/b
fx_mount gw "$B"
python3 "$FLEXFS_SRCDIR/tests/integration/rpc_dropper.py" \
  --listen-port-file "$T/px.port" --gateway "$gw_PORT" --proc 20 \
  --arm "$T/arm" --hold 8 >"$T/dropper.log" 2>&1 &
fx_track_pid $!
fx_wait_for 10 test -s "$T/px.port" || fx_fail "the proxy did not start"
px_PORT=$(cat "$T/px.port")
A=$T/a
fx_mount px "$A" gateway_timeout=4

python3 - "$A/f" "$T/arm" "$B/f" <<'PY' || fx_fail "a commit whose reply was lost"
import errno, os, sys, time
a, arm, b = sys.argv[1:]
old, new = b"a" * 65536, b"b" * 65536
fd = os.open(a, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
os.pwrite(fd, old, 0)
os.fsync(fd)
os.pwrite(fd, new, 0)
open(arm, "w").close()
t0 = time.time()
try:
    os.fsync(fd)
    sys.exit("fsync succeeded without an answer from the gateway")
except OSError as e:
    assert e.errno == errno.EIO, e
time.sleep(max(0, t0 + 10 - time.time()))     # the proxy lets calls in again
time.sleep(1.1)                                # B's attribute cache
with open(b, "rb") as f:
    got = f.read()
assert got == new, "another mount read %r... (%d bytes)" % (got[:8], len(got))
os.close(fd)                                   # flushes again: must work
with open(a, "rb") as f:
    assert f.read() == new
PY
grep -q "dropped the reply" "$T/dropper.log" || fx_fail "no reply was dropped"
grep -q "keeping its" "$T/mount-a.log" || fx_fail "the client did not say it kept the uploads"
fx_check "unmount A" fx_umount "$A"
fx_check "unmount B" fx_umount "$B"
fx_pass
