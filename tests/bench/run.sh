#!/bin/bash
# run.sh - the side-by-side benchmark of issue 6, run on demand (not part of
# make check).  It installs what it compares against (tests/bench/setup.sh,
# tests/s3/setup.sh), starts every system on loopback, runs each workload on
# each system in turn, and prints one table plus a JSON file
# (tests/bench/report.py renders both).  A system that cannot start shows as
# "n/a" with the reason.  Everything it starts is recorded by PID and every
# mount by path; an EXIT trap stops them all and removes the work directory.
#
#   tests/bench/run.sh [-B BUILDDIR] [options]      (as root; see --help)
set -u

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCHDIR=$SRCDIR/tests/bench

# ---- options -------------------------------------------------------------
BUILDDIR=${FLEXFS_BUILDDIR:-}
BASE=/var/tmp
OUT_JSON=$PWD/bench-results.json
SYSTEMS_WANTED=local,flexfs,flexfs-s3,s3fs,rclone,ganesha,flexfs-nfs
WORKLOADS_WANTED=seq,rand,md,small,bigdir
SEQ_SIZE=1G
SEQ_READS=3
RAND_SIZE=256M
RAND_RUNTIME=20
VERIFY_SIZE=32M
MD_FILES=10000
MD_DIRS=100
MD_THREADS=1,8
MD_PEERS=0
META_S3=0
SMALL_FILES=5000
SMALL_PAR=8
BIG_FILES=100000
BIG_PEERS=0
S3_WORKERS=1
STEP_TIMEOUT=600
INSTALL=1
KEEP=0
FLEXFS_OPTS=
GATEWAY_OPTS=

usage() {
  cat <<EOF
usage: tests/bench/run.sh [options]   (as root)
  -B, --build-dir DIR   flexfs build directory (default: \$FLEXFS_BUILDDIR,
                        the source tree if built in place, or the current
                        directory if it holds a build)
  -w, --work-dir DIR    where data goes; a fresh subdirectory is made there
                        and removed at exit (default $BASE; must be a disk
                        file system: the "local" system is measured here)
  -o, --output FILE     JSON results (default ./bench-results.json)
      --systems LIST    of local,flexfs,flexfs-s3,s3fs,rclone,ganesha,flexfs-nfs
                        (default: all)
      --workloads LIST  of seq,rand,md,small,bigdir (default: all)
      --seq-size SIZE   sequential fio data per run, split over the jobs (1G)
      --seq-reads N     cold reads per sequential row; the median counts (3)
      --rand-size SIZE  file for random 4k I/O ($RAND_SIZE)
      --rand-runtime S  cap of each random fio run in seconds ($RAND_RUNTIME)
      --md-files N      files per mdbench run ($MD_FILES)
      --md-dirs N       directories of the spread layout ($MD_DIRS)
      --md-threads LIST thread counts ($MD_THREADS)
      --md-peers        also run mdbench on s3fs and rclone (slow)
      --meta-s3         also run mdbench and the big directory on flexfs-s3
                        (the same metadata path as flexfs on local blocks:
                        empty files have no blocks)
      --small-files N   files in the small-file tree ($SMALL_FILES)
      --small-par N     streams of the parallel copy ($SMALL_PAR)
      --big-files N     entries of the big directory ($BIG_FILES)
      --big-peers       also build the big directory on s3fs and rclone (slow)
      --flexfs-opts O   extra mount.flexfs -o options (e.g. readahead=32M)
      --gateway-opts O  extra flexfs-gatewayd arguments (e.g. "--workers 16")
      --s3-workers N    processes of the S3 server ($S3_WORKERS; s3rver runs
                        one thread per process, which bounds the S3 rows on
                        a machine with more cores than this run uses)
      --step-timeout S  bound on each timed step ($STEP_TIMEOUT)
      --full            the sizes of issue 6: --md-files 20000
                        --small-files 10000 --meta-s3 (about 30 minutes on
                        2 cores; the default run takes under 15)
      --quick           small sizes, for a smoke run of a few minutes
      --no-install      do not install missing packages
      --keep            keep the work directory and logs
  -h, --help
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    -B|--build-dir) BUILDDIR=$2; shift ;;
    -w|--work-dir) BASE=$2; shift ;;
    -o|--output) OUT_JSON=$2; shift ;;
    --systems) SYSTEMS_WANTED=$2; shift ;;
    --workloads) WORKLOADS_WANTED=$2; shift ;;
    --seq-size) SEQ_SIZE=$2; shift ;;
    --seq-reads) SEQ_READS=$2; shift ;;
    --rand-size) RAND_SIZE=$2; shift ;;
    --rand-runtime) RAND_RUNTIME=$2; shift ;;
    --md-files) MD_FILES=$2; shift ;;
    --md-dirs) MD_DIRS=$2; shift ;;
    --md-threads) MD_THREADS=$2; shift ;;
    --md-peers) MD_PEERS=1 ;;
    --meta-s3) META_S3=1 ;;
    --full) MD_FILES=20000; SMALL_FILES=10000; META_S3=1 ;;
    --small-files) SMALL_FILES=$2; shift ;;
    --small-par) SMALL_PAR=$2; shift ;;
    --big-files) BIG_FILES=$2; shift ;;
    --big-peers) BIG_PEERS=1 ;;
    --flexfs-opts) FLEXFS_OPTS=$2; shift ;;
    --gateway-opts) GATEWAY_OPTS=$2; shift ;;
    --s3-workers) S3_WORKERS=$2; shift ;;
    --step-timeout) STEP_TIMEOUT=$2; shift ;;
    --quick) SEQ_SIZE=128M; RAND_SIZE=32M; RAND_RUNTIME=10; VERIFY_SIZE=8M
             MD_FILES=2000; MD_DIRS=20; SMALL_FILES=1000; BIG_FILES=5000 ;;
    --no-install) INSTALL=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

