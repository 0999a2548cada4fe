# common.sh - helpers for the shell integration tests; each test sources it.
#
# Every process a test starts is recorded by PID and every mount by path,
# and an EXIT trap stops them (by PID, never by name) and removes the
# test's temporary directory, so a failing test leaves nothing behind.
#
#   . "$FLEXFS_SRCDIR/tests/lib/common.sh"
#   fx_start_gateway gw1            # -> $GW_PORT, $GW_PID, $GW_DIR
#   fx_mount gw1 "$T/mnt"           # FUSE mount of the default volume
#   ...; fx_pass
#
# FX_STORE picks the block store of the gateways a test starts:
#   file (default)  a directory per gateway, $T/NAME/blocks
#   s3              an S3 server (s3rver behind the SigV4-verifying proxy
#                   of tests/s3/s3env.sh), started once per test when the
#                   first gateway starts, with a prefix per gateway; the
#                   key pair goes in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
#                   for the gateways and mounts (never on a command line).
# fx_store_keys NAME lists the objects of gateway NAME's store on either.
set -u

: "${FLEXFS_BUILDDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${FLEXFS_SRCDIR:=$FLEXFS_BUILDDIR}"
GATEWAYD="$FLEXFS_BUILDDIR/gateway/flexfs-gatewayd"
MOUNT_FLEXFS="$FLEXFS_BUILDDIR/client/mount.flexfs"
FLEXFS_ADMIN="$FLEXFS_BUILDDIR/tools/flexfs-admin"

T=$(mktemp -d "${TMPDIR:-/tmp}/flexfs-test.XXXXXX")
# Mounts write their counters file here, not in /run/flexfs: a mount a
# test kills leaves its file behind, and it goes with $T.
export FLEXFS_STATS_DIR=${FLEXFS_STATS_DIR:-$T/stats}
FX_PIDS=()
FX_MOUNTS=()
FX_TEST_NAME=${FX_TEST_NAME:-$(basename "$0" .sh)}

fx_log() { printf '[%s] %s\n' "$FX_TEST_NAME" "$*" >&2; }
fx_fail() { fx_log "FAIL: $*"; exit 1; }
fx_skip() { fx_log "SKIP: $*"; exit 77; }
fx_pass() { fx_log "PASS"; exit 0; }

# fx_check DESCRIPTION COMMAND...: fails the test unless COMMAND succeeds.
fx_check() {
  local what=$1; shift
  "$@" || fx_fail "$what (command: $*)"
}
# fx_expect_fail DESCRIPTION COMMAND...: fails the test if COMMAND succeeds.
fx_expect_fail() {
  local what=$1; shift
  if "$@" 2>/dev/null; then fx_fail "$what: succeeded but should not (command: $*)"; fi
}

# fx_mounted DIR: is something mounted on DIR?  Asks /proc/mounts too: on
# a mount whose mount.flexfs died, stat (and so `mountpoint`) fails with
# ENOTCONN, and such a mount must still be taken down.
fx_mounted() {
  mountpoint -q "$1" 2>/dev/null && return 0
  FX_M=${1// /\\040} awk '$2 == ENVIRON["FX_M"] { f = 1 } END { exit !f }' \
    /proc/mounts
}

fx_cleanup() {
  local rc=$?
  local m p i
  for ((i=${#FX_MOUNTS[@]}-1; i>=0; i--)); do
    m=${FX_MOUNTS[$i]}
    if fx_mounted "$m"; then
      fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    fi
  done
  for p in "${FX_PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${FX_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    for f in "$T"/*.log; do
      [ -f "$f" ] || continue
      fx_log "---- last lines of $f"
      tail -n 40 "$f" >&2
    done
  fi
  rm -rf "$T" 2>/dev/null || true
  exit $rc
}
trap fx_cleanup EXIT
trap 'exit 130' INT TERM

fx_track_pid() { FX_PIDS+=("$1"); }

: "${FX_STORE:=file}"
case "$FX_STORE" in
  file) ;;
  s3) . "$FLEXFS_SRCDIR/tests/s3/s3env.sh" ;;
  *) fx_fail "FX_STORE=$FX_STORE: want file or s3" ;;
esac
fx_store_is_s3() { [ "$FX_STORE" = s3 ]; }

# fx_store_url NAME [EXTRA ARGS...]: sets NAME_STORE to the store URL of
# gateway NAME: the --store of the extra args if there is one, else the
# default for FX_STORE (with s3, the server is started on first use).
# Returns 0 when the caller must pass --store "$NAME_STORE" itself.
fx_store_url() {
  local name=$1 url="" a next=0; shift
  for a in "$@"; do
    if [ $next = 1 ]; then url=$a; next=0; continue; fi
    case "$a" in
      --store) next=1 ;;
      --store=*) url=${a#--store=} ;;
    esac
  done
  if [ -n "$url" ]; then
    printf -v "${name}_STORE" '%s' "$url"
    return 1
  fi
  if fx_store_is_s3; then
    if [ -z "${S3_PORT:-}" ]; then
      s3_start
      s3_export_creds
    fi
    url="s3://$S3_BUCKET/$S3_PREFIX/$name?endpoint=http://127.0.0.1:$S3_PORT"
  else
    url="file://$T/$name/blocks"
  fi
  printf -v "${name}_STORE" '%s' "$url"
  return 0
}

