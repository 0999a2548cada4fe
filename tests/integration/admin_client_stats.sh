#!/bin/bash
# admin_client_stats.sh - flexfs-admin client-stats: finds a mount's
# counters file (by the escaped mount point, or by its mountpoint line),
# shows the figures and derived rates, as JSON too, says when the client is
# gone or the file missing; and, when the FUSE client writes the file,
# reads a real mount's counters.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/integration/admin_lib.sh"

mkdir -p "$FLEXFS_STATS_DIR" "$T/mnt point"
esc=$(systemd-escape --path "$T/mnt point" 2>/dev/null ||
      python3 -c 'import sys; print(sys.argv[1].strip("/").replace("-", "\\x2d").replace(" ", "\\x20").replace("/", "-"))' "$T/mnt point")
now=$(date +%s)
cat >"$FLEXFS_STATS_DIR/mount-$esc.stats" <<EOT
format=1
pid=$$
mountpoint=$T/mnt point
source=127.0.0.1:/default
session=42
started=$((now - 100))
updated=$now
interval=5
cache_hits=300
cache_misses=100
cache_bytes=1048576
cache_limit=268435456
bytes_read=5000000
bytes_written=2000000
store_gets=100
store_get_bytes=4000000
store_get_ns=200000000
store_puts=10
store_put_bytes=2000000
store_put_ns=50000000
store_errors=0
reconnects=2
EOT

expect_exit 0 "client-stats" "$FLEXFS_ADMIN" client-stats "$T/mnt point"
grep -q "^mount *$T/mnt point (127.0.0.1:/default, session 42, pid $$)" "$T/out" ||
  fx_fail "mount line: $(cat "$T/out")"
grep -q "^block cache *75.0% hits (300 hits, 100 misses), 1.0 MiB of 256.0 MiB" "$T/out" ||
  fx_fail "cache line: $(cat "$T/out")"
grep -q "^store GET *100 (3.8 MiB), avg 2.0 ms" "$T/out" || fx_fail "GET line"
grep -q "^store PUT *10 (1.9 MiB), avg 5.0 ms" "$T/out" || fx_fail "PUT line"
grep -q "^reconnects *2" "$T/out" || fx_fail "other keys not shown"
"$FLEXFS_ADMIN" --json client-stats "$T/mnt point" >"$T/j" || fx_fail "--json"
jget "(d['cache_hit_rate'], d['bytes_read'], d['client_running'], d['source'])" <"$T/j" |
  grep -qx "(0.75, 5000000, True, '127.0.0.1:/default')" || fx_fail "json: $(cat "$T/j")"

# Found by its mountpoint line under another name.
mv "$FLEXFS_STATS_DIR/mount-$esc.stats" "$FLEXFS_STATS_DIR/mount-other.stats"
expect_exit 0 "client-stats by mountpoint line" "$FLEXFS_ADMIN" client-stats "$T/mnt point/"
# A client that is gone.
sed -i "s/^pid=.*/pid=999999999/" "$FLEXFS_STATS_DIR/mount-other.stats"
expect_exit 0 "stale counters" "$FLEXFS_ADMIN" client-stats "$T/mnt point"
grep -q "the client is not running: stale figures" "$T/out" || fx_fail "stale not said"
# None at all.
rm "$FLEXFS_STATS_DIR/mount-other.stats"
expect_exit 1 "no counters" "$FLEXFS_ADMIN" client-stats "$T/mnt point"
grep -q "no counters for a flexfs mount at" "$T/err" || fx_fail "message: $(cat "$T/err")"
expect_exit 1 "no such directory" "$FLEXFS_ADMIN" client-stats "$T/nothing"
expect_exit 2 "no argument" "$FLEXFS_ADMIN" client-stats

# A real mount, when the client writes its counters.
if have_fuse; then
  fx_start_gateway gw
  fx_mount gw "$T/real"
  head -c 1000000 /dev/urandom >"$T/real/f"
  cat "$T/real/f" >/dev/null
  if fx_wait_for 12 sh -c "'$FLEXFS_ADMIN' client-stats '$T/real' >/dev/null 2>&1"; then
    # The client rewrites the file every few seconds: wait for the figures
    # of what was just done.
    written() {
      "$FLEXFS_ADMIN" --json client-stats "$T/real" >"$T/j" 2>/dev/null &&
        jget "d['client_running'] and d['bytes_written'] >= 1000000 and d['mountpoint'] == '$T/real'" <"$T/j" |
        grep -qx True
    }
    fx_wait_for 20 written || fx_fail "real mount counters: $(cat "$T/j")"
    expect_exit 0 "client-stats of a real mount" "$FLEXFS_ADMIN" client-stats "$T/real"
    grep -q "^written *976.6 KiB" "$T/out" || fx_fail "text: $(cat "$T/out")"
  else
    fx_log "mount.flexfs does not write its counters file yet: real-mount part skipped"
  fi
else
  fx_log "mount.flexfs not built or no FUSE: real-mount part skipped"
fi
fx_pass
