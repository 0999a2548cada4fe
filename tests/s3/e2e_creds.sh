#!/bin/bash
# e2e_creds.sh - where S3 credentials come from and where they never go.
# The gateway reads its own from a credentials file (s3_credentials in its
# config file), each mount its own (-o credentials=FILE): nothing in the
# environment here.  Without credentials the gateway refuses to start and
# mount.flexfs refuses to mount, with a clear message, before detaching.
# A daemonized mount (store opened before the fork) moves data.  A mount
# with a wrong secret gets errors, never a silent success.  With gateway
# and clients logging at debug level, neither the secret nor the key id
# shows in any log, nor in /proc/PID/cmdline of anything started, nor in
# the environment of the gateway and the mounts.
: "${FLEXFS_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export FX_STORE=s3
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse
export FLEXFS_STATS_DIR=$T/stats
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
      AWS_SHARED_CREDENTIALS_FILE AWS_PROFILE
export HOME=$T/home             # no ~/.aws/credentials to fall back on
mkdir -p "$HOME"
s3_start                        # S3_CRED: a fresh key pair, mode 600
export FX_GW_LOG_LEVEL=debug

# ---- no credentials: clear refusals ----
mkdir -p "$T/nocred/meta"
out=$(timeout 30 "$GATEWAYD" -f --listen 127.0.0.1:0 --meta-dir "$T/nocred/meta" \
        --store "$S3_URL" 2>&1); rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fx_fail "gateway without credentials: exit $rc"
echo "$out" | grep -q "no credentials" || fx_fail "gateway message: $out"
out=$(timeout 30 "$GATEWAYD" -f --listen 127.0.0.1:0 --meta-dir "$T/nocred/meta" \
        --store "$S3_URL" --s3-credentials "$T/none" 2>&1); rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fx_fail "gateway with a missing credentials file: exit $rc"
echo "$out" | grep -q "cannot read credentials file $T/none" || fx_fail "gateway message: $out"

# ---- the gateway, credentials from its config file ----
printf '[gateway]\ns3_credentials = %s\ngc_grace = 1\n' "$S3_CRED" >"$T/gw.conf"
fx_start_gateway gw -c "$T/gw.conf"
M=$T/mnt
mkdir -p "$M"

# A mount without credentials fails before detaching.
out=$(timeout 30 "$MOUNT_FLEXFS" 127.0.0.1:/ "$M" -o port=$GW_PORT 2>&1); rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fx_fail "mount without credentials: exit $rc"
echo "$out" | grep -q "cannot open the block store" || fx_fail "mount message: $out"
echo "$out" | grep -q "no credentials" || fx_fail "mount message: $out"
mountpoint -q "$M" && fx_fail "mounted without credentials"

# ---- mounts with -o credentials=FILE, logging at debug level ----
fx_mount gw "$M" "credentials=$S3_CRED,debug"
head -c $((9 << 20)) /dev/urandom >"$T/data"
fx_check "write through the mount" cp "$T/data" "$M/data"
fx_check "read back" cmp "$M/data" "$T/data"
fx_umount "$M" || fx_fail "unmount"
fx_mount gw "$M" "credentials=$S3_CRED,debug"
fx_check "read back cold from S3" cmp "$M/data" "$T/data"

# A daemonized mount: the store is opened before the fork.
D=$T/daemon
mkdir -p "$D"
FX_MOUNTS+=("$D")
"$MOUNT_FLEXFS" 127.0.0.1:/ "$D" -o "port=$GW_PORT,credentials=$S3_CRED" ||
  fx_fail "daemon mount"
dpid=""
for p in /proc/[0-9]*; do
  tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "mount.flexfs 127.0.0.1:/ $D " && dpid=${p#/proc/}
done
[ -n "$dpid" ] || fx_fail "daemon process not found"
fx_track_pid "$dpid"
fx_check "the daemon reads from S3" cmp "$D/data" "$T/data"
head -c $((5 << 20)) /dev/urandom >"$T/data2"
fx_check "the daemon writes to S3" dd if="$T/data2" of="$D/data2" bs=1M conv=fsync status=none
fx_check "seen from the other mount" cmp "$M/data2" "$T/data2"

# A mount with a wrong secret: its writes fail, nothing is committed.
sed "s/^aws_secret_access_key = .*/aws_secret_access_key = wrong$RANDOM$RANDOM/" \
  "$S3_CRED" >"$T/bad.cred"
chmod 600 "$T/bad.cred"
B=$T/bad
fx_mount gw "$B" "credentials=$T/bad.cred,debug"
fx_expect_fail "a write with a wrong secret reports an error" \
  dd if="$T/data2" of="$B/bad" bs=1M conv=fsync status=none
fx_check "the refusal is logged" grep -q "access denied" "$T/mount-bad.log"
fx_check "the wrong-secret file has no data" test "$(stat -c %s "$M/bad" 2>/dev/null || echo 0)" = 0
bad_secret=$(sed -n 's/^aws_secret_access_key = //p' "$T/bad.cred")

# The gateway's collector deletes with its own credentials.
rm "$M/data2"
fx_wait_for 30 grep -q "debug: s3: POST bulk delete: HTTP 200" "$T/gw.log" ||
  fx_fail "the gateway did not collect (or log) the deleted file's blocks"

# ---- where the credentials never are ----
secrets=("$S3_SECRET" "$S3_KEY_ID" "$bad_secret")
for f in "$T"/gw.log "$T"/mount-*.log; do
  for s in "${secrets[@]}"; do
    grep -qF "$s" "$f" && fx_fail "a credential appears in $(basename "$f")"
  done
done
grep -q "debug: s3: PUT" "$T/mount-mnt.log" || fx_fail "the client did not log its S3 calls"
for p in "${FX_PIDS[@]}"; do
  [ -r "/proc/$p/cmdline" ] || continue
  for s in "${secrets[@]}"; do
    tr '\0' '\n' <"/proc/$p/cmdline" | grep -qF "$s" &&
      fx_fail "a credential is in the arguments of PID $p: $(tr '\0' ' ' <"/proc/$p/cmdline")"
  done
done
for p in "$gw_PID" "$MNT_PID" "$dpid"; do
  for s in "${secrets[@]}"; do
    tr '\0' '\n' <"/proc/$p/environ" | grep -qF "$s" &&
      fx_fail "a credential is in the environment of PID $p"
  done
done

fx_check "unmount the daemon" umount "$D"
fx_wait_for 30 sh -c "! kill -0 $dpid" || fx_fail "daemon did not exit"
fx_check "unmount" fx_umount "$M"
fx_check "unmount" fx_umount "$B"
[ "$(s3_stat bad_signature)" -ge 1 ] || fx_fail "the wrong secret never reached the proxy"
fx_pass