die() { echo "run.sh: $*" >&2; exit 1; }
say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

[[ "$S3_WORKERS" =~ ^[1-9][0-9]?$ ]] && [ "$S3_WORKERS" -le 64 ] || die "--s3-workers wants 1 to 64, not $S3_WORKERS"
[ "$(id -u)" = 0 ] || die "needs root (FUSE mounts, dropping caches, packages)"
[ -c /dev/fuse ] || die "needs /dev/fuse"
case ",$SYSTEMS_WANTED," in *,local,*) ;; *) SYSTEMS_WANTED="local,$SYSTEMS_WANTED" ;; esac

# Sizes: "1G" -> bytes, with the same suffixes fio takes.
to_bytes() {
  local v=$1 n m=1
  case "$v" in
    *[kK]) m=1024; n=${v%?} ;; *[mM]) m=$((1 << 20)); n=${v%?} ;;
    *[gG]) m=$((1 << 30)); n=${v%?} ;; *) n=$v ;;
  esac
  [[ "$n" =~ ^[0-9]+$ ]] || die "bad size $v"
  echo $((n * m))
}
SEQ_BYTES=$(to_bytes "$SEQ_SIZE")
RAND_BYTES=$(to_bytes "$RAND_SIZE")
VERIFY_BYTES=$(to_bytes "$VERIFY_SIZE")

# ---- the build -----------------------------------------------------------
find_build() {
  local d
  for d in "$BUILDDIR" "$SRCDIR" "$PWD"; do
    [ -n "$d" ] && [ -x "$d/gateway/flexfs-gatewayd" ] && [ -x "$d/client/mount.flexfs" ] &&
      { (cd "$d" && pwd); return 0; }
  done
  return 1
}
BUILDDIR=$(find_build) ||
  die "no flexfs build found: give -B BUILDDIR (a directory where 'make' ran)"
GATEWAYD=$BUILDDIR/gateway/flexfs-gatewayd
MOUNT_FLEXFS=$BUILDDIR/client/mount.flexfs
MDBENCH=$BUILDDIR/tests/bench/mdbench
STORETOOL=$BUILDDIR/tests/s3/storetool
[ -x "$STORETOOL" ] || (cd "$BUILDDIR" && make tests/s3/storetool >/dev/null 2>&1) || true
[ -x "$MDBENCH" ] || (cd "$BUILDDIR" && make tests/bench/mdbench >/dev/null 2>&1) ||
  say "mdbench is not built: metadata rows will be n/a"

# ---- work directory, tracking, cleanup -----------------------------------
mkdir -p "$BASE" || die "cannot make $BASE"
W=$(mktemp -d "$BASE/flexfs-bench.XXXXXX") || die "cannot make a work directory in $BASE"
LOGS=$W/logs
mkdir -p "$LOGS" "$W/mnt"
RESULTS=$W/results.tsv
SYSTAB=$W/systems.tsv
: > "$RESULTS"; : > "$SYSTAB"
PIDS=()
MOUNTS=()
declare -A SYS_STATE SYS_REASON SYS_PID SYS_DIR SYS_URL

