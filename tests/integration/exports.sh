#!/bin/bash
# exports.sh - the exports file (flexfs-exports(5)) through both front ends:
# a volume not exported to this host cannot be mounted or seen over NFS; a
# read-only export mounts read-only and the gateway refuses changes even
# from a mount that thinks it may write (EROFS, NFS4ERR_ROFS); root is
# squashed unless no_root_squash; all_squash with anonuid/anongid; SIGHUP
# rereads the file and a bad file keeps the table in force; a bad file at
# start stops the gateway with the line named.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse
for t in nfs-ls nfs-cp nfs-cat; do
  command -v $t >/dev/null || fx_skip "$t not found (Debian package libnfs-utils)"
done

EX=$T/exports
cat >"$EX" <<'EOF'
# the tests' own host may do anything, for the setup
/        127.0.0.1(rw,no_root_squash)
/ro      127.0.0.0/8(rw,no_root_squash)
/hidden  10.0.0.0/8(rw)
EOF
fx_start_gateway gw --exports "$EX"
adm() { "$FLEXFS_ADMIN" -p "$GW_PORT" "$@" >/dev/null; }
fx_check "volume ro" adm volume create ro
fx_check "volume hidden" adm volume create hidden
url() { echo "nfs://127.0.0.1/${1-}?version=4&nfsport=$GW_PORT"; }

# errno_of UID STATEMENT: OK or the errno name of a Python statement run
# as UID (gid = UID, no other groups); M is the default volume's mount.
errno_of() {
  setpriv --reuid="$1" --regid="$1" --clear-groups env M="$M" python3 -c "
import errno, os
M = os.environ['M']
try:
    $2
    print('OK')
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))"
}
expect_errno() {
  local what=$1 want=$2 uid=$3 stmt=$4 got
  got=$(errno_of "$uid" "$stmt")
  [ "$got" = "$want" ] || fx_fail "$what: got $got, expected $want"
}
owner() { stat -c %u:%g "$1"; }
reload() {
  local n
  n=$(grep -c "exports file .* reloaded\|not reloaded" "$T/gw.log")
  kill -HUP "$GW_PID"
  fx_wait_for 10 sh -c "[ \$(grep -c 'exports file .* reloaded\|not reloaded' '$T/gw.log') -gt $n ]" ||
    fx_fail "SIGHUP: no reload logged"
}

# ---- setup with everything open to 127.0.0.1 ----
M=$T/mnt
fx_try_mount gw "$M" allow_other || fx_fail "mount of the default volume"
chmod 755 "$T"
mkdir -m 1777 "$M/pub" && echo data >"$M/pub/existing" || fx_fail "setup"
[ "$(owner "$M/pub/existing")" = 0:0 ] || fx_fail "no_root_squash: root's file is $(owner "$M/pub/existing")"
R=$T/ro
fx_try_mount gw "$R" "" ro || fx_fail "mount of volume ro (rw for now)"
echo "read me" >"$R/file" || fx_fail "write into volume ro"
fx_umount "$R" || fx_fail "umount ro"

# ---- a volume not exported to this host ----
fx_try_mount gw "$T/hidden" "" hidden && fx_fail "mounted a volume not exported to this host"
grep -qi "permission denied" "$T/mount-hidden.log" ||
  fx_fail "mount of a hidden volume: $(tail -3 "$T/mount-hidden.log")"
nfs-ls "$(url)" >"$T/ls" || fx_fail "nfs-ls of the pseudo-root"
grep -qw hidden "$T/ls" && fx_fail "the pseudo-root lists a volume not exported to this host"
grep -qw ro "$T/ls" || fx_fail "the pseudo-root does not list volume ro: $(cat "$T/ls")"
fx_expect_fail "nfs-ls of a hidden volume" nfs-ls "$(url hidden)"

# ---- read-only, root squash, all_squash: reloaded on SIGHUP ----
cat >"$EX" <<'EOF'
/        127.0.0.1(rw)
/ro      127.0.0.1(ro,no_root_squash)
/hidden  10.0.0.0/8(rw)
EOF
reload
# Root is squashed now, on the mount that is already up.
touch "$M/pub/squashed" || fx_fail "squashed root cannot write a world-writable dir"
[ "$(owner "$M/pub/squashed")" = 65534:65534 ] ||
  fx_fail "root_squash: root's new file is $(owner "$M/pub/squashed")"
expect_errno "squashed root in a root-owned 0755 dir" EACCES 0 "os.open(M + '/nope', os.O_CREAT | os.O_WRONLY, 0o644)"
expect_errno "user creates" OK 1000 "os.open(M + '/pub/u', os.O_CREAT | os.O_WRONLY, 0o644)"
[ "$(owner "$M/pub/u")" = 1000:1000 ] || fx_fail "a user's file is $(owner "$M/pub/u")"
echo data >"$T/in"
fx_check "nfs-cp in as squashed root" nfs-cp "$T/in" "$(url default/pub/nfs-root)"
[ "$(owner "$M/pub/nfs-root")" = 65534:65534 ] ||
  fx_fail "root_squash over NFS: the file is $(owner "$M/pub/nfs-root")"

