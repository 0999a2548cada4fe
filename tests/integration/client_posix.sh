#!/bin/bash
# client_posix.sh - file and directory operations through a FUSE mount of
# a real gateway with POSIX tools (cp, mv, ln, ln -s, mkfifo, mknod, chmod,
# touch -d, stat, find, tar, rm -r), and their error cases; a removed
# directory still open or someone's working directory.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse

fx_start_gateway gw
M=$T/mnt
# allow_other lets other uids in, so the gateway's own checks are tested.
fx_mount gw "$M" allow_other

# expect_errno NAME PYTHON-STATEMENT: the statement must fail with errno NAME
# (or succeed, for NAME "OK").
expect_errno() {
  local want=$1 stmt=$2 got
  got=$(M="$M" python3 -c "
import errno, os, socket, sys
M = os.environ['M']
try:
    $stmt
    print('OK')
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
" 2>&1)
  [ "$got" = "$want" ] || fx_fail "expected $want from: $stmt; got: $got"
}

# ---- files: create, copy, move, links ----
echo hello >"$M/a"
fx_check "read back a small file" test "$(cat "$M/a")" = hello
cp /bin/ls "$M/ls"
fx_check "cp round trip" cmp /bin/ls "$M/ls"
mv "$M/ls" "$M/ls2"
fx_check "mv removes the old name" test ! -e "$M/ls"
fx_check "mv keeps the content" cmp /bin/ls "$M/ls2"
ln "$M/ls2" "$M/ls.hard"
fx_check "hard link count" test "$(stat -c %h "$M/ls2")" = 2
fx_check "hard link shares the inode" \
  test "$(stat -c %i "$M/ls2")" = "$(stat -c %i "$M/ls.hard")"
fx_check "hard link content" cmp /bin/ls "$M/ls.hard"
rm "$M/ls.hard"
fx_check "link count after unlink" test "$(stat -c %h "$M/ls2")" = 1
ln -s ls2 "$M/ls.sym"
fx_check "readlink" test "$(readlink "$M/ls.sym")" = ls2
fx_check "symlink type" test -L "$M/ls.sym"
fx_check "read through a symlink" cmp /bin/ls "$M/ls.sym"
ln -s "/a/target/that/does/not/exist/$(printf 'x%.0s' $(seq 1 200))" "$M/long.sym"
fx_check "long symlink target" \
  test "$(readlink "$M/long.sym" | wc -c)" -gt 200

# ---- special files ----
mkfifo "$M/fifo"
fx_check "mkfifo" test -p "$M/fifo"
mknod "$M/null2" c 1 3
fx_check "char device" test -c "$M/null2"
fx_check "char device numbers" test "$(stat -c %t:%T "$M/null2")" = 1:3
mknod "$M/loop9" b 7 9
fx_check "block device" test -b "$M/loop9"
fx_check "block device numbers" test "$(stat -c %t:%T "$M/loop9")" = 7:9
expect_errno OK "s = socket.socket(socket.AF_UNIX); s.bind(M + '/sock')"
fx_check "socket" test -S "$M/sock"
# A fifo on the mount still works as a fifo (the kernel runs it).
(echo through-fifo >"$M/fifo") &
fifo_writer=$!
fx_track_pid $fifo_writer
fx_check "fifo carries data" test "$(timeout 10 cat "$M/fifo")" = through-fifo
wait $fifo_writer

# ---- attributes ----
chmod 640 "$M/a"
fx_check "chmod" test "$(stat -c %a "$M/a")" = 640
chmod u+s,g+s,o+t "$M/a"
fx_check "chmod special bits" test "$(stat -c %a "$M/a")" = 7640
chmod 644 "$M/a"
chown 1234:5678 "$M/a"
fx_check "chown" test "$(stat -c %u:%g "$M/a")" = 1234:5678
touch -d '2001-02-03 04:05:06.123456789 UTC' "$M/a"
fx_check "touch -d mtime" test "$(stat -c %Y "$M/a")" = 981173106
fx_check "touch -d nanoseconds" \
  test "$(stat -c %y "$M/a" | cut -d. -f2 | cut -c1-9)" = 123456789
touch -a -d '2002-01-01 00:00:00 UTC' "$M/a"
fx_check "touch -a atime" test "$(stat -c %X "$M/a")" = 1009843200
fx_check "stat type file" test "$(stat -c %F "$M/a")" = "regular file"
fx_check "stat size" test "$(stat -c %s "$M/a")" = 6
fx_check "stat type dir" test "$(stat -c %F "$M")" = directory
fx_check "stat type symlink" test "$(stat -c %F "$M/ls.sym")" = "symbolic link"
before=$(stat -c %Z "$M/a")
sleep 1.1
chmod 600 "$M/a"
fx_check "ctime moves on chmod" test "$(stat -c %Z "$M/a")" -gt "$before"
fx_check "statfs" df "$M" >/dev/null

# ---- trees: find, tar round trip, rm -r ----
mkdir -p "$M/d1/d2/d3" "$M/d1/empty"
touch "$M/d1/f1" "$M/d1/d2/f2" "$M/d1/d2/d3/f3"
got=$(cd "$M" && find d1 | sort | tr '\n' ' ')
want="d1 d1/d2 d1/d2/d3 d1/d2/d3/f3 d1/d2/f2 d1/empty d1/f1 "
fx_check "find lists the tree ($got)" test "$got" = "$want"
fx_check "find -type d" test "$(find "$M/d1" -type d | wc -l)" = 4

SRC=$T/src
mkdir -p "$SRC/sub/deeper" "$SRC/emptydir"
head -c 3000000 /dev/urandom >"$SRC/big.bin"
head -c 4097 /dev/urandom >"$SRC/sub/odd.bin"
: >"$SRC/empty.txt"
echo text >"$SRC/sub/deeper/t.txt"
ln "$SRC/sub/odd.bin" "$SRC/hardlink.bin"
ln -s sub/deeper/t.txt "$SRC/rel.sym"
chmod 751 "$SRC/sub"
chmod 600 "$SRC/sub/odd.bin"
for i in $(seq 1 50); do echo "file $i" >"$SRC/sub/n$i"; done
touch -d '2010-10-10 10:10:10 UTC' "$SRC/sub/n7"
mkdir "$M/tree"
tar -C "$SRC" -cf - . | tar -C "$M/tree" -xpf - || fx_fail "tar x into the mount"
BACK=$T/back
mkdir "$BACK"
tar -C "$M/tree" -cf - . | tar -C "$BACK" -xpf - || fx_fail "tar c out of the mount"
# (directory sizes are file-system specific: left out)
listing() {
  (cd "$1" && find . \( -type d -printf '%p d %m %n\n' \) -o \
     -printf '%p %y %m %s %n %l\n' | sort)
}
sums() { (cd "$1" && find . -type f -exec sha256sum {} + | sort -k2); }
fx_check "tar round trip: names, types, modes, sizes, links" \
  test "$(listing "$SRC")" = "$(listing "$BACK")"
fx_check "tar round trip: contents" test "$(sums "$SRC")" = "$(sums "$BACK")"
fx_check "mount listing matches" \
  test "$(listing "$SRC")" = "$(listing "$M/tree")"
fx_check "tar keeps mtime" \
  test "$(stat -c %Y "$M/tree/sub/n7")" = "$(stat -c %Y "$SRC/sub/n7")"
rm -r "$M/tree"
fx_check "rm -r" test ! -e "$M/tree"

# A directory bigger than one readdir batch, listed whole.
mkdir "$M/many"
(cd "$M/many" && seq -f 'entry-with-a-longish-name-%05g' 1 3000 | xargs touch)
fx_check "ls of 3000 entries" test "$(ls "$M/many" | wc -l)" = 3000
fx_check "ls -l of 3000 entries" test "$(ls -l "$M/many" | grep -c '^-')" = 3000
fx_check "listing is complete and unique" \
  test "$(ls -f "$M/many" | sort -u | wc -l)" = 3002
rm -r "$M/many"

# ---- renames ----
echo one >"$M/r1"; echo two >"$M/r2"
mv "$M/r1" "$M/r2"
fx_check "rename over a file" test "$(cat "$M/r2")" = one
mkdir "$M/rd1" "$M/rd2"
touch "$M/rd1/x"
mv "$M/rd1" "$M/rd2/"
fx_check "rename a dir into another" test -e "$M/rd2/rd1/x"
expect_errno OK "os.rename(M + '/rd2/rd1', M + '/rd1')"
expect_errno EEXIST \
  "import ctypes; libc = ctypes.CDLL(None, use_errno=True)
    r = libc.renameat2(-100, (M + '/r2').encode(), -100, (M + '/a').encode(), 1)
    if r: raise OSError(ctypes.get_errno(), 'renameat2')"
echo swap1 >"$M/s1"; echo swap2 >"$M/s2"
expect_errno OK \
  "import ctypes; libc = ctypes.CDLL(None, use_errno=True)
    r = libc.renameat2(-100, (M + '/s1').encode(), -100, (M + '/s2').encode(), 2)
    if r: raise OSError(ctypes.get_errno(), 'renameat2')"
fx_check "RENAME_EXCHANGE swaps" \
  test "$(cat "$M/s1")$(cat "$M/s2")" = swap2swap1

# ---- error cases ----
mkdir "$M/e"
touch "$M/e/f"
expect_errno ENOTEMPTY "os.rmdir(M + '/e')"
expect_errno EEXIST "os.mkdir(M + '/e')"
expect_errno EEXIST "os.link(M + '/a', M + '/e/f')"
expect_errno EEXIST "os.symlink('x', M + '/a')"
expect_errno EEXIST "os.open(M + '/a', os.O_CREAT | os.O_EXCL | os.O_WRONLY)"
expect_errno EISDIR "os.unlink(M + '/e')"
expect_errno ENOTDIR "os.rmdir(M + '/a')"
expect_errno ENOTDIR "os.open(M + '/a/x', os.O_RDONLY)"
expect_errno ENOENT "os.stat(M + '/nonexistent')"
expect_errno ENOENT "os.unlink(M + '/nonexistent')"
expect_errno ENOENT "os.rename(M + '/nonexistent', M + '/x')"
expect_errno EINVAL "os.rename(M + '/e', M + '/e/sub')"
expect_errno EISDIR "os.open(M + '/e', os.O_WRONLY)"
expect_errno ENAMETOOLONG "open(M + '/' + 'n' * 256, 'w')"
expect_errno ENAMETOOLONG "os.mkdir(M + '/' + 'n' * 256)"
expect_errno OK "open(M + '/' + 'n' * 255, 'w').close()"
fx_check "255-byte name listed" test "$(ls "$M" | grep -c '^nnnnn')" = 1
expect_errno ENOTEMPTY "os.rename(M + '/rd2', M + '/e')"
expect_errno ENOTDIR "os.rename(M + '/rd2', M + '/a')"
expect_errno EISDIR "os.rename(M + '/a', M + '/rd2')"
# An unprivileged user gets what the mode bits allow, and no more.
chmod 755 "$T"
chmod 644 "$M/a"
chown 0:0 "$M/a"
fx_check "non-owner can read a 644 file" \
  setpriv --reuid=4321 --regid=4321 --clear-groups cat "$M/a" >/dev/null
fx_check "non-owner cannot write a 644 file" \
  sh -c "! setpriv --reuid=4321 --regid=4321 --clear-groups sh -c 'echo x >>$M/a' 2>/dev/null"
chmod 600 "$M/a"
fx_check "non-owner cannot read a 600 file" \
  sh -c "! setpriv --reuid=4321 --regid=4321 --clear-groups cat '$M/a' 2>/dev/null"
fx_check "non-owner cannot create in a 755 dir" \
  sh -c "! setpriv --reuid=4321 --regid=4321 --clear-groups touch '$M/e/nope' 2>/dev/null"
rm -r "$M/e"
fx_check "rm -r of a non-empty dir" test ! -e "$M/e"

# ---- a removed directory still open, or a working directory ----
# POSIX: it stays usable as an empty directory with no links, and no
# entry can be made in it (ENOENT).  Removed here, and through another
# mount of the same volume.
removed_dir_checks() {
  local dir=$1 remover=$2
  python3 - "$dir" "$remover" <<'PY' || fx_fail "a removed directory (removed through $2)"
import os, sys, time
d, remover = sys.argv[1:]
os.mkdir(d)
fd = os.open(d, os.O_RDONLY)
os.chdir(d)
os.rmdir(remover)
time.sleep(1.2)                 # past the attribute cache of the mount
def fails(what, f, want):
    try:
        f()
    except OSError as e:
        if e.errno == want:
            return
        sys.exit("%s: %s, not %s" % (what, os.strerror(e.errno), os.strerror(want)))
    sys.exit("%s: succeeded" % what)
st = os.fstat(fd)
assert st.st_nlink == 0, "fstat of the removed directory: nlink %d" % st.st_nlink
assert os.stat(".").st_nlink == 0, "stat of the working directory"
assert os.listdir(".") == [], "the working directory lists %r" % os.listdir(".")
assert os.listdir(fd) == [], "the open directory lists entries"
fails("create in it", lambda: open("new", "w"), 2)
fails("mkdir in it", lambda: os.mkdir("sub"), 2)
fails("symlink in it", lambda: os.symlink("t", "l"), 2)
fails("stat of a name in it", lambda: os.stat("x"), 2)
os.close(fd)
os.chdir("/")
PY
}
removed_dir_checks "$M/gone" "$M/gone"
B=$T/mnt2
fx_mount gw "$B"
removed_dir_checks "$M/gone2" "$B/gone2"
fx_check "unmount the second mount" fx_umount "$B"

# ---- a read-only mount of the same volume ----
R=$T/ro
fx_mount gw "$R" ro
fx_check "read through a ro mount" cmp /bin/ls "$R/ls2"
expect_errno EROFS "open(M.replace('/mnt', '/ro') + '/new', 'w')"
expect_errno EROFS "open(M.replace('/mnt', '/ro') + '/ls2', 'r+')"
expect_errno EROFS "os.mkdir(M.replace('/mnt', '/ro') + '/dir')"
expect_errno EROFS "os.unlink(M.replace('/mnt', '/ro') + '/ls2')"
fx_check "unmount the ro mount" fx_umount "$R"

fx_check "clean unmount" fx_umount "$M"
fx_pass