cleanup() {
  local rc=$? m p i
  trap - EXIT INT TERM
  for ((i=${#MOUNTS[@]}-1; i>=0; i--)); do
    m=${MOUNTS[$i]}
    mountpoint -q "$m" 2>/dev/null &&
      { fusermount3 -u "$m" 2>/dev/null || umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; }
  done
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  if [ "$KEEP" = 1 ]; then
    say "kept $W"
  else
    rm -rf --one-file-system "$W" 2>/dev/null
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

track() { PIDS+=("$1"); }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "" }'; }
wait_for() {   # wait_for SECONDS COMMAND...
  local n=$(($1 * 10)); shift
  while [ $n -gt 0 ]; do "$@" 2>/dev/null && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wanted() { case ",$2," in *",$1,"*) return 0 ;; esac; return 1; }
last_err() { tail -n "${2:-3}" "$1" 2>/dev/null | tr '\n\t' '  ' | cut -c1-200; }

# record WID LABEL SYSTEM VALUE UNIT SECONDS [NOTE]
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "${7:-}" >> "$RESULTS"; }
# na WID LABEL SYSTEM UNIT REASON
na() { record "$1" "$2" "$3" "" "$4" "" "$5"; }
sys_ok() { [ "${SYS_STATE[$1]:-}" = ok ]; }
sys_fail() {
  SYS_STATE[$1]=n/a; SYS_REASON[$1]=$2
  say "$1: n/a: $2"
}

# ---- the S3 server and credentials ---------------------------------------
S3_BUCKET=bench
S3_PORT=
export AWS_ACCESS_KEY_ID="FXB$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F | head -c 17)"
export AWS_SECRET_ACCESS_KEY="$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40)"
S3_REASON=

start_s3() {
  local mods
  mods=$(sh "$SRCDIR/tests/s3/setup.sh" 2>"$LOGS/s3-setup.log") ||
    { S3_REASON="s3rver cannot be installed: $(last_err "$LOGS/s3-setup.log")"; return 1; }
  # s3rver-listfix.js: s3rver loses nested common prefixes (see there).
  FLEXFS_S3_KEY_ID=$AWS_ACCESS_KEY_ID node -r "$BENCHDIR/s3rver-listfix.js" \
      "$SRCDIR/tests/s3/s3rver-run.js" \
      --modules "$mods" --dir "$W/s3data" --bucket "$S3_BUCKET" \
      --port-file "$W/s3rver.port" --workers "$S3_WORKERS" >"$LOGS/s3rver.log" 2>&1 &
  track $!
  wait_for 30 test -s "$W/s3rver.port" ||
    { S3_REASON="s3rver did not start: $(last_err "$LOGS/s3rver.log")"; return 1; }
  S3_PORT=$(cat "$W/s3rver.port")
}

# ---- flexfs gateways -----------------------------------------------------
# start_gateway NAME STORE-URL -> sets GWPORT_NAME
start_gateway() {
  local name=$1 store=$2 d=$W/$1
  mkdir -p "$d/meta"
  "$GATEWAYD" -f --listen 127.0.0.1:0 --port-file "$d/port" --meta-dir "$d/meta" \
      --store "$store" --log-level notice $GATEWAY_OPTS >"$LOGS/$name.log" 2>&1 &
  local pid=$!
  track $pid
  wait_for 30 test -s "$d/port" || return 1
  printf -v "GWPORT_$name" '%s' "$(cat "$d/port")"
}

# ---- FUSE systems: mount, unmount, remount -------------------------------
mount_sys() {
  local sys=$1 mnt=$W/mnt/$1 pid
  mkdir -p "$mnt"
  case "$sys" in
    flexfs|flexfs-s3)
      local port=${GWPORT_gwlocal:-}
      [ "$sys" = flexfs-s3 ] && port=${GWPORT_gws3:-}
      "$MOUNT_FLEXFS" 127.0.0.1:/ "$mnt" -f -o "port=$port${FLEXFS_OPTS:+,$FLEXFS_OPTS}" \
          >>"$LOGS/mount-$sys.log" 2>&1 &
      pid=$! ;;
    s3fs)
      s3fs "$S3_BUCKET:/s3fs" "$mnt" -f -o "url=http://127.0.0.1:$S3_PORT,endpoint=us-east-1" \
          -o "use_path_request_style,nomixupload,passwd_file=$W/s3fs.passwd" \
          >>"$LOGS/mount-s3fs.log" 2>&1 &
      pid=$! ;;
    rclone)
      # rclone 1.60 refuses to start while AWS_CA_BUNDLE is set.
      env -u AWS_CA_BUNDLE RCLONE_CONFIG_BS3_TYPE=s3 RCLONE_CONFIG_BS3_PROVIDER=Other \
          RCLONE_CONFIG_BS3_ENV_AUTH=true RCLONE_CONFIG_BS3_REGION=us-east-1 \
          RCLONE_CONFIG_BS3_ENDPOINT="http://127.0.0.1:$S3_PORT" \
          RCLONE_CONFIG_BS3_FORCE_PATH_STYLE=true \
          rclone mount "bs3:$S3_BUCKET/rclone" "$mnt" --config "$W/rclone.conf" \
          --vfs-cache-mode writes --vfs-write-back 0s --cache-dir "$W/rclone-cache" \
          --rc --rc-addr "127.0.0.1:$RC_PORT" --rc-no-auth \
          --log-file "$LOGS/rclone.log" --log-level INFO \
          --log-format date,time,microseconds >>"$LOGS/mount-rclone.log" 2>&1 &
      pid=$! ;;
  esac
  track $pid
  SYS_PID[$sys]=$pid
  local n=300
  while [ $n -gt 0 ]; do
    mountpoint -q "$mnt" && { SYS_DIR[$sys]=$mnt; MOUNTS+=("$mnt"); return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1; n=$((n - 1))
  done
  kill -TERM "$pid" 2>/dev/null
  SYS_REASON[$sys]="mount did not come up: $(last_err "$LOGS/mount-$sys.log")"
  [ "$sys" = rclone ] && SYS_REASON[$sys]="mount did not come up: $(last_err "$LOGS/rclone.log")"
  return 1
}

umount_sys() {
  local sys=$1 mnt=$W/mnt/$1 pid=${SYS_PID[$1]:-}
  local tries=0
  while mountpoint -q "$mnt"; do
    fusermount3 -u "$mnt" 2>>"$LOGS/umount.log" && break
    tries=$((tries + 1))
    [ $tries -lt 20 ] || { umount -l "$mnt"; break; }
    sleep 0.5
  done
  # The client flushes on unmount; give it time, then make sure it is gone.
  if [ -n "$pid" ]; then
    wait_for "$STEP_TIMEOUT" sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
  fi
}

# Before a timed write: what the previous system wrote goes to disk first
# (sync), and the disk gets a moment to finish behind it, so that no
# system's write pays for another's.
settle() {
  sync
  sleep "${SETTLE_SECS:-3}"
}

# Makes the next read of SYS cold: its own caches (remount) and the kernel's.
cold() {
  local sys=$1
  case "$sys" in
    local) ;;
    ganesha|flexfs-nfs) ;;
    *)
      umount_sys "$sys"
      [ "$sys" = rclone ] && rm -rf "$W/rclone-cache"
      mount_sys "$sys" || { sys_fail "$sys" "remount failed: ${SYS_REASON[$sys]}"; return 1; }
      ;;
  esac
  sync
  echo 3 > /proc/sys/vm/drop_caches
}

# rclone acknowledges writes before uploading them: a write is done when
# rclone has uploaded it (rclone-settle.py follows its log for that).
# Prints the later of WRITER_END and the last upload.
rclone_settle() {
  python3 "$BENCHDIR/rclone-settle.py" "$LOGS/rclone.log" "$1" "$2" "$STEP_TIMEOUT"
}

# timed SYS CMD... : runs CMD with the step bound; sets T_SECS (for rclone,
# up to when its uploads were done) and T_ERR (empty on success).
timed() {
  local sys=$1; shift
  local s e rc
  s=$(now)
  timeout -k 10 "$STEP_TIMEOUT" "$@" >"$W/step.out" 2>"$W/step.err"
  rc=$?
  e=$(now)
  T_ERR=
  if [ $rc -ne 0 ]; then
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then T_ERR="timed out after ${STEP_TIMEOUT}s"
    else T_ERR="failed (exit $rc): $(last_err "$W/step.err")"; fi
    return 1
  fi
  if [ "$sys" = rclone ]; then
    e=$(rclone_settle "$s" "$e") || { T_ERR="rclone uploads did not finish"; return 1; }
  fi
  T_SECS=$(elapsed "$s" "$e")
}

