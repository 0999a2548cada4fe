#!/bin/bash
# test_store_s3.sh - the S3 block-store backend against a real S3-compatible
# server (s3rver) through sigv4-proxy.py, which refuses any request whose
# SigV4 signature is wrong: round trips, ranged reads, listings across
# pages, bulk delete, retries that hide 503s, a store that is down failing
# in bounded time with EIO, wrong credentials refused, and credentials never
# showing in logs or process arguments.
# Run by hand or by a harness that sets nothing: find the trees ourselves.
: "${FLEXFS_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
[ -n "${FLEXFS_BUILDDIR:-}" ] || { [ -x tests/s3/storetool ] && FLEXFS_BUILDDIR=$PWD; }
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
. "$FLEXFS_SRCDIR/tests/s3/s3env.sh"

s3_start
ST_LOG="$T/storetool.log"
st() { storetool -c "$S3_CRED" "$@" 2>>"$ST_LOG"; }
# Runs storetool, expecting exit status $1 (2 ENOENT, 3 EACCES, 4 EIO).
st_expect() {
  local want=$1 rc=0; shift
  st "$@" >/dev/null || rc=$?
  [ $rc -eq "$want" ] || fx_fail "storetool $* exited $rc, wanted $want"
}
elapsed_since() { echo $(( $(date +%s%N) / 1000000 - $1 )); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- round trips ------------------------------------------------------
head -c 1048577 /dev/urandom > "$T/obj"
fx_check "put" st "$S3_URL" put 1/2a/0.100000001 "$T/obj"
st "$S3_URL" get 1/2a/0.100000001 > "$T/obj.back" || fx_fail "get"
cmp -s "$T/obj" "$T/obj.back" || fx_fail "object read back differs"
: > "$T/empty"
fx_check "put empty" st "$S3_URL" put 1/2a/1.1 "$T/empty"
[ "$(st "$S3_URL" get 1/2a/1.1 | wc -c)" -eq 0 ] || fx_fail "empty object not empty"
# Keys are stored under the URL's prefix, with the object's exact bytes.
f="$S3_DATA/$S3_BUCKET/$S3_PREFIX/1/2a/0.100000001._S3rver_object"
[ -f "$f" ] || fx_fail "object not under the prefix in the bucket ($f)"
cmp -s "$T/obj" "$f" || fx_fail "stored bytes differ"
st_expect 2 "$S3_URL" get 1/2a/7.7
# HEAD: size and Last-Modified (fsck judges unreferenced objects' age).
st "$S3_URL" stat 1/2a/0.100000001 > "$T/stat" || fx_fail "stat"
[ "$(cut -f1 "$T/stat")" = 1048577 ] || fx_fail "stat size: $(cat "$T/stat")"
age=$(( $(date +%s) - $(cut -f2 "$T/stat") ))
[ $age -ge -5 ] && [ $age -le 120 ] || fx_fail "stat: Last-Modified $age s ago"
st_expect 2 "$S3_URL" stat 1/2a/7.7
fx_check "delete" st "$S3_URL" del 1/2a/1.1
fx_check "delete of a missing key" st "$S3_URL" del 1/2a/1.1
st_expect 2 "$S3_URL" get 1/2a/1.1

# Virtual-host addressing reaches the same objects, signed right.
st "$S3_URL_VHOST" get 1/2a/0.100000001 > "$T/obj.back" || fx_fail "virtual-host get"
cmp -s "$T/obj" "$T/obj.back" || fx_fail "virtual-host read differs"
fx_check "virtual-host put" st "$S3_URL_VHOST" put v/1 "$T/obj"
[ "$(st "$S3_URL" list v/ | cut -f1)" = v/1 ] || fx_fail "virtual-host put not seen path-style"
echo v/1 | st "$S3_URL_VHOST" delmany - || fx_fail "virtual-host bulk delete"
[ -z "$(st "$S3_URL_VHOST" list v/)" ] || fx_fail "virtual-host list after delete"

# --- ranged reads (1-byte reads, past the end, partial end, HEAD) -------
st "$S3_URL" ranges r/big 1048576 >/dev/null || fx_fail "ranged reads"
st "$S3_URL" ranges r/small 17 >/dev/null || fx_fail "ranged reads, small object"
st "$S3_URL" get 1/2a/0.100000001 1000 300 > "$T/part" || fx_fail "range get"
cmp -s "$T/part" <(tail -c +1001 "$T/obj" | head -c 300) || fx_fail "range 1000+300 differs"

# --- listings across pages: max_keys small, and past 1000 keys ----------
fx_check "fill 1001 keys" storetool -c "$S3_CRED" -t 8 "$S3_URL" fill many/ 1001 16
st "$S3_URL" list many/ > "$T/list" || fx_fail "list"
[ "$(wc -l < "$T/list")" -eq 1001 ] || fx_fail "listed $(wc -l < "$T/list") of 1001 keys"
LC_ALL=C sort -c "$T/list" || fx_fail "listing not in key order"
grep -qvP '\t16$' "$T/list" && fx_fail "listing sizes wrong"
[ "$(head -n1 "$T/list")" = "$(printf 'many/000000\t16')" ] || fx_fail "listing keys lost the prefix strip"
st "$S3_URL&max_keys=7" list many/00010 > "$T/list7" || fx_fail "list in pages of 7"
[ "$(wc -l < "$T/list7")" -eq 10 ] || fx_fail "paged listing gave $(wc -l < "$T/list7") of 10"
fx_check "fill 30 keys" st "$S3_URL" fill page/ 30 1
before=$(s3_stat requests)
st "$S3_URL&max_keys=7" list page/ > "$T/listp" || fx_fail "list in pages"
[ "$(wc -l < "$T/listp")" -eq 30 ] || fx_fail "paged listing gave $(wc -l < "$T/listp") of 30"
[ $(( $(s3_stat requests) - before )) -eq 5 ] || fx_fail "30 keys in pages of 7 should take 5 requests"

# --- bulk delete (two batches: 1000 + 1) --------------------------------
before=$(s3_stat requests)
cut -f1 "$T/list" | st "$S3_URL" delmany - || fx_fail "bulk delete"
[ $(( $(s3_stat requests) - before )) -eq 2 ] || fx_fail "1001 keys should take 2 bulk requests"
[ -z "$(st "$S3_URL" list many/)" ] || fx_fail "keys left after bulk delete"
cut -f1 "$T/listp" | st "$S3_URL" delmany - || fx_fail "bulk delete 2"
[ -z "$(st "$S3_URL" list page/)" ] || fx_fail "keys left after bulk delete 2"

# --- retries hide a few 503s; a store that keeps failing gives EIO ------
s3_ctl fail 3 503 >/dev/null
st "$S3_URL" get 1/2a/0.100000001 > "$T/obj.back" || fx_fail "3 x 503 not hidden"
cmp -s "$T/obj" "$T/obj.back" || fx_fail "read after retries differs"
[ "$(s3_stat faults)" -eq 3 ] || fx_fail "the 503s were not all served"
s3_ctl fail 2 500 >/dev/null
fx_check "put through 2 x 500" st "$S3_URL" put x/put "$T/obj"
s3_ctl fail 1000 503 >/dev/null
t0=$(now_ms)
st_expect 4 "$S3_URL" put x/put "$T/obj"
ms=$(elapsed_since $t0)
[ $ms -lt 15000 ] || fx_fail "giving up took $ms ms"
s3_ctl up >/dev/null

# --- a store that is down: answers nothing, or is not there at all ------
s3_ctl down -1 >/dev/null
t0=$(now_ms)
st_expect 4 "$S3_URL" get 1/2a/0.100000001
ms=$(elapsed_since $t0)
[ $ms -lt 15000 ] || fx_fail "down store took $ms ms to fail"
s3_ctl up >/dev/null
st "$S3_URL" get 1/2a/0.100000001 >/dev/null || fx_fail "store back after down"
s3_stop_proxy
t0=$(now_ms)
st_expect 4 "$S3_URL" put x/down "$T/obj"
ms=$(elapsed_since $t0)
[ $ms -lt 15000 ] || fx_fail "stopped store took $ms ms to fail"
s3_start_proxy "$S3_PORT"
fx_check "put after restart" st "$S3_URL" put x/down "$T/obj"
fx_log "down store fails with EIO in $ms ms"

# --- signatures: every request so far was verified ----------------------
[ "$(s3_stat bad_signature)" -eq 0 ] || fx_fail "the proxy refused signatures"
[ "$(s3_stat verified)" -gt 0 ] || fx_fail "the proxy verified nothing"
# Odd keys: everything outside RFC 3986's unreserved set is encoded.
for k in 'sp ace/k' 'plus+eq=amp&/x' 'tilde~star*/(paren)' "quote'dq\"/lt<gt>" 'utf8-é/ü'; do
  fx_check "put odd key $k" st "$S3_URL" put "odd/$k" "$T/empty"
done
st "$S3_URL" list odd/ > "$T/odd" || fx_fail "list odd keys"
[ "$(wc -l < "$T/odd")" -eq 5 ] || fx_fail "odd keys listed: $(cat "$T/odd")"
grep -qF "odd/quote'dq\"/lt<gt>$(printf '\t')0" "$T/odd" || fx_fail "XML entities not decoded: $(cat "$T/odd")"
grep -qF "odd/plus+eq=amp&/x$(printf '\t')0" "$T/odd" || fx_fail "& not decoded: $(cat "$T/odd")"
cut -f1 "$T/odd" | st "$S3_URL" delmany - || fx_fail "bulk delete odd keys"
[ -z "$(st "$S3_URL" list odd/)" ] || fx_fail "odd keys left after bulk delete"
[ "$(s3_stat bad_signature)" -eq 0 ] || fx_fail "signature refused for odd keys (see $T/s3proxy.log)"

# Credentials from the environment, with a session token (signed too).
( s3_export_creds; export AWS_SESSION_TOKEN="tok/en+$S3_SECRET"
  "$STORETOOL" "$S3_URL" get 1/2a/0.100000001 >/dev/null 2>>"$ST_LOG" ) ||
  fx_fail "credentials from the environment"
[ "$(s3_stat bad_signature)" -eq 0 ] || fx_fail "session-token request refused"

# A wrong secret is refused (403 -> EACCES), at once, without retries.
sed "s/^aws_secret_access_key = .*/aws_secret_access_key = wrong$RANDOM/" "$S3_CRED" > "$T/bad.cred"
before=$(s3_stat requests)
rc=0; storetool -c "$T/bad.cred" "$S3_URL" put x/bad "$T/obj" 2>>"$ST_LOG" || rc=$?
[ $rc -eq 3 ] || fx_fail "wrong secret: exit $rc, wanted 3 (EACCES)"
[ "$(s3_stat bad_signature)" -eq 1 ] || fx_fail "the proxy did not refuse the wrong signature"
[ $(( $(s3_stat requests) - before )) -eq 1 ] || fx_fail "a 403 was retried"
# Secrets in the URL are refused, and not echoed.
rc=0; storetool "s3://AKIDX:$S3_SECRET@$S3_BUCKET/p?endpoint=http://127.0.0.1:$S3_PORT" \
    list 2>>"$ST_LOG" >/dev/null || rc=$?
[ $rc -eq 1 ] || fx_fail "credentials in the URL accepted (exit $rc)"
rc=0; storetool -c "$S3_CRED" "$S3_URL&secret_key=zzz" list 2>>"$ST_LOG" >/dev/null || rc=$?
[ $rc -eq 1 ] || fx_fail "unknown URL option accepted (exit $rc)"

# --- connections are reused; parallel 4 MiB transfers -------------------
s3_ctl reset >/dev/null
storetool -c "$S3_CRED" -t 4 "$S3_URL" bench 16 4194304 > "$T/bench" 2>>"$ST_LOG" ||
  fx_fail "bench"
conns=$(s3_stat connections); reqs=$(s3_stat requests)
fx_log "bench: $(tr '\n' ';' < "$T/bench") connections $conns for $reqs requests"
[ "$conns" -le 8 ] || fx_fail "$conns connections for $reqs requests: no reuse"

# --- credentials never in logs or process arguments ---------------------
storetool -v -c "$S3_CRED" "$S3_URL" get 1/2a/0.100000001 >/dev/null 2>>"$ST_LOG" ||
  fx_fail "debug-logged get"
for f in "$T"/*.log; do
  grep -qF "$S3_SECRET" "$f" && fx_fail "the secret appears in $(basename "$f")"
done
for p in $S3RVER_PID $S3_PROXY_PID; do
  tr '\0' ' ' < "/proc/$p/cmdline" | grep -qF "$S3_SECRET" &&
    fx_fail "the secret appears in the arguments of pid $p"
  tr '\0' ' ' < "/proc/$p/cmdline" | grep -qF "$S3_KEY_ID" &&
    fx_fail "the key id appears in the arguments of pid $p"
done
fx_pass
