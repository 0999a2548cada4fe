/* perm.c - access decisions of the metadata core (see perm.h): mode bits
 * and POSIX access ACLs, the sticky bit, chmod/chown/utimes rules and
 * setuid/setgid clearing, as Linux applies them to local file systems. */
#include "config.h"
#include "perm.h"
#include "perm_acl.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Most ACLs fit here; a longer one is read into the heap. */
#define ACL_STACK_BYTES 512

int perm_is_root(const struct meta_cred *cr)
{
    return cr->uid == META_ROOT_UID;
}

int perm_in_group(const struct meta_cred *cr, uint32_t gid)
{
    if (cr->gid == gid)
        return 1;
    uint32_t n = cr->ngroups < META_NGROUPS ? cr->ngroups : META_NGROUPS;
    for (uint32_t i = 0; i < n; i++)
        if (cr->groups[i] == gid)
            return 1;
    return 0;
}

/* The rwx bits (as PERM_*) that the mode grants cr. */
static int mode_grants(const struct meta_cred *cr, const struct perm_node *n)
{
    if (cr->uid == n->uid)
        return (n->mode >> 6) & 7;
    if (perm_in_group(cr, n->gid))
        return (n->mode >> 3) & 7;
    return n->mode & 7;
}

/* The access ACL's verdict: 0, -EACCES, or -EAGAIN when the inode has
 * none (the mode decides).  As Linux's acl_permission_check(), only a
 * non-empty group class sends the check to the ACL. */
static int acl_check(const struct meta_cred *cr, const struct perm_node *n,
                     int want)
{
    if (!n->acl || cr->uid == n->uid || !(n->mode & S_IRWXG))
        return -EAGAIN;
    uint8_t small[ACL_STACK_BYTES];
    void *buf = small;
    int len = n->acl(n->acl_arg, n->ino, ACL_NAME_ACCESS, buf, sizeof(small));
    if (len == -ERANGE) {
        buf = malloc(65536);
        if (!buf)
            return -ENOMEM;
        len = n->acl(n->acl_arg, n->ino, ACL_NAME_ACCESS, buf, 65536);
    }
    int rc;
    if (len == -ENODATA)
        rc = -EAGAIN;
    else if (len < 0)
        rc = len;
    else
        rc = acl_permission(cr, n->uid, n->gid, n->mode, buf, (size_t)len,
                            want);
    if (buf != small)
        free(buf);
    return rc;
}

int perm_access(const struct meta_cred *cr, const struct perm_node *n,
                int want)
{
    want &= PERM_READ | PERM_WRITE | PERM_EXEC;
    if (perm_is_root(cr)) {
        /* Root may do anything but execute a file nobody may execute. */
        if ((want & PERM_EXEC) && !S_ISDIR(n->mode) &&
            !(n->mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
            return -EACCES;
        return 0;
    }
    int rc = acl_check(cr, n, want);
    if (rc != -EAGAIN)
        return rc;
    return (mode_grants(cr, n) & want) == want ? 0 : -EACCES;
}

int perm_may_delete(const struct meta_cred *cr, const struct perm_node *dir,
                    const struct perm_node *victim)
{
    int rc = perm_access(cr, dir, PERM_WRITE | PERM_EXEC);
    if (rc)
        return rc;
    if ((dir->mode & S_ISVTX) && !perm_is_root(cr) &&
        cr->uid != dir->uid && cr->uid != victim->uid)
        return -EPERM;
    return 0;
}

void perm_new_inode(const struct meta_cred *cr, const struct perm_node *parent,
                    uint32_t mode, uint32_t umask, uint32_t *out_mode,
                    uint32_t *out_uid, uint32_t *out_gid)
{
    uint32_t type = mode & S_IFMT;
    /* Where a default ACL exists it will replace the umask here. */
    uint32_t bits = mode & 07777 & ~(umask & 0777);
    uint32_t gid = cr->gid;

    if (parent->mode & S_ISGID) {
        gid = parent->gid;
        if (S_ISDIR(type))
            bits |= S_ISGID;
        else if ((bits & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
                 !perm_is_root(cr) && !perm_in_group(cr, gid))
            bits &= ~(uint32_t)S_ISGID;
    }
    *out_mode = type | bits;
    *out_uid = cr->uid;
    *out_gid = gid;
}

/* Linux clears setuid/setgid before a write or truncation as the writer
 * (notify_change with ATTR_FORCE), and a FUSE kernel that is not told the
 * file system does it (libfuse 3.14 never passes FUSE_HANDLE_KILLPRIV)
 * sends that as a chmod from the writer: a change that only drops those
 * bits is allowed to anyone who may write the file. */
static int only_kills_suid(const struct meta_cred *cr,
                           const struct perm_node *n, uint32_t bits)
{
    const uint32_t kill = S_ISUID | S_ISGID;
    uint32_t old = n->mode & 07777;
    if (bits == old || (bits & ~kill) != (old & ~kill) || (bits & ~old))
        return 0;
    return perm_access(cr, n, PERM_WRITE) == 0;
}

int perm_chmod(const struct meta_cred *cr, const struct perm_node *n,
               uint32_t *mode)
{
    uint32_t bits = *mode & 07777;
    if (!perm_is_root(cr) && cr->uid != n->uid) {
        if (!only_kills_suid(cr, n, bits))
            return -EPERM;
        *mode = (n->mode & S_IFMT) | bits;
        return 0;
    }
    if (!perm_is_root(cr) && !perm_in_group(cr, n->gid))
        bits &= ~(uint32_t)S_ISGID;
    *mode = (n->mode & S_IFMT) | bits;
    return 0;
}

int perm_chown(const struct meta_cred *cr, const struct perm_node *n,
               int set_uid, uint32_t uid, int set_gid, uint32_t gid)
{
    if (perm_is_root(cr))
        return 0;
    /* The owner may "change" the owner to itself, as chown(2) allows. */
    if (set_uid && (uid != n->uid || cr->uid != n->uid))
        return -EPERM;
    /* The owner may change the group to one of its own. */
    if (set_gid && (cr->uid != n->uid ||
                    (gid != n->gid && !perm_in_group(cr, gid))))
        return -EPERM;
    return 0;
}

uint32_t perm_chown_kill(uint32_t mode)
{
    if (S_ISDIR(mode))
        return mode;
    mode &= ~(uint32_t)S_ISUID;
    if (mode & S_IXGRP)
        mode &= ~(uint32_t)S_ISGID;
    return mode;
}

int perm_utimes(const struct meta_cred *cr, const struct perm_node *n,
                int explicit_time)
{
    if (perm_is_root(cr) || cr->uid == n->uid)
        return 0;
    if (explicit_time)
        return -EPERM;
    return perm_access(cr, n, PERM_WRITE);
}

uint32_t perm_write_kill(const struct meta_cred *cr, uint32_t mode)
{
    if (perm_is_root(cr) || !S_ISREG(mode))
        return mode;
    mode &= ~(uint32_t)S_ISUID;
    if (mode & S_IXGRP)
        mode &= ~(uint32_t)S_ISGID;
    return mode;
}