# ---- starting the systems ------------------------------------------------
start_systems() {
  local s
  for s in local flexfs flexfs-s3 s3fs rclone ganesha flexfs-nfs; do
    wanted "$s" "$SYSTEMS_WANTED" || continue
    SYS_STATE[$s]=pending
  done
  SYS_STATE[local]=ok; SYS_DIR[local]=$W/local; mkdir -p "$W/local"

  if [ -n "${SYS_STATE[flexfs]:-}${SYS_STATE[flexfs-nfs]:-}" ]; then
    mkdir -p "$W/blocks"
    if start_gateway gwlocal "file://$W/blocks"; then
      [ -n "${SYS_STATE[flexfs]:-}" ] &&
        { mount_sys flexfs && SYS_STATE[flexfs]=ok || sys_fail flexfs "${SYS_REASON[flexfs]}"; }
      if [ -n "${SYS_STATE[flexfs-nfs]:-}" ]; then
        SYS_URL[flexfs-nfs]="nfs://127.0.0.1/default/%s?version=4&nfsport=$GWPORT_gwlocal"
        nfs_probe flexfs-nfs
      fi
    else
      for s in flexfs flexfs-nfs; do
        [ -n "${SYS_STATE[$s]:-}" ] && sys_fail $s "gateway did not start: $(last_err "$LOGS/gwlocal.log")"
      done
    fi
  fi

  local need_s3=
  for s in flexfs-s3 s3fs rclone; do [ -n "${SYS_STATE[$s]:-}" ] && need_s3=1; done
  if [ -n "$need_s3" ] && ! start_s3; then
    for s in flexfs-s3 s3fs rclone; do [ -n "${SYS_STATE[$s]:-}" ] && sys_fail $s "$S3_REASON"; done
    need_s3=
  fi
  if [ -n "$need_s3" ]; then
    S3_URL="s3://$S3_BUCKET/ceiling?endpoint=http://127.0.0.1:$S3_PORT&region=us-east-1&style=path"
    if [ -x "$STORETOOL" ]; then SYS_STATE[s3max]=ok
    else sys_fail s3max "storetool is not built"; fi
    if [ -n "${SYS_STATE[flexfs-s3]:-}" ]; then
      if start_gateway gws3 "s3://$S3_BUCKET/flexfs?endpoint=http://127.0.0.1:$S3_PORT&region=us-east-1&style=path"; then
        mount_sys flexfs-s3 && SYS_STATE[flexfs-s3]=ok || sys_fail flexfs-s3 "${SYS_REASON[flexfs-s3]}"
      else
        sys_fail flexfs-s3 "gateway did not start: $(last_err "$LOGS/gws3.log")"
      fi
    fi
    if [ -n "${SYS_STATE[s3fs]:-}" ]; then
      if ! command -v s3fs >/dev/null; then sys_fail s3fs "s3fs is not installed ($PKG_REASON)"
      else
        (umask 077; printf '%s:%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" > "$W/s3fs.passwd")
        mount_sys s3fs && SYS_STATE[s3fs]=ok || sys_fail s3fs "${SYS_REASON[s3fs]}"
      fi
    fi
    if [ -n "${SYS_STATE[rclone]:-}" ]; then
      if ! command -v rclone >/dev/null; then sys_fail rclone "rclone is not installed ($PKG_REASON)"
      else
        : > "$W/rclone.conf"
        RC_PORT=$(free_port)
        mount_sys rclone && SYS_STATE[rclone]=ok || sys_fail rclone "${SYS_REASON[rclone]}"
      fi
    fi
  fi

  [ -n "${SYS_STATE[ganesha]:-}" ] && start_ganesha
  for s in "${!SYS_STATE[@]}"; do
    [ "${SYS_STATE[$s]}" = pending ] && sys_fail "$s" "did not start"
  done
}

# nfs-ganesha with the VFS backend exporting a local directory as /bench on
# its own loopback port.  Without rpcbind it logs that it cannot register
# and serves NFSv4 all the same.
start_ganesha() {
  if ! command -v ganesha.nfsd >/dev/null; then
    sys_fail ganesha "nfs-ganesha is not installed ($PKG_REASON)"; return
  fi
  local g=$W/ganesha port
  port=$(free_port)
  mkdir -p "$g/export" "$g/recov"
  cat > "$g/ganesha.conf" <<EOF
NFS_CORE_PARAM {
  NFS_Port = $port;
  Bind_Addr = 127.0.0.1;
  Protocols = 4;
  Enable_NLM = false;
  Enable_RQUOTA = false;
  Enable_UDP = false;
}
NFSV4 {
  Graceless = true;
  RecoveryBackend = fs;
  RecoveryRoot = $g/recov;
}
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
  Export_Id = 1;
  Path = $g/export;
  Pseudo = /bench;
  Access_Type = RW;
  Squash = No_Root_Squash;
  SecType = sys;
  Protocols = 4;
  Transports = TCP;
  FSAL { Name = VFS; }
}
EOF
  ganesha.nfsd -F -L "$LOGS/ganesha.log" -f "$g/ganesha.conf" -p "$g/ganesha.pid" -N NIV_EVENT \
      >>"$LOGS/ganesha.out" 2>&1 &
  local pid=$!
  track $pid
  SYS_PID[ganesha]=$pid
  if ! wait_for 30 port_open "$port"; then
    sys_fail ganesha "did not listen: $(last_err "$LOGS/ganesha.log")"; return
  fi
  SYS_URL[ganesha]="nfs://127.0.0.1/bench/%s?version=4&nfsport=$port"
  nfs_probe ganesha
}

