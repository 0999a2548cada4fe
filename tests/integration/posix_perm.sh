#!/bin/bash
# posix_perm.sh - the permission rules as unprivileged users see them
# through a FUSE mount (setpriv with numeric uids and groups that need no
# /etc/passwd entries): search permission along lookups, write permission
# on the parent, the sticky bit, owner-only chmod and explicit utimes,
# chown and chgrp, setuid/setgid cleared on write and chown, setgid
# directories; access checked at open (ftruncate on a descriptor, writes
# as their opener); ctime marked by write; noatime; utimensat with
# UTIME_NOW/UTIME_OMIT and nanoseconds; and
# statfs figures that are the block store's.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse

fx_start_gateway gw
M=$T/mnt
fx_mount gw "$M" allow_other
chmod 755 "$T"

# as UID[:GROUPS] COMMAND...: runs COMMAND as uid (gid = uid) with the
# supplementary groups given (comma-separated) or none.
as() {
  local uid=${1%%:*} groups=
  [ "$1" != "$uid" ] && groups=${1#*:}
  shift
  if [ -n "$groups" ]; then
    setpriv --reuid="$uid" --regid="$uid" --groups="$groups" "$@"
  else
    setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
  fi
}
# errno_of UID[:GROUPS] PYTHON-STATEMENT: prints OK or the errno name.
errno_of() {
  local who=$1 stmt=$2
  as "$who" env M="$M" python3 -c "
import errno, os, sys
M = os.environ['M']
try:
    $stmt
    print('OK')
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
" 2>&1
}
expect() {
  local want=$1 who=$2 stmt=$3 got
  got=$(errno_of "$who" "$stmt")
  [ "$got" = "$want" ] || fx_fail "as $who: expected $want from: $stmt; got: $got"
}

A=5001 B=5002

# ---- search permission along lookups ----
mkdir -p "$M/s/inner"
echo x >"$M/s/inner/f"
chmod 700 "$M/s"
expect EACCES $A "os.stat(M + '/s/inner/f')"
expect EACCES $A "open(M + '/s/inner/f').read()"
chmod 711 "$M/s"
expect OK $A "os.stat(M + '/s/inner/f')"
expect EACCES $A "os.listdir(M + '/s')"
chmod 701 "$M/s/inner"
expect OK $A "open(M + '/s/inner/f').read()"
chmod 700 "$M/s/inner"
expect EACCES $A "open(M + '/s/inner/f').read()"

# ---- write permission on the parent ----
mkdir "$M/w"
chmod 755 "$M/w"
touch "$M/w/f"
chmod 666 "$M/w/f"
expect EACCES $A "open(M + '/w/new', 'w')"
expect EACCES $A "os.mkdir(M + '/w/d')"
expect EACCES $A "os.unlink(M + '/w/f')"
expect EACCES $A "os.rename(M + '/w/f', M + '/w/g')"
expect EACCES $A "os.symlink('x', M + '/w/l')"
expect OK $A "open(M + '/w/f', 'a').write('more')"
chmod 757 "$M/w"
expect OK $A "open(M + '/w/new', 'w').close()"
expect OK $A "os.rename(M + '/w/new', M + '/w/new2')"
expect OK $A "os.unlink(M + '/w/new2')"

# ---- supplementary groups: the mount keeps a caller's groups for a
# moment; each process is asked for its own, one after another ----
mkdir "$M/grpdir"
chgrp 7001 "$M/grpdir"
chmod 770 "$M/grpdir"
fx_expect_fail "without the group: no entry" as 6001 touch "$M/grpdir/a"
fx_check "with the group as a supplementary one" as 6001:7001 touch "$M/grpdir/a"
fx_expect_fail "the next process without it: no entry again" as 6001 touch "$M/grpdir/b"
fx_check "and one with it again" as 6001:7002,7001 touch "$M/grpdir/b"

# ---- the sticky bit ----
mkdir "$M/tmp"
chmod 1777 "$M/tmp"
as $A touch "$M/tmp/a-file" || fx_fail "A cannot create in a sticky dir"
as $A mkdir "$M/tmp/a-dir"
expect EPERM $B "os.unlink(M + '/tmp/a-file')"
expect EPERM $B "os.rename(M + '/tmp/a-file', M + '/tmp/b')"
expect EPERM $B "os.rmdir(M + '/tmp/a-dir')"
expect OK $A "os.rename(M + '/tmp/a-file', M + '/tmp/a2')"
expect OK $A "os.unlink(M + '/tmp/a2')"
chown $B "$M/tmp"
expect OK $B "os.rmdir(M + '/tmp/a-dir')"

# ---- owner-only chmod and explicit times; "now" with write permission ----
as $A touch "$M/tmp/af"
as $A chmod 666 "$M/tmp/af"
expect EPERM $B "os.chmod(M + '/tmp/af', 0o777)"
expect OK $A "os.chmod(M + '/tmp/af', 0o646)"
expect EPERM $B "os.utime(M + '/tmp/af', (1, 2))"
expect OK $B "os.utime(M + '/tmp/af', None)"
as $A chmod 644 "$M/tmp/af"
expect EACCES $B "os.utime(M + '/tmp/af', None)"
expect OK $A "os.utime(M + '/tmp/af', (1, 2))"

# ---- chown and chgrp ----
expect EPERM $A "os.chown(M + '/tmp/af', $B, -1)"
expect OK $A "os.chown(M + '/tmp/af', $A, -1)"
expect EPERM $A "os.chown(M + '/tmp/af', -1, 7777)"
expect OK $A:7777 "os.chown(M + '/tmp/af', -1, 7777)"
fx_check "chgrp to one's own group" test "$(stat -c %g "$M/tmp/af")" = 7777
expect EPERM $B:7777 "os.chown(M + '/tmp/af', -1, $B)"
chown 6000:6000 "$M/tmp/af"
fx_check "root changes the owner" test "$(stat -c %u:%g "$M/tmp/af")" = 6000:6000

# ---- setuid and setgid cleared on write and on chown ----
as $A touch "$M/tmp/suid"
as $A chmod 6777 "$M/tmp/suid"
fx_check "setuid set" test "$(stat -c %a "$M/tmp/suid")" = 6777
as $B sh -c "echo data >>'$M/tmp/suid'"
fx_check "a write by another user clears setuid and setgid ($(stat -c %a "$M/tmp/suid"))" \
  test "$(stat -c %a "$M/tmp/suid")" = 777
as $A chmod 6755 "$M/tmp/suid"
as $A:7777 chgrp 7777 "$M/tmp/suid"
fx_check "chgrp by the owner clears them ($(stat -c %a "$M/tmp/suid"))" \
  test "$(stat -c %a "$M/tmp/suid")" = 755
# A non-member may not set setgid on a file of another group.
as $A chmod 2755 "$M/tmp/suid"
fx_check "chmod g+s outside the group drops it" \
  test "$(stat -c %a "$M/tmp/suid")" = 755

# ---- setgid directories ----
mkdir "$M/sg"
chgrp 7777 "$M/sg"
chmod 2777 "$M/sg"
as $A touch "$M/sg/f"
as $A mkdir "$M/sg/d"
fx_check "a new file takes the directory's group" \
  test "$(stat -c %g "$M/sg/f")" = 7777
fx_check "a new directory takes the group and setgid" \
  test "$(stat -c %g:%a "$M/sg/d")" = 7777:2755

# ---- utimensat: UTIME_NOW, UTIME_OMIT, nanoseconds ----
touch "$M/t"
touch -m -d '2011-11-11 11:11:11.123456789 UTC' "$M/t"
touch -a -d '2012-12-12 12:12:12.987654321 UTC' "$M/t"
fx_check "mtime with nanoseconds, atime left alone (UTIME_OMIT)" \
  test "$(stat -c %.9Y "$M/t")" = 1321009871.123456789
fx_check "atime with nanoseconds, mtime left alone (UTIME_OMIT)" \
  test "$(stat -c %.9X:%.9Y "$M/t")" = 1355314332.987654321:1321009871.123456789
python3 - "$M/t" <<'PY' || fx_fail "utimensat UTIME_NOW/UTIME_OMIT"
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
class TS(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]
UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2
before = os.stat(sys.argv[1])
ts = (TS * 2)(TS(0, UTIME_OMIT), TS(0, UTIME_NOW))
t0 = time.time()
if libc.utimensat(-100, sys.argv[1].encode(), ts, 0):
    raise OSError(ctypes.get_errno(), "utimensat")
st = os.stat(sys.argv[1])
assert st.st_atime_ns == before.st_atime_ns, "atime moved"
assert abs(st.st_mtime - t0) < 5, "mtime is not now: %s" % st.st_mtime
ts = (TS * 2)(TS(1000000000, 5), TS(0, UTIME_OMIT))
if libc.utimensat(-100, sys.argv[1].encode(), ts, 0):
    raise OSError(ctypes.get_errno(), "utimensat")
st2 = os.stat(sys.argv[1])
assert st2.st_atime_ns == 1000000000 * 10**9 + 5, st2.st_atime_ns
assert st2.st_mtime_ns == st.st_mtime_ns, "mtime moved"
PY

# ---- access is checked at open: ftruncate, and whose write it is ----
# ftruncate(2) on a descriptor open for writing has no access error left
# (POSIX: only EBADF/EINVAL), whatever the mode says since; truncate(2) by
# path still checks write permission.
as $A touch "$M/tmp/ft"
expect OK $A "fd = os.open(M + '/tmp/ft', os.O_RDWR); os.chmod(M + '/tmp/ft', 0o444); os.write(fd, b'abcdef'); os.ftruncate(fd, 2); os.close(fd)"
fx_check "ftruncate took ($(stat -c %s "$M/tmp/ft"))" test "$(stat -c %s "$M/tmp/ft")" = 2
expect EACCES $A "os.truncate(M + '/tmp/ft', 1)"
expect OK $A "fd = os.open(M + '/tmp/ro-new', os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o444); os.ftruncate(fd, 100); os.close(fd)"
fx_check "ftruncate of a new 0444 file" test "$(stat -c %s "$M/tmp/ro-new")" = 100
# A write by root keeps setuid even while a user has the file open: the
# write is root's, not the last opener's.
touch "$M/tmp/rootsuid"
chmod 4755 "$M/tmp/rootsuid"
python3 - "$M/tmp/rootsuid" $A <<'PY' || fx_fail "root's write next to a user's open"
import os, sys
path, uid = sys.argv[1], int(sys.argv[2])
w = os.open(path, os.O_WRONLY)
opened_r, opened_w = os.pipe()         # child -> parent: it is open
done_r, done_w = os.pipe()             # parent -> child: close it
pid = os.fork()
if pid == 0:
    os.close(opened_r); os.close(done_w)
    os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)
    fd = os.open(path, os.O_RDONLY)
    os.write(opened_w, b"1"); os.read(done_r, 1); os._exit(0)
