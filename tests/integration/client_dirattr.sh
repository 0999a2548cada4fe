#!/bin/bash
# client_dirattr.sh - a directory's attributes after this client changes
# its entries.  The calls that add, remove or move names answer with the
# directory's new attributes, and the client serves the kernel's next
# GETATTR of the directory from them (the kernel asks before every create
# or unlink there): what stat shows must be exactly what a mount with
# attr_timeout=0 (always asking the gateway) shows, and creating or
# removing many files must not cost a GETATTR call each.
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse

fx_start_gateway gw --metrics 127.0.0.1:0
fx_wait_for 5 grep -q "metrics: serving /metrics on" "$T/gw.log" ||
  fx_fail "the metrics listener did not start"
MPORT=$(sed -n 's/.*metrics: serving \/metrics on .* (port \([0-9]*\)).*/\1/p' "$T/gw.log" | tail -1)
getattrs() {
  curl -sf "http://127.0.0.1:$MPORT/metrics" |
    sed -n 's/^flexfs_rpc_calls_total{program="flexfs",op="GETATTR"} \([0-9]*\)$/\1/p'
}

M=$T/mnt
fx_mount gw "$M"
TRUTH=$T/truth
fx_mount gw "$TRUTH" attr_timeout=0,entry_timeout=0

# same DIR: stat of DIR through both mounts agrees (links, times to the
# nanosecond, size, mode).
same() {
  local here there
  here=$(stat -c '%h %s %f %y %z' "$M/$1")
  there=$(stat -c '%h %s %f %y %z' "$TRUTH/$1")
  [ "$here" = "$there" ] || fx_fail "$1 after $2: '$here' here, '$there' at the gateway"
}

mkdir "$M/d" "$M/e"
stat "$M/d" "$M/e" >/dev/null
same d mkdir
touch "$M/d/f"; same d create
mkdir "$M/d/sub"; same d "mkdir in it"
fx_check "mkdir counted in nlink" test "$(stat -c %h "$M/d")" = 3
mknod "$M/d/fifo" p; same d mknod
ln -s f "$M/d/sym"; same d symlink
ln "$M/d/f" "$M/d/hard"; same d link
rm "$M/d/hard"; same d unlink
rmdir "$M/d/sub"; same d rmdir
fx_check "rmdir counted in nlink" test "$(stat -c %h "$M/d")" = 2
mv "$M/d/f" "$M/d/g"; same d "rename in it"
mkdir "$M/d/moving"
mv "$M/d/moving" "$M/e/"; same d "rename out"; same e "rename in"
fx_check "the move carried the link" test "$(stat -c %h "$M/e")" = 3

# A change made through the other mount shows here within attr_timeout (1
# s), as it did before: what this client kept is no older than that.
touch "$TRUTH/e/other"
sleep 1.2
same e "a change by another client"

# Many creates and removes in one directory: the kernel asks for the
# directory's attributes before each, and gets them without a call.
mkdir "$M/many"
before=$(getattrs)
for i in $(seq 1 200); do : >"$M/many/f$i"; done
mid=$(getattrs)
rm -rf "$M/many"
after=$(getattrs)
fx_log "GETATTR calls: $((mid - before)) for 200 creates, $((after - mid)) for rm -rf of 200"
fx_check "creates asked for the directory at most 20 times" test $((mid - before)) -le 20
fx_check "rm -rf asked for the directory at most 20 times" test $((after - mid)) -le 20
fx_check "the directory is gone" test ! -e "$TRUTH/many"
fx_pass