# A tiny mdbench run proves an NFS system answers before it is measured.
nfs_probe() {
  local sys=$1 url
  # shellcheck disable=SC2059
  url=$(printf "${SYS_URL[$sys]}" probe)
  if [ ! -x "$MDBENCH" ]; then sys_fail "$sys" "mdbench is not built"; return; fi
  if timeout 60 "$MDBENCH" -n 10 "$url" >"$LOGS/probe-$sys.log" 2>&1; then
    SYS_STATE[$sys]=ok
  else
    sys_fail "$sys" "NFSv4 probe failed: $(last_err "$LOGS/probe-$sys.log")"
  fi
}

# ---- workloads -----------------------------------------------------------
FUSE_SYSTEMS="local flexfs flexfs-s3 s3fs rclone"
NFS_SYSTEMS="ganesha flexfs-nfs"
fio_val() { python3 "$BENCHDIR/report.py" --fio-field "$1" "$2"; }

# fio_secs SYS RW: how long the last fio run took.  fio's own clock (its
# runtime includes end_fsync) leaves out its start-up, which is a large
# share of a 1 GiB run at 1 GB/s; rclone's run counts by the wall clock,
# up to its last upload (see timed).
fio_secs() {
  if [ "$1" = rclone ]; then echo "$T_SECS"; return; fi
  local ms
  ms=$(fio_val "$2.runtime" "$W/fio.json") || { echo "$T_SECS"; return; }
  awk -v ms="$ms" -v t="$T_SECS" 'BEGIN { if (ms > 0) printf "%.3f", ms / 1000; else print t }'
}

# skip_row WID LABEL UNIT SYSTEM: records n/a if SYSTEM is not up; true then.
skip_row() {
  sys_ok "$4" && return 1
  na "$1" "$2" "$4" "$3" "${SYS_REASON[$4]:-not started}"
  return 0
}

# What the S3 server itself delivers: 4 MiB objects (SEQ_SIZE in all) put
# and read back by tests/s3/storetool through flexfs's own S3 code, with
# 8 streams (as a mount's transfer_threads).  No file system is in the
# way, so no FUSE row can beat it: the S3 rows are bounded by it.
s3_ceiling() {
  local j=$1 wlab=$2 rlab=$3 n out put get
  sys_ok s3max || return 0
  say "seq: S3 server alone (storetool, 8 streams)"
  n=$(( (SEQ_BYTES + 4194303) / 4194304 ))
  if out=$(timeout -k 10 "$STEP_TIMEOUT" "$STORETOOL" -t 8 "$S3_URL" bench "$n" 4194304 2>"$W/step.err"); then
    put=$(printf '%s\n' "$out" | awk '/^put:/ { print $(NF-1) }')
    get=$(printf '%s\n' "$out" | awk '/^get:/ { print $(NF-1) }')
    record "seq-write-${j}j" "$wlab" s3max "$put" MiB/s "" "storetool put, 8 streams"
    record "seq-read-${j}j" "$rlab" s3max "$get" MiB/s "" "storetool get, 8 streams"
  else
    na "seq-write-${j}j" "$wlab" s3max MiB/s "storetool: $(last_err "$W/step.err")"
    na "seq-read-${j}j" "$rlab" s3max MiB/s "storetool failed"
  fi
}