os.close(opened_w); os.close(done_r)
assert os.read(opened_r, 1) == b"1", "the user could not open it"
os.write(w, b"root"); os.fsync(w)
mode = os.stat(path).st_mode & 0o7777
os.close(done_w); os.waitpid(pid, 0)
assert mode == 0o4755, oct(mode)
PY

# ---- write(2) marks ctime as well as mtime, before the data is committed ----
echo a >"$M/tmp/ct"
python3 - "$M/tmp/ct" <<'PY' || fx_fail "ctime after write"
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
b = os.fstat(fd)
time.sleep(0.05)
os.write(fd, b"x")
a = os.fstat(fd)
assert a.st_mtime_ns > b.st_mtime_ns, "mtime did not move"
assert a.st_ctime_ns > b.st_ctime_ns, "ctime did not move"
assert a.st_ctime_ns >= a.st_mtime_ns, "ctime before mtime"
os.close(fd)
time.sleep(1.5)                         # past attr_timeout: the gateway's
c = os.stat(sys.argv[1])
assert c.st_ctime_ns == a.st_ctime_ns, "ctime moved at the commit: %d -> %d" % (a.st_ctime_ns, c.st_ctime_ns)
assert c.st_mtime_ns == a.st_mtime_ns, "mtime moved at the commit"
PY
awk -v m="$M" '$2 == m { print $4 }' /proc/mounts | grep -q 'noatime' ||
  fx_fail "the mount does not say noatime: $(grep " $M " /proc/mounts)"

# ---- statfs: the block store's figures, and files counted ----
read -r size used avail <<<"$(df -B1 --output=size,used,avail "$M" | tail -1)"
read -r ssize savail <<<"$(df -B1 --output=size,avail "$GW_DIR/blocks" | tail -1)"
fx_log "df of the mount: size $size used $used avail $avail; store: size $ssize avail $savail"
fx_check "statfs size is the store's" \
  test "$(( (size - ssize) / 1048576 ))" -ge -16 -a "$(( (size - ssize) / 1048576 ))" -le 16
fx_check "statfs avail is the store's (within 64 MiB)" \
  test "$(( (avail - savail) / 1048576 ))" -ge -64 -a "$(( (avail - savail) / 1048576 ))" -le 64
i0=$(df --output=iused "$M" | tail -1)
mkdir "$M/many"
for i in $(seq 1 20); do : >"$M/many/$i"; done
i1=$(df --output=iused "$M" | tail -1)
fx_check "statfs counts inodes ($i0 -> $i1)" test $((i1 - i0)) = 21
fx_pass
