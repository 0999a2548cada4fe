/* perm.h - access decisions of the metadata core: the one place that says
 * whether a caller (AUTH_SYS credentials) may do something to an inode.
 *
 * Every function here is pure: it looks at the credentials and at the
 * owner, group and mode of the inodes involved and returns 0 or a negative
 * errno (or a computed mode).  It never touches Berkeley DB.  POSIX ACLs
 * plug in through perm_node.acl: when an inode has an access ACL, the
 * access check of anyone but the owner consults it (perm_acl.h) instead
 * of the group class of the mode bits.  A parent's default ACL replaces
 * the umask of perm_new_inode (the caller passes umask 0 and applies
 * acl_create_masq). */
#ifndef FLEXFS_PERM_H
#define FLEXFS_PERM_H

#include <stddef.h>
#include <stdint.h>

#include "meta.h"

#define PERM_READ   4
#define PERM_WRITE  2
#define PERM_EXEC   1

/* Reads an extended attribute of an inode (the caller's transaction is in
 * arg).  Returns the value's length, -ENODATA when absent, or -ERANGE when
 * buf is too small. */
typedef int (*perm_xattr_fn)(void *arg, uint64_t ino, const char *name,
                             void *buf, size_t len);

/* What an access decision looks at. */
struct perm_node {
    uint64_t ino;
    uint32_t mode, uid, gid;
    perm_xattr_fn acl;                  /* NULL: mode bits only */
    void *acl_arg;
};

int perm_is_root(const struct meta_cred *cr);
int perm_in_group(const struct meta_cred *cr, uint32_t gid);

/* May cr have the PERM_* bits in want on n?  0 or -EACCES. */
int perm_access(const struct meta_cred *cr, const struct perm_node *n,
                int want);

/* Removing or renaming away the entry of victim in dir: write and search
 * on dir (-EACCES) and the sticky-bit rule (-EPERM). */
int perm_may_delete(const struct meta_cred *cr, const struct perm_node *dir,
                    const struct perm_node *victim);

/* Mode, uid and gid of a new inode made by cr in parent.  mode holds the
 * type and the requested permission bits; umask applies here. */
void perm_new_inode(const struct meta_cred *cr, const struct perm_node *parent,
                    uint32_t mode, uint32_t umask, uint32_t *out_mode,
                    uint32_t *out_uid, uint32_t *out_gid);

/* chmod: -EPERM unless owner or root (or a writer only clearing setuid
 * and setgid, as a write does); *mode gets the bits to store (the type
 * kept, S_ISGID dropped for a non-root caller outside the group). */
int perm_chmod(const struct meta_cred *cr, const struct perm_node *n,
               uint32_t *mode);
/* chown/chgrp: -EPERM unless allowed.  set_uid/set_gid say which change. */
int perm_chown(const struct meta_cred *cr, const struct perm_node *n,
               int set_uid, uint32_t uid, int set_gid, uint32_t gid);
/* The mode after a chown of a non-directory (as Linux: setuid always goes,
 * setgid when group-executable). */
uint32_t perm_chown_kill(uint32_t mode);
/* Setting times: explicit != 0 when a time is given by the caller (owner
 * or root only: -EPERM); "now" only needs write permission (-EACCES). */
int perm_utimes(const struct meta_cred *cr, const struct perm_node *n,
                int explicit_time);
/* The mode after a write or truncation by cr: setuid and (if group-
 * executable) setgid cleared for a non-root caller. */
uint32_t perm_write_kill(const struct meta_cred *cr, uint32_t mode);

#endif
