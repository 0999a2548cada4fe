# s3env.sh - an S3 server for shell tests: s3rver on 127.0.0.1 behind
# sigv4-proxy.py, which checks every request's SigV4 signature and injects
# faults on command.  Source it after tests/lib/common.sh:
#
#   . "$FLEXFS_SRCDIR/tests/lib/common.sh"
#   . "$FLEXFS_SRCDIR/tests/s3/s3env.sh"
#   s3_start                 # skips the test (77) if s3rver cannot be had
#   storetool -c "$S3_CRED" "$S3_URL" put k file
#
# s3_start sets:
#   S3_URL     s3://BUCKET/PREFIX?endpoint=http://127.0.0.1:PORT (the proxy)
#   S3_CRED    an AWS-style credentials file (mode 600) with a fresh random
#              key pair; S3_KEY_ID / S3_SECRET hold the same (never put
#              them on a command line: tests check /proc/PID/cmdline)
#   S3_URL_VHOST  the same store addressed virtual-host style
#              (BUCKET.localhost: curl resolves *.localhost to loopback)
#   S3_PORT    the proxy's port; S3RVER_PORT the server's; S3_DATA its files
# s3_export_creds puts the key pair in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
# s3_ctl fail N [STATUS [PATH-TEXT]] | down [N] | delay MS | up | reset - faults (see the proxy)
# s3_stat NAME             - a counter of the proxy (requests, verified,
#                            bad_signature, connections, faults, dropped)
# s3_stop_proxy / s3_start_proxy - the store "goes down" and comes back on
#                            the same port; s3_stop_server / s3_start_server
#                            do the same to s3rver itself.
# Every process is tracked with fx_track_pid, so the test's EXIT trap stops it.

S3_BUCKET=${S3_BUCKET:-flexfs-test}
S3_PREFIX=${S3_PREFIX:-blocks}
S3_PROXY_PID=
S3RVER_PID=
STORETOOL="$FLEXFS_BUILDDIR/tests/s3/storetool"

# Installs s3rver (once per machine) and sets S3_MODULES; skips if impossible.
s3_setup() {
  S3_MODULES=$(sh "$FLEXFS_SRCDIR/tests/s3/setup.sh" 2>"$T/s3-setup.log") ||
    fx_skip "s3rver cannot be installed (npm/node missing or offline): $(tail -n 3 "$T/s3-setup.log" | tr '\n' ' ')"
  command -v python3 >/dev/null || fx_skip "python3 is missing"
  command -v curl >/dev/null || fx_skip "curl is missing"
}

s3_new_creds() {
  S3_KEY_ID="FXT$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F | head -c 17)"
  S3_SECRET="$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40)"
  S3_CRED="$T/s3.cred"
  (umask 077; printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
      "$S3_KEY_ID" "$S3_SECRET" > "$S3_CRED")
}

s3_start_server() {
  local port=${1:-${S3RVER_PORT:-0}}
  S3_DATA=${S3_DATA:-$T/s3data}
  rm -f "$T/s3rver.port"
  FLEXFS_S3_KEY_ID="$S3_KEY_ID" node "$FLEXFS_SRCDIR/tests/s3/s3rver-run.js" \
      --modules "$S3_MODULES" --dir "$S3_DATA" --bucket "$S3_BUCKET" \
      --port "$port" --port-file "$T/s3rver.port" >>"$T/s3rver.log" 2>&1 &
  S3RVER_PID=$!
  fx_track_pid $S3RVER_PID
  fx_wait_for 20 test -s "$T/s3rver.port" || fx_fail "s3rver did not start"
  S3RVER_PORT=$(cat "$T/s3rver.port")
}

s3_start_proxy() {
  local port=${1:-${S3_PORT:-0}} tries=0
  while :; do
    rm -f "$T/s3proxy.port"
    python3 "$FLEXFS_SRCDIR/tests/s3/sigv4-proxy.py" --listen "127.0.0.1:$port" \
        --upstream "127.0.0.1:$S3RVER_PORT" --credentials "$S3_CRED" \
        --region us-east-1 --vhost-domain localhost \
        --port-file "$T/s3proxy.port" >>"$T/s3proxy.log" 2>&1 &
    S3_PROXY_PID=$!
    fx_track_pid $S3_PROXY_PID
    if fx_wait_for 10 test -s "$T/s3proxy.port"; then break; fi
    tries=$((tries + 1))
    [ $tries -lt 5 ] || fx_fail "sigv4-proxy did not start"
    sleep 1
  done
  S3_PORT=$(cat "$T/s3proxy.port")
  S3_URL="s3://$S3_BUCKET/$S3_PREFIX?endpoint=http://127.0.0.1:$S3_PORT"
  S3_URL_VHOST="s3://$S3_BUCKET/$S3_PREFIX?endpoint=http://localhost:$S3_PORT&style=virtual"
}

s3_start() {
  s3_setup
  s3_new_creds
  s3_start_server
  s3_start_proxy
}

# Stops a process started here and waits until it is gone.
s3_stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

s3_stop_proxy() { s3_stop_pid "$S3_PROXY_PID"; S3_PROXY_PID=; }
s3_stop_server() { s3_stop_pid "$S3RVER_PID"; S3RVER_PID=; }

s3_export_creds() {
  export AWS_ACCESS_KEY_ID="$S3_KEY_ID" AWS_SECRET_ACCESS_KEY="$S3_SECRET"
}

s3_ctl() {
  local what=$1 q=
  case "$what" in
    fail) q="fail?n=$2&status=${3:-503}${4:+&match=$4}" ;;
    down) q="down?n=${2:--1}" ;;
    delay) q="delay?ms=$2" ;;
    up|reset|stats) q="$what" ;;
    *) fx_fail "s3_ctl: unknown $what" ;;
  esac
  curl -sf --max-time 5 "http://127.0.0.1:$S3_PORT/__ctl/$q"
}

s3_stat() {
  s3_ctl stats | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

storetool() { "$STORETOOL" "$@"; }