# The read-only export mounts read-only, and reads work.
fx_try_mount gw "$R" "" ro || fx_fail "mount of the read-only export"
grep -q "exported read-only" "$T/mount-ro.log" || fx_fail "mount.flexfs did not say read-only"
awk -v m="$R" '$2 == m { print $4 }' /proc/mounts | grep -q '^ro\b' ||
  fx_fail "the read-only export is not mounted ro: $(grep "$R" /proc/mounts)"
[ "$(cat "$R/file")" = "read me" ] || fx_fail "read from the read-only export"
touch "$R/new" 2>/dev/null && fx_fail "created a file on a read-only export"
test -w "$R/file" && fx_fail "access(W_OK) succeeds on a read-only export"
test -r "$R/file" || fx_fail "access(R_OK) fails on a read-only export"
fx_check "nfs-cat from the read-only export" nfs-cat "$(url ro/file)"
fx_expect_fail "nfs-cp into the read-only export" nfs-cp "$T/in" "$(url ro/new)"
fx_umount "$R" || fx_fail "umount ro"

# The gateway itself refuses: the default volume's mount still believes it
# may write when its export turns read-only.
cat >"$EX" <<'EOF'
/        127.0.0.1(ro)
/ro      127.0.0.1(ro)
EOF
reload
[ "$(cat "$M/pub/existing")" = data ] || fx_fail "read on a read-only export"
expect_errno "create on a read-only export" EROFS 1000 "os.open(M + '/pub/ro1', os.O_CREAT | os.O_WRONLY, 0o644)"
expect_errno "mkdir on a read-only export" EROFS 1000 "os.mkdir(M + '/pub/d')"
expect_errno "unlink on a read-only export" EROFS 1000 "os.unlink(M + '/pub/u')"
expect_errno "chmod on a read-only export" EROFS 1000 "os.chmod(M + '/pub/u', 0o600)"
expect_errno "rename on a read-only export" EROFS 1000 "os.rename(M + '/pub/u', M + '/pub/u2')"
expect_errno "setxattr on a read-only export" EROFS 1000 "os.setxattr(M + '/pub/u', 'user.a', b'1')"
expect_errno "open for writing on a read-only export" EROFS 1000 "open(M + '/pub/u', 'w')"
expect_errno "read on a read-only export" OK 1000 "open(M + '/pub/existing').read()"
[ -e "$M/pub/ro1" ] && fx_fail "a refused create left a file"

# all_squash with ids of its own.
cat >"$EX" <<'EOF'
/        127.0.0.1(rw,all_squash,anonuid=1234,anongid=4321)
EOF
reload
expect_errno "all_squash user creates" OK 1000 "os.open(M + '/pub/all', os.O_CREAT | os.O_WRONLY, 0o644)"
[ "$(owner "$M/pub/all")" = 1234:4321 ] || fx_fail "all_squash: the file is $(owner "$M/pub/all")"

# secure: calls only from ports below 1024.  mount.flexfs run by root
# binds one; libnfs run by a user cannot.
fx_check "volume sec" adm volume create sec
cat >"$EX" <<'EOF'
/        127.0.0.1(rw,all_squash,anonuid=1234,anongid=4321)
/sec     127.0.0.1(rw,secure,no_root_squash)
/ro      127.0.0.1(ro)
EOF
reload
fx_try_mount gw "$T/sec" "" sec || fx_fail "root's mount of a secure export"
touch "$T/sec/f" || fx_fail "write through a secure export"
fx_umount "$T/sec" || fx_fail "umount sec"
setpriv --reuid=1000 --regid=1000 --clear-groups nfs-ls "$(url ro)" >/dev/null ||
  fx_fail "a user's libnfs on an insecure export"
setpriv --reuid=1000 --regid=1000 --clear-groups nfs-ls "$(url sec)" >/dev/null 2>&1 &&
  fx_fail "a user's libnfs (unprivileged port) on a secure export"

# A bad file on SIGHUP keeps the table in force.
echo "/ 127.0.0.1(rw,bogus)" >"$EX"
reload
grep -q 'unknown option: "bogus"' "$T/gw.log" || fx_fail "the bad option is not named in the log"
expect_errno "table kept after a bad reload" OK 1000 "os.open(M + '/pub/all2', os.O_CREAT | os.O_WRONLY, 0o644)"
[ "$(owner "$M/pub/all2")" = 1234:4321 ] || fx_fail "the old table is not in force"
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_umount "$M" || fx_fail "umount"

# A bad file at start: the gateway says which line and does not serve.
printf '/ 127.0.0.1(rw)\n/x host.example\n' >"$T/bad-exports"
rc=0
timeout 20 "$GATEWAYD" -f --listen 127.0.0.1:0 --meta-dir "$T/gw2" \
    --exports "$T/bad-exports" >"$T/gw2.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fx_fail "gateway with a bad exports file: exit $rc"
grep -q "bad-exports:2: .*host.example" "$T/gw2.log" ||
  fx_fail "the bad line is not named: $(cat "$T/gw2.log")"
fx_pass
