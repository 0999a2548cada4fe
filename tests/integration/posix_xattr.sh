#!/bin/bash
# posix_xattr.sh - extended attributes through FUSE mounts: setfattr and
# getfattr round trips on files and directories, seen from another mount;
# the namespaces (user.* not on symlinks or devices, trusted.* for root
# only and hidden from others, security.*); XATTR_CREATE/XATTR_REPLACE,
# the 255-byte name and 64 KiB value limits, ERANGE on a short buffer and
# the size probe, ENODATA, as the syscalls return them (through ctypes);
# and the permission rules for other users (read/write access, sticky).
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse
command -v setfattr >/dev/null || fx_skip "needs setfattr/getfattr (attr)"

fx_start_gateway gw
M=$T/m1
fx_mount gw "$M" allow_other
fx_mount gw "$T/m2" allow_other
chmod 755 "$T"

# ---- round trips ----
echo data >"$M/f"
mkdir "$M/d"
setfattr -n user.color -v blue "$M/f"
setfattr -n user.note -v "hello world" "$M/f"
setfattr -n user.dirattr -v 0x00ff10 "$M/d"
fx_check "getfattr on the same mount" \
  test "$(getfattr --only-values -n user.color "$M/f")" = blue
fx_check "getfattr through the other mount" \
  test "$(getfattr --only-values -n user.note "$T/m2/f")" = "hello world"
fx_check "binary value on a directory" \
  test "$(getfattr -e hex -n user.dirattr "$T/m2/d" 2>/dev/null | grep ^user)" = \
    user.dirattr=0x00ff10
got=$(getfattr -d --absolute-names "$T/m2/f" | grep '^user\.' | sort | tr '\n' ' ')
fx_check "getfattr -d lists both ($got)" \
  test "$got" = 'user.color="blue" user.note="hello world" '
setfattr -x user.color "$M/f"
fx_expect_fail "removed attribute is gone" getfattr -n user.color "$T/m2/f"
# cp -a / tar --xattrs carry them.
cp -a --preserve=xattr "$M/f" "$M/f.copy"
fx_check "cp --preserve=xattr" \
  test "$(getfattr --only-values -n user.note "$M/f.copy")" = "hello world"

# ---- namespaces ----
ln -s f "$M/sym"
mkfifo "$M/fifo"
fx_expect_fail "user.* on a symlink" setfattr -h -n user.x -v 1 "$M/sym"
fx_expect_fail "user.* on a fifo" setfattr -n user.x -v 1 "$M/fifo"
fx_check "trusted.* on a symlink (root)" setfattr -h -n trusted.x -v 1 "$M/sym"
fx_check "trusted.* read back" \
  test "$(getfattr -h --only-values -n trusted.x "$M/sym")" = 1
setfattr -n trusted.secret -v s "$M/f"
setfattr -n security.label -v lbl "$M/f"
chmod 644 "$M/f"
as_user() { setpriv --reuid=5001 --regid=5001 --clear-groups "$@"; }
got=$(as_user getfattr -d -m - --absolute-names "$M/f" 2>/dev/null | grep -v -e '^#' -e '^$' | cut -d= -f1 | sort | tr '\n' ' ')
fx_check "an unprivileged user lists no trusted.* ($got)" \
  test "$got" = "security.label user.note "
fx_expect_fail "trusted.* unreadable for a user" \
  as_user getfattr -n trusted.secret "$M/f"
fx_check "security.* readable for a user" \
  test "$(as_user getfattr --only-values -n security.label "$M/f")" = lbl
fx_expect_fail "security.* not writable for a user" \
  as_user setfattr -n security.label -v x "$M/f"

# ---- what ls -l asks (ACL, SELinux label) is answered from the
# gateway's "no xattrs" word; it must not hide a later change ----
echo x >"$M/plain"
ls -l "$T/m2/plain" >/dev/null
fx_expect_fail "no label on a plain file" getfattr -n security.selinux "$T/m2/plain"
fx_expect_fail "no ACL on a plain file" getfattr -n system.posix_acl_access "$T/m2/plain"
setfattr -n security.selinux -v lbl "$M/plain"
sleep 1.2       # the other mount's attribute timeout (1 s)
fx_check "a label set on one mount is seen by the other" \
  test "$(getfattr --only-values -n security.selinux "$T/m2/plain")" = lbl
