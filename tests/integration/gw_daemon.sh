#!/bin/bash
# gw_daemon.sh - flexfs-gatewayd as a process: --version/--help, startup
# errors reported on stderr with a non-zero exit before detaching (bad
# config, bad values, port in use, unusable meta dir, pid file in use),
# the pid file written and removed, daemon mode (detaches; the pid file
# names the daemon, which stops cleanly on SIGTERM), SIGHUP reopening the
# log file, and settings from a config file.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
GWP="$FLEXFS_BUILDDIR/tests/integration/gw_protocol"

# A process is gone when /proc has no live entry for it (a zombie counts
# as gone: its parent may not be us).
gone() { [ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }

# expect_startup_error WHAT PATTERN ARGS...: the gateway must exit non-zero
# within 20 s and say PATTERN on stderr.
expect_startup_error() {
  local what=$1 pat=$2 rc; shift 2
  timeout 20 "$GATEWAYD" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  [ $rc -ne 0 ] || fx_fail "$what: exit status 0"
  [ $rc -ne 124 ] || fx_fail "$what: still running after 20 s"
  grep -qi -- "$pat" "$T/err" || fx_fail "$what: no '$pat' in: $(cat "$T/err")"
}

"$GATEWAYD" --version | grep -q "flexfs" || fx_fail "--version"
"$GATEWAYD" --help | grep -q -- "--meta-dir" || fx_fail "--help"

mkdir -p "$T/x"
X=(--listen 127.0.0.1:0 --meta-dir "$T/x/meta" --store "file://$T/x/blocks")
printf 'lease_time = banana\n' >"$T/bad1.conf"
expect_startup_error "bad value in config" "lease_time" -f -c "$T/bad1.conf" "${X[@]}"
expect_startup_error "bad value in config, daemon mode" "lease_time" -c "$T/bad1.conf" "${X[@]}"
printf '[gateway]\nno_such_key = 1\n' >"$T/bad2.conf"
expect_startup_error "unknown key" "no_such_key" -f -c "$T/bad2.conf" "${X[@]}"
printf 'this line is not a setting\n' >"$T/bad3.conf"
expect_startup_error "malformed config" "bad3.conf" -f -c "$T/bad3.conf" "${X[@]}"
expect_startup_error "missing config" "nonexistent" -f -c "$T/nonexistent.conf" "${X[@]}"
expect_startup_error "bad workers" "workers" -f --workers 0 "${X[@]}"
expect_startup_error "bad block size" "block_size" -f --block-size 3000 "${X[@]}"
expect_startup_error "bad log level" "log_level" -f --log-level loud "${X[@]}"
expect_startup_error "bad listen" "listen" -f --listen "127.0.0.1:99999"
expect_startup_error "stray argument" "unexpected" -f stray "${X[@]}"
expect_startup_error "unusable meta dir" "metadata" -f --listen 127.0.0.1:0 \
  --meta-dir /dev/null/meta --store "file://$T/x/blocks"
expect_startup_error "unusable meta dir, daemon mode" "metadata" --listen 127.0.0.1:0 \
  --meta-dir /dev/null/meta --store "file://$T/x/blocks"
expect_startup_error "unknown store" "store" -f --listen 127.0.0.1:0 \
  --meta-dir "$T/x/meta" --store "nosuch://bucket"

# A foreground gateway with a pid file.
fx_start_gateway gw --pid-file "$T/gw.pid"
[ "$(cat "$T/gw.pid")" = "$GW_PID" ] || fx_fail "pid file names $(cat "$T/gw.pid"), not $GW_PID"
expect_startup_error "port in use" "in use" -f --listen "127.0.0.1:$GW_PORT" \
  --meta-dir "$T/x/meta" --store "file://$T/x/blocks"
expect_startup_error "port in use, daemon mode" "in use" --listen "127.0.0.1:$GW_PORT" \
  --meta-dir "$T/x/meta" --store "file://$T/x/blocks"
expect_startup_error "pid file in use" "already running" -f --pid-file "$T/gw.pid" "${X[@]}"
expect_startup_error "meta dir in use" "metadata" -f --listen 127.0.0.1:0 \
  --meta-dir "$GW_DIR/meta" --store "file://$T/x/blocks"
[ "$(cat "$T/gw.pid")" = "$GW_PID" ] || fx_fail "a refused start changed the pid file"
fx_check "gateway serves" "$GWP" ping "$GW_PORT"
kill -TERM "$GW_PID"
wait "$GW_PID"
rc=$?
[ $rc -eq 0 ] || fx_fail "exit status $rc after SIGTERM"
[ ! -e "$T/gw.pid" ] || fx_fail "pid file left after a clean exit"
[ ! -e "$GW_DIR/port" ] || fx_fail "port file left after a clean exit"

# SIGTERM at any moment, even during startup, ends the gateway and
# leaves no pid file.
for i in 1 2 3; do
  mkdir -p "$T/e$i"
  "$GATEWAYD" -f --listen 127.0.0.1:0 --meta-dir "$T/e$i/meta" \
    --store "file://$T/e$i/blocks" --pid-file "$T/e$i/pid" >>"$T/early.log" 2>&1 &
  epid=$!
  fx_track_pid $epid
  sleep "0.0$i"
  kill -TERM $epid
  fx_wait_for 10 gone $epid || fx_fail "SIGTERM $i did not end a starting gateway"
  [ ! -e "$T/e$i/pid" ] || fx_fail "pid file left by SIGTERM during startup"
done

# Daemon mode, with settings from a config file (the command line wins
# over it: the file's listen address is taken).
mkdir -p "$T/d"
cat >"$T/d.conf" <<CONF
# a comment
[gateway]
listen = 127.0.0.1:1
meta_dir = $T/d/meta
store = file://$T/d/blocks
log_level = info
lease_time = 7
block_size = 1M
[client]
whatever = is ignored here
CONF
start=$(date +%s)
"$GATEWAYD" -c "$T/d.conf" --listen 127.0.0.1:0 --pid-file "$T/d/pid" \
  --port-file "$T/d/port" --log-file "$T/d.log" || fx_fail "daemon start failed"
[ $(( $(date +%s) - start )) -lt 15 ] || fx_fail "daemon start took too long"
[ -s "$T/d/pid" ] || fx_fail "no pid file once the daemon is up"
[ -s "$T/d/port" ] || fx_fail "no port file once the daemon is up"
dpid=$(cat "$T/d/pid")
fx_track_pid "$dpid"
kill -0 "$dpid" || fx_fail "pid file names no live process"
[ "$(ps -o sid= -p "$dpid" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ] ||
  fx_fail "daemon did not start a session of its own"
[ "$(ps -o ppid= -p "$dpid" | tr -d ' ')" != "$$" ] || fx_fail "daemon is our child"
dport=$(cat "$T/d/port")
fx_check "daemon serves" "$GWP" ping "$dport"
grep -q "serving" "$T/d.log" || fx_fail "daemon log file has no startup line"
# The lease time and the default volume's block size from the file reach
# the MOUNT reply.
python3 - "$dport" <<'PY' || fx_fail "lease time or block size from the config file not used"
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
def op(b): return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)
body = struct.pack(">IIIIIIIIII", 1, 0, 2, 0x2046580a, 1, 1, 0, 0, 0, 0) + op(b"") + op(b"t")
s.sendall(struct.pack(">I", 0x80000000 | len(body)) + body)
h = struct.unpack(">I", s.recv(4))[0] & 0x7fffffff
data = b""
while len(data) < h: data += s.recv(h - len(data))
status, session, lease, root, vol, bsize = struct.unpack(">iQIQQI", data[24:60])
sys.exit(0 if status == 0 and lease == 7 and bsize == 1 << 20 else 1)
PY

# SIGHUP reopens the log file (for logrotate).
mv "$T/d.log" "$T/d.log.1"
kill -HUP "$dpid"
fx_wait_for 10 grep -q "reopened" "$T/d.log" || fx_fail "SIGHUP did not reopen the log"
kill -0 "$dpid" || fx_fail "SIGHUP killed the daemon"

kill -TERM "$dpid"
fx_wait_for 20 gone "$dpid" || fx_fail "daemon did not stop on SIGTERM"
[ ! -e "$T/d/pid" ] || fx_fail "daemon left its pid file"
grep -q "stopped" "$T/d.log" || fx_fail "daemon did not log a clean stop"
fx_pass
