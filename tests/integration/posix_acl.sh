#!/bin/bash
# posix_acl.sh - POSIX ACLs through FUSE mounts with getfacl/setfacl: round
# trips (-m, -x, -b), the mask (chmod narrows it and getfacl shows it),
# the effect on other uids' access on both mounts, default ACLs (-d) and
# their inheritance by new files and directories with the create mode
# masked and no umask, -R, and the errors (default ACL on a file, not the
# owner, a malformed ACL).
. "$FLEXFS_SRCDIR/tests/lib/common.sh"
fx_require_root
fx_require_fuse
command -v setfacl >/dev/null || fx_skip "needs setfacl/getfacl (acl)"

fx_start_gateway gw
M=$T/m1
M2=$T/m2
fx_mount gw "$M" allow_other
fx_mount gw "$M2" allow_other
chmod 755 "$T"

as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }
can_read() { as "$1" cat "$2" >/dev/null 2>&1; }
can_write() { as "$1" sh -c "echo x >>'$2'" 2>/dev/null; }
# The access (acl_of) or default (dacl_of) ACL without comments, one
# entry per word.
acl_of() { getfacl -acpE "$1" 2>/dev/null | grep -v '^$' | tr '\n' ' '; }
dacl_of() { getfacl -dcpE "$1" 2>/dev/null | grep -v '^$' | tr '\n' ' '; }

U1=4321 U2=4322 G1=4400

# ---- access ACLs ----
echo secret >"$M/f"
chmod 600 "$M/f"
fx_expect_fail "no access before the ACL" can_read $U1 "$M/f"
setfacl -m u:$U1:rw "$M/f" || fx_fail "setfacl -m"
fx_check "getfacl round trip ($(acl_of "$M/f"))" \
  test "$(acl_of "$M/f")" = "user::rw- user:$U1:rw- group::--- mask::rw- other::--- "
fx_check "the other mount sees the ACL" \
  test "$(acl_of "$M2/f")" = "$(acl_of "$M/f")"
fx_check "ls shows the + and the mask as group bits" \
  test "$(stat -c %A "$M/f")" = "-rw-rw----"
ls -l "$M/f" | grep -q '^-rw-rw----+' || fx_fail "ls -l lacks the +"
fx_check "named user reads (mount 1)" can_read $U1 "$M/f"
fx_check "named user reads (mount 2)" can_read $U1 "$M2/f"
fx_check "named user writes" can_write $U1 "$M2/f"
fx_expect_fail "another user cannot read" can_read $U2 "$M/f"

# chmod narrows the mask; getfacl shows it and the effective rights.
chmod 640 "$M/f"
fx_check "chmod updates the mask ($(acl_of "$M/f"))" \
  test "$(acl_of "$M/f")" = "user::rw- user:$U1:rw- group::--- mask::r-- other::--- "
getfacl -p "$M2/f" 2>/dev/null | grep -q "user:$U1:rw-.*#effective:r--" ||
  fx_fail "getfacl does not show the effective rights"
sleep 1.1                               # the kernel's attribute cache
fx_check "masked: reads" can_read $U1 "$M2/f"
fx_expect_fail "masked: no write" can_write $U1 "$M2/f"
setfacl -m m::rw "$M/f"
fx_check "setfacl -m m:: sets the group bits" \
  test "$(stat -c %a "$M/f")" = 660

# Named groups.
setfacl -m g:$G1:r "$M/f"
as_g() { setpriv --reuid=4500 --regid=4500 --groups=$G1 "$@"; }
fx_check "named group reads" as_g cat "$M2/f"
fx_expect_fail "named group cannot write" as_g sh -c "echo x >>'$M2/f'"

# -x, -b
setfacl -x u:$U1 "$M/f"
fx_check "setfacl -x ($(acl_of "$M/f"))" \
  test "$(acl_of "$M/f")" = "user::rw- group::--- group:$G1:r-- mask::r-- other::--- "