setfattr -x security.selinux "$M/plain"
sleep 1.2
fx_expect_fail "and its removal" getfattr -n security.selinux "$T/m2/plain"

# ---- errno cases, through the syscalls ----
python3 - "$M" <<'PY' || fx_fail "xattr errno cases"
import ctypes, errno, os, sys
M = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
XATTR_CREATE, XATTR_REPLACE = 1, 2
def call(fn, *args):
    r = fn(*args)
    return ctypes.get_errno() if r < 0 else ("OK", r)
def setx(path, name, value, flags=0):
    return call(libc.setxattr, path.encode(), name.encode(), value, len(value), flags)
def getx(path, name, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    return call(libc.getxattr, path.encode(), name.encode(), buf if size else None, size)
def check(what, got, want):
    if got != want:
        sys.exit("%s: got %r, want %r" % (what, got, want))
f = M + "/f"
check("XATTR_REPLACE of a missing name", setx(f, "user.k", b"1", XATTR_REPLACE), errno.ENODATA)
check("XATTR_CREATE", setx(f, "user.k", b"1", XATTR_CREATE), ("OK", 0))
check("XATTR_CREATE of an existing name", setx(f, "user.k", b"2", XATTR_CREATE), errno.EEXIST)
check("XATTR_REPLACE", setx(f, "user.k", b"22", XATTR_REPLACE), ("OK", 0))
check("size probe", getx(f, "user.k", 0), ("OK", 2))
check("short buffer", getx(f, "user.k", 1), errno.ERANGE)
check("exact buffer", getx(f, "user.k", 2), ("OK", 2))
check("missing name", getx(f, "user.none", 10), errno.ENODATA)
check("255-byte name", setx(f, "user." + "n" * 250, b"v"), ("OK", 0))
check("256-byte name", setx(f, "user." + "n" * 251, b"v"), errno.ERANGE)
big = b"x" * 65536
check("64 KiB value", setx(f, "user.big", big), ("OK", 0))
check("64 KiB value read", getx(f, "user.big", 65536), ("OK", 65536))
check("64 KiB + 1", setx(f, "user.big2", big + b"x"), errno.E2BIG)
check("empty value", setx(f, "user.empty", b""), ("OK", 0))
check("empty value read", getx(f, "user.empty", 0), ("OK", 0))
n = libc.listxattr(f.encode(), None, 0)
if n <= 0:
    sys.exit("listxattr size probe: %d" % n)
buf = ctypes.create_string_buffer(n)
check("listxattr short buffer", call(libc.listxattr, f.encode(), buf, 3), errno.ERANGE)
check("listxattr", call(libc.listxattr, f.encode(), buf, n), ("OK", n))
names = buf.raw[:n].split(b"\0")[:-1]
for want in (b"user.k", b"user.big", b"user.empty", b"user.note", b"trusted.secret"):
    if want not in names:
        sys.exit("listxattr misses %r: %r" % (want, names))
check("remove missing", call(libc.removexattr, f.encode(), b"user.none"), errno.ENODATA)
check("unknown namespace", setx(f, "nonamespace", b"v"), errno.EOPNOTSUPP)
PY

# ---- permissions for another user ----
setfattr -n user.k -v v "$M/f"
chmod 600 "$M/f"
fx_expect_fail "no read access: no user.* read" as_user getfattr -n user.k "$M/f"
chmod 644 "$M/f"
fx_check "read access: user.* read" as_user getfattr -n user.k "$M/f"
fx_expect_fail "no write access: no user.* write" \
  as_user setfattr -n user.k -v w "$M/f"
chmod 646 "$M/f"
fx_check "write access: user.* write" as_user setfattr -n user.k -v w "$M/f"
mkdir "$M/sticky"
chmod 1777 "$M/sticky"
fx_expect_fail "sticky dir: only the owner sets user.*" \
  as_user setfattr -n user.k -v w "$M/sticky"
before=$(stat -c %.9Z "$M/f")
sleep 1.1
setfattr -n user.k -v again "$M/f"
fx_check "setfattr moves ctime" \
  test "$(echo "$(stat -c %.9Z "$T/m2/f") > $before" | bc)" = 1
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