# fx_store_keys NAME [PREFIX]: the keys ("VOL/INO/INDEX.VERSION", under
# PREFIX) of the objects in gateway NAME's block store, sorted, one a line.
fx_store_keys() {
  local var="${1}_STORE" out
  out=$("$FLEXFS_BUILDDIR/tests/s3/storetool" ${S3_CRED:+-c "$S3_CRED"} \
          "${!var}" list "${2:-}") || return 1
  [ -z "$out" ] || printf '%s\n' "$out" | cut -f1
}

# fx_wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
fx_wait_for() {
  local secs=$1; shift
  local n=$((secs * 10))
  while [ $n -gt 0 ]; do
    "$@" 2>/dev/null && return 0
    sleep 0.1; n=$((n - 1))
  done
  return 1
}

# fx_start_gateway NAME [EXTRA ARGS...]
# Starts a gateway in the foreground (backgrounded by the shell) on
# 127.0.0.1 with an ephemeral port, metadata in $T/NAME/meta and blocks in
# $T/NAME/blocks or, with FX_STORE=s3, under the prefix NAME in the test's
# S3 bucket (unless the extra args say otherwise).  Sets GW_PORT, GW_PID,
# GW_DIR, and NAME_PORT / NAME_PID / NAME_STORE for later restarts.
fx_start_gateway() {
  local name=$1; shift
  local dir="$T/$name"
  mkdir -p "$dir/meta" "$dir/blocks"
  rm -f "$dir/port"
  local store=""
  if fx_store_url "$name" "$@"; then local v="${name}_STORE"; store=${!v}; fi
  "$GATEWAYD" -f --listen 127.0.0.1:0 --port-file "$dir/port" \
      --meta-dir "$dir/meta" ${store:+--store "$store"} \
      --log-level "${FX_GW_LOG_LEVEL:-info}" "$@" >>"$T/$name.log" 2>&1 &
  local pid=$!
  fx_track_pid $pid
  fx_wait_for 20 test -s "$dir/port" || fx_fail "gateway $name did not start"
  GW_PORT=$(cat "$dir/port"); GW_PID=$pid; GW_DIR=$dir
  printf -v "${name}_PORT" '%s' "$GW_PORT"
  printf -v "${name}_PID" '%s' "$GW_PID"
}

# fx_restart_gateway NAME SIGNAL [EXTRA ARGS...]: stops the gateway NAME with
# SIGNAL (TERM or KILL) and starts it again on the same port and directories.
fx_restart_gateway() {
  local name=$1 sig=$2; shift 2
  local pidvar="${name}_PID" portvar="${name}_PORT"
  local pid=${!pidvar} port=${!portvar}
  local dir="$T/$name"
  kill -"$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fx_fail "gateway $name did not stop on $sig"
  rm -f "$dir/port"
  # The same store as before, unless the extra args name one.
  local store="" svar="${name}_STORE"
  case " $* " in
    *" --store"*) fx_store_url "$name" "$@" ;;
    *) store=${!svar:-file://$dir/blocks} ;;
  esac
  # The port may sit in TIME_WAIT for a moment; retry the bind briefly.
  local tries=0
  while :; do
    "$GATEWAYD" -f --listen "127.0.0.1:$port" --port-file "$dir/port" \
        --meta-dir "$dir/meta" ${store:+--store "$store"} \
        --log-level "${FX_GW_LOG_LEVEL:-info}" "$@" >>"$T/$name.log" 2>&1 &
    pid=$!
    fx_track_pid $pid
    if fx_wait_for 10 test -s "$dir/port"; then break; fi
    tries=$((tries + 1))
    [ $tries -lt 5 ] || fx_fail "gateway $name did not restart"
    sleep 1
  done
  GW_PORT=$port; GW_PID=$pid; GW_DIR=$dir
  printf -v "${name}_PID" '%s' "$pid"
}

# fx_try_mount GATEWAY-NAME MOUNTPOINT [OPTIONS] [VOLUME]: mounts VOLUME
# (default: the default volume) in the foreground mode of mount.flexfs
# (backgrounded by the shell) so the test owns its PID.  Sets MNT_PID;
# fails as soon as mount.flexfs exits without mounting.
fx_try_mount() {
  local name=$1 mnt=$2 opts=${3:-} vol=${4:-}
  local portvar="${name}_PORT"
  mkdir -p "$mnt"
  "$MOUNT_FLEXFS" "127.0.0.1:/$vol" "$mnt" -f \
      -o "port=${!portvar}${opts:+,$opts}" >>"$T/mount-$(basename "$mnt").log" 2>&1 &
  MNT_PID=$!
  fx_track_pid $MNT_PID
  FX_MOUNTS+=("$mnt")
  fx_wait_for 20 sh -c "mountpoint -q '$mnt' || ! kill -0 $MNT_PID" &&
    mountpoint -q "$mnt"
}

# fx_mount GATEWAY-NAME MOUNTPOINT [OPTIONS]: the default volume, or fail.
fx_mount() {
  fx_try_mount "$@" || fx_fail "mount of $2 did not come up"
}

# fx_umount MOUNTPOINT: unmounts cleanly (flushing) and waits for the
# client process to exit.
fx_umount() {
  local mnt=$1
  fusermount3 -u "$mnt" || umount "$mnt" || return 1
  fx_wait_for 20 sh -c "! mountpoint -q '$mnt'"
}

fx_require_root() { [ "$(id -u)" = 0 ] || fx_skip "needs root"; }
fx_require_fuse() { [ -c /dev/fuse ] || fx_skip "needs /dev/fuse"; }