# SEQ_READS rounds of cold reads of what wl_seq wrote, the systems taking
# turns within each round; each row gets its system's median.  One cold
# read swings by up to 2x here (the virtual disk's speed follows the
# host's cache and drifts over minutes), so a single one decides nothing,
# and reading in turns gives every system the same conditions.
seq_cold_reads() {
  local j=$1 rlab=$2 sys r
  shift 2
  local common=("$@")
  local -A secs=() failed=()
  for ((r = 0; r < SEQ_READS; r++)); do
    for sys in $SEQ_READERS; do
      [ -z "${failed[$sys]:-}" ] || continue
      cold "$sys" || { failed[$sys]=${SYS_REASON[$sys]}; continue; }
      common[1]=--directory=${SYS_DIR[$sys]}/seq
      if ! timed "$sys" fio "${common[@]}" --rw=read --output="$W/fio.json"; then
        failed[$sys]=$T_ERR; continue
      fi
      secs[$sys]+="$(fio_secs "$sys" read) "
    done
  done
  for sys in $SEQ_READERS; do
    if [ -n "${failed[$sys]:-}" ]; then
      na "seq-read-${j}j" "$rlab" "$sys" MiB/s "${failed[$sys]}"; continue
    fi
    # shellcheck disable=SC2086  # one number per word
    T_SECS=$(printf '%s\n' ${secs[$sys]} | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    record "seq-read-${j}j" "$rlab" "$sys" "$(div $((SEQ_BYTES >> 20)) "$T_SECS")" MiB/s "$T_SECS" \
      "$([ "$SEQ_READS" -gt 1 ] && echo "median of $SEQ_READS")"
  done
}

# Each system writes its files, then they all read them back in turns.
wl_seq() {
  local sys j d per wlab rlab
  for j in 1 4; do
    per=$((SEQ_BYTES / j))
    wlab="seq write $SEQ_SIZE bs=1M, $j job$([ $j -gt 1 ] && echo s), end_fsync"
    rlab="seq read cold $SEQ_SIZE bs=1M, $j job$([ $j -gt 1 ] && echo s)"
    local common=(--name=seq --directory=. --bs=1M --size="$per" --numjobs="$j"
                  --fallocate=none --group_reporting --output-format=json)
    SEQ_READERS=
    for sys in $FUSE_SYSTEMS; do
      [ -n "${SYS_STATE[$sys]:-}" ] || continue
      skip_row "seq-write-${j}j" "$wlab" MiB/s "$sys" && { na "seq-read-${j}j" "$rlab" "$sys" MiB/s "${SYS_REASON[$sys]}"; continue; }
      say "seq $j job(s): $sys"
      d=${SYS_DIR[$sys]}/seq
      rm -rf "$d"; mkdir -p "$d"
      common[1]=--directory=$d
      settle
      if timed "$sys" fio "${common[@]}" --rw=write --end_fsync=1 --output="$W/fio.json"; then
        T_SECS=$(fio_secs "$sys" write)
        record "seq-write-${j}j" "$wlab" "$sys" "$(div $((SEQ_BYTES >> 20)) "$T_SECS")" MiB/s "$T_SECS"
        SEQ_READERS+="$sys "
      else
        na "seq-write-${j}j" "$wlab" "$sys" MiB/s "$T_ERR"
        na "seq-read-${j}j" "$rlab" "$sys" MiB/s "write failed"
      fi
    done
    say "seq $j job(s): cold reads in turns ($SEQ_READERS)"
    seq_cold_reads "$j" "$rlab" "${common[@]}"
    for sys in $SEQ_READERS; do
      [ -n "${SYS_DIR[$sys]:-}" ] && rm -rf "${SYS_DIR[$sys]}/seq"
    done
    s3_ceiling "$j" "$wlab" "$rlab"
  done
}

wl_rand() {
  local sys d ios
  local wl="random 4k write, $RAND_SIZE file, QD16 libaio, end_fsync (cap ${RAND_RUNTIME}s)"
  local rl="random 4k read cold, $RAND_SIZE file, QD16 libaio (cap ${RAND_RUNTIME}s)"
  local vl="random 4k write of $VERIFY_SIZE verified after remount"
  for sys in $FUSE_SYSTEMS; do
    [ -n "${SYS_STATE[$sys]:-}" ] || continue
    if ! sys_ok "$sys"; then
      for w in rand-write rand-read rand-verify; do na $w "" "$sys" "" "${SYS_REASON[$sys]}"; done
      continue
    fi
    say "random 4k: $sys"
    d=${SYS_DIR[$sys]}/rand
    rm -rf "$d"; mkdir -p "$d"
    local common=(--name=rand --directory="$d" --size="$RAND_BYTES" --fallocate=none
                  --output-format=json --output="$W/fio.json")
    # Lay the file out first (untimed), so the random write overwrites.
    if ! timed "$sys" fio "${common[@]}" --rw=write --bs=1M --end_fsync=1; then
      na rand-write "$wl" "$sys" IOPS "layout: $T_ERR"; na rand-read "$rl" "$sys" IOPS "layout failed"
    else
      cold "$sys" || continue
      d=${SYS_DIR[$sys]}/rand; common[1]=--directory=$d
      if timed "$sys" fio "${common[@]}" --rw=randwrite --bs=4k --ioengine=libaio --iodepth=16 \
             --runtime="$RAND_RUNTIME" --end_fsync=1; then
        ios=$(fio_val write.total_ios "$W/fio.json")
        record rand-write "$wl" "$sys" "$(div "$ios" "$T_SECS")" IOPS "$T_SECS" "$ios writes"
      else
        na rand-write "$wl" "$sys" IOPS "$T_ERR"
      fi
      cold "$sys" || continue
      d=${SYS_DIR[$sys]}/rand; common[1]=--directory=$d
      if timed "$sys" fio "${common[@]}" --rw=randread --bs=4k --ioengine=libaio --iodepth=16 \
             --runtime="$RAND_RUNTIME"; then
        ios=$(fio_val read.total_ios "$W/fio.json")
        record rand-read "$rl" "$sys" "$(fio_val read.iops "$W/fio.json")" IOPS "$T_SECS" "$ios reads"
      else
        na rand-read "$rl" "$sys" IOPS "$T_ERR"
      fi
    fi
    rm -rf "$d"
    # Random writes must work: write with checksums, remount, verify.
    d=${SYS_DIR[$sys]}/verify; rm -rf "$d"; mkdir -p "$d"
    local vc=(--name=verify --directory="$d" --size="$VERIFY_BYTES" --fallocate=none --bs=4k
              --rw=randwrite --verify=crc32c --verify_state_save=0 --output-format=json
              --output="$W/fio.json")
    if ! timed "$sys" fio "${vc[@]}" --do_verify=0 --end_fsync=1; then
      na rand-verify "$vl" "$sys" "" "write: $T_ERR"
    else
      cold "$sys" || continue
      d=${SYS_DIR[$sys]}/verify; vc[1]=--directory=$d
      if timed "$sys" fio "${vc[@]}" --verify_only --verify_fatal=1; then
        record rand-verify "$vl" "$sys" ok "" "$T_SECS"
      else
        record rand-verify "$vl" "$sys" FAILED "" "" "$T_ERR"
      fi
    fi
    rm -rf "$d"
  done
}

# mdbench on every system that should run it; NFS systems through libnfs.
wl_md() {
  local sys t dirs lay tgt key
  for dirs in 1 "$MD_DIRS"; do
    lay="1 dir"; [ "$dirs" -gt 1 ] && lay="$dirs dirs"
    for t in ${MD_THREADS//,/ }; do
      key="md-$( [ "$dirs" -gt 1 ] && echo "${dirs}d" || echo 1d )-t$t"
      for sys in $FUSE_SYSTEMS $NFS_SYSTEMS; do
        [ -n "${SYS_STATE[$sys]:-}" ] || continue
        local labp="metadata $MD_FILES files, $lay, $t thread$([ "$t" -gt 1 ] && echo s):"
        if [ "$MD_PEERS" = 0 ] && { [ "$sys" = s3fs ] || [ "$sys" = rclone ]; }; then
          for ph in create stat readdir unlink; do
            na "$key-$ph" "$labp $ph" "$sys" ops/s "skipped by default (slow); --md-peers runs it"
          done
          continue
        fi
        if [ "$META_S3" = 0 ] && [ "$sys" = flexfs-s3 ]; then
          for ph in create stat readdir unlink; do
            na "$key-$ph" "$labp $ph" "$sys" ops/s "skipped by default (metadata path of flexfs local); --meta-s3 runs it"
          done
          continue
        fi
        if ! sys_ok "$sys" || [ ! -x "$MDBENCH" ]; then
          local why=${SYS_REASON[$sys]:-mdbench is not built}
          for ph in create stat readdir unlink; do na "$key-$ph" "$labp $ph" "$sys" ops/s "$why"; done
          continue
        fi
        say "mdbench $lay, $t thread(s): $sys"
        if [ -n "${SYS_URL[$sys]:-}" ]; then
          # shellcheck disable=SC2059
          tgt=$(printf "${SYS_URL[$sys]}" "$key")
        else
          tgt=${SYS_DIR[$sys]}/$key
        fi
        if timed "$sys" "$MDBENCH" -j -t "$t" -n "$MD_FILES" -d "$dirs" "$tgt"; then
          for ph in create stat readdir unlink; do
            record "$key-$ph" "$labp $ph" "$sys" \
                "$(python3 "$BENCHDIR/report.py" --json-field "$ph" "$W/step.out")" ops/s ""
          done
        else
          for ph in create stat readdir unlink; do na "$key-$ph" "$labp $ph" "$sys" ops/s "$T_ERR"; done
        fi
      done
    done
  done
}

# A tree of SMALL_FILES files of 1-16 KiB in directories of 100 (seeded, so
# every run copies the same bytes); its expected digest is written beside.
make_small_tree() {
  python3 - "$W/small-src" "$SMALL_FILES" <<'EOF'
import os, random, sys, hashlib
base, n = sys.argv[1], int(sys.argv[2])
r = random.Random(6)
h = hashlib.md5()
total = 0
for i in range(n):
    d = os.path.join(base, "d%03d" % (i // 100))
    os.makedirs(d, exist_ok=True)
    data = r.randbytes(r.randint(1024, 16384))
    with open(os.path.join(d, "f%03d.dat" % (i % 100)), "wb") as f:
        f.write(data)
    total += len(data)
paths = sorted(os.path.relpath(os.path.join(dp, f), base)
               for dp, _, fs in os.walk(base) for f in fs)
for p in paths:
    with open(os.path.join(base, p), "rb") as f:
        h.update(f.read())
open(base + ".md5", "w").write(h.hexdigest() + "\n")
open(base + ".bytes", "w").write("%d\n" % total)
EOF
}

# Digest of a copied tree, the same way as above (sorted relative paths).
tree_md5() {
  (cd "$1" && find . -type f -print0 | sed -z 's|^\./||' | LC_ALL=C sort -z |
     xargs -0 cat | md5sum | cut -d' ' -f1)
}

wl_small() {
  local sys d n=$SMALL_FILES ents
  make_small_tree || { say "cannot make the small-file tree"; return; }
  local want; want=$(cat "$W/small-src.md5")
  # The python digest sorts like C sort on these names.
  local l1="small files: cp -r of $n files (1-16 KiB)"
  local l2="small files: parallel copy ($SMALL_PAR cp -r streams)"
  local l3="small files: ls -lR cold"
  local l4="small files: read back cold (+ md5 check)"
  local l5="small files: rm -rf"
  for sys in $FUSE_SYSTEMS; do
    [ -n "${SYS_STATE[$sys]:-}" ] || continue
    if ! sys_ok "$sys"; then
      for w in small-cp small-cppar small-ls small-read small-rm; do na $w "" "$sys" files/s "${SYS_REASON[$sys]}"; done
      continue
    fi
    say "small files: $sys"
    d=${SYS_DIR[$sys]}/small
    rm -rf "$d"; mkdir -p "$d/par"
    tar cf - -C "$W/small-src" . > /dev/null     # the source warm for everyone
    if timed "$sys" cp -r "$W/small-src" "$d/tree"; then
      record small-cp "$l1" "$sys" "$(div "$n" "$T_SECS")" files/s "$T_SECS"
    else
      na small-cp "$l1" "$sys" files/s "$T_ERR"
    fi
    tar cf - -C "$W/small-src" . > /dev/null
    if timed "$sys" bash -c "cd '$W/small-src' && ls | xargs -P '$SMALL_PAR' -I{} cp -r {} '$d/par/'"; then
      record small-cppar "$l2" "$sys" "$(div "$n" "$T_SECS")" files/s "$T_SECS"
    else
      na small-cppar "$l2" "$sys" files/s "$T_ERR"
    fi
    cold "$sys" || continue
    d=${SYS_DIR[$sys]}/small
    ents=$(( n + n / 100 ))
    if timed "$sys" ls -lR "$d/tree"; then
      record small-ls "$l3" "$sys" "$(div "$ents" "$T_SECS")" entries/s "$T_SECS"
    else
      na small-ls "$l3" "$sys" entries/s "$T_ERR"
    fi
    cold "$sys" || continue
    d=${SYS_DIR[$sys]}/small
    local got=
    if timed "$sys" bash -c "$(declare -f tree_md5); tree_md5 '$d/tree'"; then
      got=$(cat "$W/step.out")
      if [ "$got" = "$want" ]; then
        record small-read "$l4" "$sys" "$(div "$n" "$T_SECS")" files/s "$T_SECS"
      else
        record small-read "$l4" "$sys" "$(div "$n" "$T_SECS")" files/s "$T_SECS" "DATA MISMATCH"
      fi
    else
      na small-read "$l4" "$sys" files/s "$T_ERR"
    fi
    if timed "$sys" rm -rf "$d/tree"; then
      record small-rm "$l5" "$sys" "$(div "$n" "$T_SECS")" files/s "$T_SECS"
    else
      na small-rm "$l5" "$sys" files/s "$T_ERR"
    fi
    timeout "$STEP_TIMEOUT" rm -rf "$d"
  done
  rm -rf "$W/small-src"
}

wl_bigdir() {
  local sys d n=$BIG_FILES cnt
  local l1="dir of $n entries: create (1 thread)"
  local l2="dir of $n entries: ls -f | wc -l"
  local l3="dir of $n entries: ls -l cold"
  for sys in $FUSE_SYSTEMS; do
    [ -n "${SYS_STATE[$sys]:-}" ] || continue
    if [ "$BIG_PEERS" = 0 ] && { [ "$sys" = s3fs ] || [ "$sys" = rclone ]; }; then
      for w in big-create big-lsf big-lsl; do
        na $w "" "$sys" entries/s "skipped by default (one PUT per file: too slow); --big-peers runs it"
      done
      continue
    fi
    if [ "$META_S3" = 0 ] && [ "$sys" = flexfs-s3 ]; then
      for w in big-create big-lsf big-lsl; do
        na $w "" "$sys" entries/s "skipped by default (metadata path of flexfs local); --meta-s3 runs it"
      done
      continue
    fi
    if ! sys_ok "$sys" || [ ! -x "$MDBENCH" ]; then
      for w in big-create big-lsf big-lsl; do na $w "" "$sys" entries/s "${SYS_REASON[$sys]:-mdbench is not built}"; done
      continue
    fi
    say "big directory: $sys"
    d=${SYS_DIR[$sys]}/big
    rm -rf "$d"
    if timed "$sys" "$MDBENCH" -n "$n" -p create "$d"; then
      record big-create "$l1" "$sys" "$(div "$n" "$T_SECS")" entries/s "$T_SECS"
    else
      na big-create "$l1" "$sys" entries/s "$T_ERR"
      na big-lsf "$l2" "$sys" entries/s "create failed"; na big-lsl "$l3" "$sys" entries/s "create failed"
      timeout "$STEP_TIMEOUT" rm -rf "$d"; continue
    fi
    if timed "$sys" bash -c "ls -f '$d' | wc -l"; then
      cnt=$(tr -d ' \n' < "$W/step.out")
      record big-lsf "$l2" "$sys" "$(div "$cnt" "$T_SECS")" entries/s "$T_SECS" \
          "$([ "$cnt" = $((n + 2)) ] || echo "WRONG COUNT $cnt")"
    else
      na big-lsf "$l2" "$sys" entries/s "$T_ERR"
    fi
    cold "$sys" || continue
    d=${SYS_DIR[$sys]}/big
    if timed "$sys" ls -l "$d"; then
      record big-lsl "$l3" "$sys" "$(div "$n" "$T_SECS")" entries/s "$T_SECS"
    else
      na big-lsl "$l3" "$sys" entries/s "$T_ERR"
    fi
    timeout "$STEP_TIMEOUT" "$MDBENCH" -t 8 -n "$n" -p unlink "$d" >/dev/null 2>&1
    timeout "$STEP_TIMEOUT" rm -rf "$d"
  done
}

# ---- main ----------------------------------------------------------------
T_START=$(now)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "build $BUILDDIR, work directory $W"
PKG_REASON="tests/bench/setup.sh was not run (--no-install)"
if [ "$INSTALL" = 1 ]; then
  if sh "$BENCHDIR/setup.sh" 2>"$LOGS/setup.log"; then PKG_REASON=
  else PKG_REASON="package install failed: $(last_err "$LOGS/setup.log")"; fi
fi
command -v fio >/dev/null || die "fio is missing ($PKG_REASON)"
start_systems

for wl in seq rand md small bigdir; do
  wanted "$wl" "$WORKLOADS_WANTED" || continue
  ws=$(now)
  "wl_$wl"
  say "workload $wl took $(elapsed "$ws" "$(now)") s"
  printf 'workload\t%s\t%s\n' "$wl" "$(elapsed "$ws" "$(now)")" >> "$W/times.tsv"
done

for s in local flexfs flexfs-s3 s3fs rclone s3max ganesha flexfs-nfs; do
  [ -n "${SYS_STATE[$s]:-}" ] || continue
  printf '%s\t%s\t%s\n' "$s" "${SYS_STATE[$s]}" "${SYS_REASON[$s]:-}" >> "$SYSTAB"
done
cat > "$W/meta.json" <<EOF
{"date": "$(date -Is)", "host_cores": $(nproc), "mem_kib": $(awk '/MemTotal/ {print $2}' /proc/meminfo),
 "kernel": "$(uname -r)", "build_dir": "$BUILDDIR", "work_dir": "$W",
 "flexfs_version": "$("$GATEWAYD" --version 2>/dev/null | head -n1)",
 "flexfs_mount_opts": "$FLEXFS_OPTS",
 "options": {"seq_size": "$SEQ_SIZE", "rand_size": "$RAND_SIZE", "rand_runtime": $RAND_RUNTIME,
   "md_files": $MD_FILES, "md_dirs": $MD_DIRS, "md_threads": "$MD_THREADS", "md_peers": $MD_PEERS,
   "meta_s3": $META_S3,
   "small_files": $SMALL_FILES, "small_par": $SMALL_PAR, "big_files": $BIG_FILES, "big_peers": $BIG_PEERS,
   "s3_workers": $S3_WORKERS,
   "systems": "$SYSTEMS_WANTED", "workloads": "$WORKLOADS_WANTED"},
 "load_start": "$LOAD_START", "load_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "total_seconds": $(elapsed "$T_START" "$(now)")}
EOF
python3 "$BENCHDIR/report.py" --meta "$W/meta.json" --systems "$SYSTAB" \
    --results "$RESULTS" --times "$W/times.tsv" --json "$OUT_JSON" ||
  { say "report failed; raw results in $RESULTS"; KEEP=1; exit 1; }
say "JSON written to $OUT_JSON"
