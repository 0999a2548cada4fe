#!/bin/bash
# admin_metrics.sh - the gateway's Prometheus endpoint (--metrics): off by
# default; when on, /metrics parses strictly as text format 0.0.4
# (tests/integration/prom_check.py), its counters and gauges move with the
# operations, other paths get 404 and methods 405.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"
command -v curl >/dev/null || fx_skip "curl is needed"
CHECK="python3 $FLEXFS_SRCDIR/tests/integration/prom_check.py"

# Off by default.
fx_start_gateway plain
grep -q "metrics: serving" "$T/plain.log" && fx_fail "metrics on by default"

fx_start_gateway gw --metrics 127.0.0.1:0
fx_wait_for 5 grep -q "metrics: serving /metrics on 127.0.0.1:0 (port" "$T/gw.log" ||
  fx_fail "the metrics listener did not start"
MPORT=$(sed -n 's/.*metrics: serving \/metrics on .* (port \([0-9]*\)).*/\1/p' "$T/gw.log" | tail -1)
URL=http://127.0.0.1:$MPORT/metrics

curl -sfS -D "$T/h1" "$URL" >"$T/m1" || fx_fail "GET /metrics"
grep -qi "^content-type: text/plain; version=0.0.4" "$T/h1" ||
  fx_fail "content type: $(cat "$T/h1")"
$CHECK <"$T/m1" >"$T/m1.json" || fx_fail "the exposition does not parse"

val() { jget "d.get('$1', -1)" <"$2"; }
[ "$(val 'flexfs_volumes{}' "$T/m1.json")" = 1.0 ] || fx_fail "flexfs_volumes"
[ "$(val 'flexfs_sessions{}' "$T/m1.json")" = 0.0 ] || fx_fail "flexfs_sessions"
grep -q '^flexfs_build_info{version="' "$T/m1" || fx_fail "no build info"
for f in flexfs_locks flexfs_garbage_blocks flexfs_store_errors_total \
         flexfs_db_cache_hits_total flexfs_db_log_bytes \
         flexfs_start_time_seconds; do
  grep -q "^$f " "$T/m1" || fx_fail "no $f"
done

# Operations move the counters and histograms; a session the gauge.
fx_check "native calls" "$NATIVE" "$GW_PORT" build 12
hold_session held
fx_check "garbage" "$NATIVE" "$GW_PORT" write w 1000
fx_check "garbage" "$NATIVE" "$GW_PORT" rm w
curl -sfS "$URL" | $CHECK >"$T/m2.json" || fx_fail "second scrape"
c1=$(val 'flexfs_rpc_calls_total{op="CREATE",program="flexfs"}' "$T/m1.json")
c2=$(val 'flexfs_rpc_calls_total{op="CREATE",program="flexfs"}' "$T/m2.json")
python3 -c "import sys; sys.exit(0 if $c2 - max($c1, 0) >= 13 else 1)" ||
  fx_fail "CREATE calls went from $c1 to $c2"
[ "$(val 'flexfs_rpc_duration_seconds_count{op="CREATE",program="flexfs"}' "$T/m2.json")" = "$c2" ] ||
  fx_fail "CREATE histogram count differs from the call count"
[ "$(val 'flexfs_sessions{}' "$T/m2.json")" = 1.0 ] || fx_fail "sessions gauge"
[ "$(val 'flexfs_garbage_blocks{}' "$T/m2.json")" = 1.0 ] || fx_fail "garbage gauge"
fx_check "evict" adm evict "$HOLD_SESSION"

# Other paths and methods.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")
[ "$code" = 404 ] || fx_fail "GET / gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")
[ "$code" = 405 ] || fx_fail "POST gave $code"
curl -sfS -I "$URL" >"$T/head" || fx_fail "HEAD"
grep -q "^HTTP/1.0 200" "$T/head" || fx_fail "HEAD status"
# A peer that sends nothing is dropped after a few seconds, and the
# listener serves the next one.
exec 7<>/dev/tcp/127.0.0.1/$MPORT
curl -sfS -m 10 "$URL" >/dev/null || fx_fail "listener stuck behind a silent peer"
exec 7>&-
# Nor does a peer that sends a byte every second: the whole request head
# must come within the timeout, not each piece of it.
python3 - "$MPORT" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
try:
    for c in b"GET /metrics HTTP/1.0\r\n" * 4:
        s.send(bytes([c]))
        time.sleep(1)
except OSError:
    pass
PY
trickle=$!
fx_track_pid $trickle
sleep 1
t0=$(date +%s)
curl -sfS -m 20 "$URL" >/dev/null || fx_fail "listener stuck behind a trickling peer"
t1=$(date +%s)
[ $((t1 - t0)) -le 8 ] || fx_fail "a trickling peer held the listener $((t1 - t0)) s"
kill "$trickle" 2>/dev/null
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