sleep 1.1
fx_expect_fail "removed entry: no access" can_read $U1 "$M2/f"
setfacl -b "$M/f"
fx_check "setfacl -b leaves the mode ($(acl_of "$M/f"))" \
  test "$(acl_of "$M/f")" = "user::rw- group::--- other::--- "
fx_expect_fail "no ACL xattr left" getfattr -n system.posix_acl_access "$M/f"
# An ACL that only says what the mode says is not stored as an ACL.
setfacl -m u::rwx,g::r-x,o::r-- "$M/f"
fx_check "minimal ACL is a mode" test "$(stat -c %a "$M/f")" = 754
fx_expect_fail "minimal ACL not stored" getfattr -n system.posix_acl_access "$M/f"

# ---- default ACLs and inheritance ----
mkdir "$M/d"
chmod 755 "$M/d"
setfacl -d -m u:$U1:rwx "$M/d" || fx_fail "setfacl -d"
fx_check "default ACL round trip ($(dacl_of "$M/d"))" \
  test "$(dacl_of "$M/d")" = "user::rwx user:$U1:rwx group::r-x mask::rwx other::r-x "
(umask 077; touch "$M/d/file"; mkdir "$M/d/sub")
fx_check "new file: create mode masked, no umask ($(stat -c %a "$M/d/file"))" \
  test "$(stat -c %a "$M/d/file")" = 664
fx_check "new file inherits ($(acl_of "$M/d/file"))" \
  test "$(acl_of "$M/d/file")" = "user::rw- user:$U1:rwx group::r-x mask::rw- other::r-- "
fx_check "new dir: mode ($(stat -c %a "$M/d/sub"))" \
  test "$(stat -c %a "$M/d/sub")" = 775
fx_check "new dir inherits the default ACL" \
  test "$(dacl_of "$M/d/sub")" = "$(dacl_of "$M/d")"
fx_check "new dir's access ACL" \
  test "$(acl_of "$M/d/sub")" = "user::rwx user:$U1:rwx group::r-x mask::rwx other::r-x "
fx_check "inherited entry lets the user write (mount 2)" \
  can_write $U1 "$M2/d/file"
(umask 022; touch "$M/d/sub/deep")
fx_check "grandchild inherits too" \
  test "$(acl_of "$M/d/sub/deep")" = "user::rw- user:$U1:rwx group::r-x mask::rw- other::r-- "
# -R over a tree.
setfacl -R -m u:$U2:rX "$M/d"
for p in "$M/d" "$M/d/file" "$M/d/sub" "$M/d/sub/deep"; do
  getfacl -p "$p" 2>/dev/null | grep -q "^user:$U2:r" || fx_fail "setfacl -R missed $p"
done
fx_check "-R grants read" can_read $U2 "$M2/d/sub/deep"
setfacl -k "$M/d"
fx_expect_fail "setfacl -k removes the default ACL" \
  getfattr -n system.posix_acl_default "$M/d"
(umask 077; touch "$M/d/after")
fx_check "without a default ACL the umask applies" \
  test "$(stat -c %a "$M/d/after")" = 600

# ---- errors ----
fx_expect_fail "no default ACL on a file" setfacl -d -m u:$U1:r "$M/f"
fx_expect_fail "only the owner sets an ACL" as $U1 setfacl -m u:$U1:r "$M/d/file"
fx_expect_fail "a malformed ACL is refused" \
  setfattr -n system.posix_acl_access -v 0x02000000010006 "$M/f"
# An ACL entry for a user is enforced on directories too (search).
mkdir "$M/private"
chmod 700 "$M/private"
echo hi >"$M/private/x"
fx_expect_fail "no search without the ACL" can_read $U1 "$M/private/x"
setfacl -m u:$U1:x "$M/private"
fx_check "search granted by the ACL" can_read $U1 "$M2/private/x"
kill -0 "$GW_PID" || fx_fail "gateway died"
fx_pass
