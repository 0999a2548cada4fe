#!/bin/bash
# client_multi.sh - two FUSE mounts of one gateway: close-to-open (a file
# written and closed in one is read whole in the other, also after the
# other had the old content cached), renames and unlinks seen within the
# attribute timeout, and two mounts writing disjoint 4 KiB records into
# the same blocks of one file at once without losing any; O_APPEND from
# both in turn; mmap of what the other appended; fallocate, and punching
# holes, on one against a writer on the other.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse
HELPERS=$FLEXFS_BUILDDIR/tests/integration

fx_start_gateway gw
A=$T/a
B=$T/b
fx_mount gw "$A"
fx_mount gw "$B"

# ---- close-to-open ----
head -c 20000000 /dev/urandom >"$T/f1"
cp "$T/f1" "$A/f"
fx_check "written in A, read whole in B" cmp "$T/f1" "$B/f"
# B now has the file cached; A overwrites part of it in place (same size)
# and then makes it longer.
head -c 3000000 /dev/urandom >"$T/patch"
dd if="$T/patch" of="$A/f" bs=1M seek=5 conv=notrunc status=none
dd if="$T/patch" of="$T/f1" bs=1M seek=5 conv=notrunc status=none
fx_check "in-place change in A seen by B on open" cmp "$T/f1" "$B/f"
head -c 1234567 /dev/urandom >>"$T/f1"
tail -c 1234567 "$T/f1" >>"$A/f"
fx_check "append in A seen by B on open" cmp "$T/f1" "$B/f"
# and the other way round, with a shorter file
head -c 777 /dev/urandom >"$T/f2"
cp "$T/f2" "$B/f"
fx_check "truncating rewrite in B seen by A" cmp "$T/f2" "$A/f"

# ---- names: renames and unlinks seen within the attribute timeout ----
mkdir "$A/dir"
echo x >"$A/dir/old"
fx_check "B sees the new file" test "$(cat "$B/dir/old")" = x
mv "$A/dir/old" "$A/dir/new"
sleep 1.5
fx_check "B no longer sees the old name" test ! -e "$B/dir/old"
fx_check "B sees the new name" test "$(cat "$B/dir/new")" = x
fx_check "B lists the directory" test "$(ls "$B/dir")" = new
rm "$A/dir/new"
sleep 1.5
fx_check "B sees the unlink" test ! -e "$B/dir/new"
fx_check "B lists the empty directory" test -z "$(ls "$B/dir")"
mkdir "$B/dir/sub"
sleep 1.5
fx_check "A sees B's mkdir" test -d "$A/dir/sub"
rmdir "$A/dir/sub"
sleep 1.5
fx_check "B sees A's rmdir" test ! -e "$B/dir/sub"

# ---- the same name created from both mounts at once: one file ----
for i in 1 2 3; do
  python3 - "$A/race$i" "$B/race$i" <<'EOF' || fx_fail "concurrent O_CREAT $i"
import os, sys, threading
fds = [None, None]
def create(i):
    fds[i] = os.open(sys.argv[1 + i], os.O_WRONLY | os.O_CREAT, 0o644)
ts = [threading.Thread(target=create, args=(i,)) for i in (0, 1)]
[t.start() for t in ts]
[t.join() for t in ts]
assert os.fstat(fds[0]).st_ino == os.fstat(fds[1]).st_ino
EOF
done
fx_check "each raced name listed once" test "$(ls "$A" | grep -c '^race')" = 3

# ---- concurrent writers, disjoint records in the same blocks ----
run_pair() {        # run_pair FILE NREC MODE
  local f=$1 n=$2 mode=$3
  # The file exists before the writers start: what is tested here is
  # their data, not two concurrent O_CREATs of one name.
  touch "$A/$f"
  "$HELPERS/client_records" write "$A/$f" 0 2 "$n" 4096 "$mode" &
  local p0=$!
  "$HELPERS/client_records" write "$B/$f" 1 2 "$n" 4096 "$mode" &
  local p1=$!
  fx_track_pid $p0
  fx_track_pid $p1
  wait $p0 || fx_fail "writer 0 ($mode) failed"
  wait $p1 || fx_fail "writer 1 ($mode) failed"
  fx_check "every record ($mode) seen from A" \
    "$HELPERS/client_records" verify "$A/$f" 2 "$n" 4096
  fx_check "every record ($mode) seen from B" \
    "$HELPERS/client_records" verify "$B/$f" 2 "$n" 4096
}
run_pair shared-fsync 150 fsync
run_pair shared-direct 150 direct

# ---- O_APPEND from two mounts in turn (close-to-open) ----
# Each open sees the other's appends, though the kernel still has the size
# its own last append left (it does not ask again before appending).
python3 - "$A/appends" "$B/appends" <<'PY' || fx_fail "O_APPEND from two mounts in turn"
import os, sys, time
a, b = sys.argv[1:]
os.close(os.open(a, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644))
time.sleep(1.1)
want = b""
for i in range(12):
    path, rec = (a, b"A%09d" % i) if i % 2 == 0 else (b, b"B%09d" % i)
    mode = os.O_WRONLY if i < 6 else os.O_RDWR      # both ways of appending
    fd = os.open(path, mode | os.O_APPEND)
    os.write(fd, rec)
    os.close(fd)
    want += rec
got = open(a, "rb").read()
if got != want:
    sys.exit("got %r, want %r" % (got, want))
import mmap
fd = os.open(a, os.O_RDWR | os.O_APPEND)  # and such a descriptor maps
m = mmap.mmap(fd, len(want), mmap.MAP_SHARED, mmap.PROT_READ)
assert m[:len(want)] == want
m.close()
os.close(fd)
PY

# ---- mmap of what another mount appended (close-to-open) ----
# A maps the file right after opening it, with no stat: the kernel must
# already know the new size, or the page fault is SIGBUS.
python3 - "$A/grown" "$B/grown" <<'PY' || fx_fail "mmap of what another mount appended"
import ctypes, mmap, os, sys
a, b = sys.argv[1:]
fd = os.open(a, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
os.write(fd, b"a" * 4096)
os.close(fd)
os.stat(a)                              # A caches size 4096
fd = os.open(b, os.O_RDWR)
os.ftruncate(fd, 1 << 20)
os.pwrite(fd, b"b" * 4096, 600 * 1024)
os.close(fd)
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(a, os.O_RDONLY)            # no stat: straight to the mapping
p = libc.mmap(None, 1 << 20, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
assert p not in (None, ctypes.c_void_p(-1).value), "mmap failed"
got = ctypes.string_at(p + 600 * 1024, 4)   # SIGBUS if the size is stale
assert got == b"bbbb", got
PY

# ---- fallocate never shrinks what another mount just wrote ----
# B appends 64 KiB chunks with fsync; A keeps calling posix_fallocate to
# just past what B has done.  A stale size read before the fallocate
# once cut B's latest chunk in half.
python3 - "$A/falloc" "$B/falloc" <<'PY' || fx_fail "fallocate against a writer on another mount"
import os, sys, threading, time
a_path, b_path = sys.argv[1:]
CH, N = 65536, 150
os.close(os.open(a_path, os.O_CREAT | os.O_RDWR, 0o644))
time.sleep(1.1)
done, stop = [0], [False]
def writer():
    fd = os.open(b_path, os.O_RDWR)
    for i in range(N):
        os.pwrite(fd, bytes([65 + i % 26]) * CH, i * CH)
        os.fsync(fd)
        done[0] = i + 1
    os.close(fd)
    stop[0] = True
def allocator():
    fd = os.open(a_path, os.O_RDWR)
    while not stop[0]:
        os.posix_fallocate(fd, 0, done[0] * CH + CH // 2)
    os.close(fd)
t = [threading.Thread(target=f) for f in (writer, allocator)]
for x in t: x.start()
for x in t: x.join()
time.sleep(1.1)
d = open(b_path, "rb").read()
bad = [i for i in range(N) if d[i * CH:(i + 1) * CH] != bytes([65 + i % 26]) * CH]
if bad or not N * CH <= len(d) <= N * CH + CH // 2:
    sys.exit("size %d, chunks cut: %s" % (len(d), bad[:10]))
PY

# ---- a hole punched beside another mount's writes in the same block ----
# B writes 4 KiB records from 1 MiB on, each with fsync; meanwhile A keeps
# punching [0, 1 MiB) of the same 4 MiB block.  Each merges onto what the
# other committed, so no record is lost and the punched range reads zeros.
python3 - "$A/punch" "$B/punch" <<'PY' || fx_fail "punch against a writer on another mount"
import ctypes, os, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
a_path, b_path = sys.argv[1:]
M, REC, N = 1 << 20, 4096, 150
with open(a_path, "wb") as f:
    f.write(b"x" * (8 * M))
time.sleep(1.1)
stop, punches = [False], [0]
def writer():
    fd = os.open(b_path, os.O_RDWR)
    for i in range(N):
        os.pwrite(fd, bytes([65 + i % 26]) * REC, M + i * REC)
        os.fsync(fd)
    os.close(fd)
    stop[0] = True
def puncher():
    fd = os.open(a_path, os.O_RDWR)
    while not stop[0]:
        if libc.fallocate(fd, 3, ctypes.c_long(0), ctypes.c_long(M)) != 0:
            sys.exit("punch: %s" % os.strerror(ctypes.get_errno()))
        punches[0] += 1
    os.close(fd)
t = [threading.Thread(target=f) for f in (writer, puncher)]
for x in t: x.start()
for x in t: x.join()
time.sleep(1.1)
want = bytearray(b"x" * (8 * M))
want[:M] = bytes(M)
for i in range(N):
    want[M + i * REC:M + (i + 1) * REC] = bytes([65 + i % 26]) * REC
for p in (a_path, b_path):
    d = open(p, "rb").read()
    if d != want:
        bad = [i for i in range(0, len(want), REC) if d[i:i + REC] != want[i:i + REC]]
        sys.exit("%s after %d punches: %d bytes, 4 KiB pieces wrong at %s"
                 % (p, punches[0], len(d), bad[:10]))
PY

fx_check "unmount A" fx_umount "$A"
fx_check "unmount B" fx_umount "$B"
fx_pass
