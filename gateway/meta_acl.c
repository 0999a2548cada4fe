/* meta_acl.c - POSIX ACLs kept as the xattrs system.posix_acl_access and
 * system.posix_acl_default: reading them (the access ACL with the mode's
 * current bits), setting them (with the mode update of Linux's
 * posix_acl_update_mode), chmod keeping the access ACL in step, and
 * inheritance of a directory's default ACL by new inodes.  The access
 * check itself is perm.c's (through perm_node.acl). */
#include "config.h"
#include "meta_internal.h"
#include "perm_acl.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The stored ACL which of ino into *out: 1 loaded, 0 none. */
static int acl_load(struct tx *tx, uint64_t ino, const char *which,
                    struct acl *out)
{
    size_t nlen = strlen(which);
    int len = xattr_read(tx, ino, which, nlen, NULL, 0);
    if (len == -ENODATA)
        return 0;
    if (len < 0)
        return len;
    void *buf = malloc(len ? (size_t)len : 1);
    if (!buf)
        return -ENOMEM;
    int rc = xattr_read(tx, ino, which, nlen, buf, (size_t)len);
    if (rc >= 0) {
        rc = acl_decode(buf, (size_t)rc, out);
        if (rc == -EINVAL) {
            log_err("meta: malformed %s on inode %llu", which,
                    (unsigned long long)ino);
            rc = -EIO;
        }
    }
    free(buf);
    if (rc < 0)
        return rc;
    return out->n ? 1 : 0;
}

static int acl_store(struct tx *tx, uint64_t ino, const char *which,
                     const struct acl *a)
{
    size_t size = acl_size(a);
    void *buf = malloc(size);
    if (!buf)
        return -ENOMEM;
    acl_encode(a, buf);
    int rc = xattr_write(tx, ino, which, strlen(which), buf, size);
    free(buf);
    return rc;
}

static int acl_drop(struct tx *tx, uint64_t ino, const char *which)
{
    int rc = xattr_delete(tx, ino, which, strlen(which));
    return rc == -ENODATA ? 0 : rc;
}

static int is_access(const char *which)
{
    return strcmp(which, ACL_NAME_ACCESS) == 0;
}

int acl_xattr_get(struct tx *tx, const struct inode *in, const char *which,
                  void *buf, size_t cap)
{
    struct acl a;
    int rc = acl_load(tx, in->ino, which, &a);
    if (rc <= 0)
        return rc ? rc : -ENODATA;
    /* chmod keeps the stored entries in step; the mode is the truth. */
    if (is_access(which))
        acl_apply_mode(&a, in->mode);
    size_t size = acl_size(&a);
    if (cap && cap < size)
        rc = -ERANGE;
    else {
        if (cap)
            acl_encode(&a, buf);
        rc = (int)size;
    }
    acl_free(&a);
    return rc;
}

int acl_xattr_set(struct tx *tx, const struct meta_cred *cr,
                  struct inode *in, const char *which, const void *value,
                  size_t len)
{
    struct acl a = { 0, NULL };
    int rc;
    if (S_ISLNK(in->mode))
        return -EOPNOTSUPP;
    if (value && (rc = acl_decode(value, len, &a)))
        return rc;
    if (!is_access(which) && !S_ISDIR(in->mode)) {
        rc = a.n ? -EACCES : 0;
        acl_free(&a);
        return rc;
    }
    if (!perm_is_root(cr) && cr->uid != in->uid) {
        acl_free(&a);
        return -EPERM;
    }
    if (a.n == 0) {
        rc = acl_drop(tx, in->ino, which);
    } else if (!is_access(which)) {
        rc = acl_store(tx, in->ino, which, &a);
    } else {
        /* posix_acl_update_mode(): the ACL's classes become the mode's
         * bits; a non-member of the group (not root) loses setgid. */
        uint32_t mode = in->mode;
        int not_equiv = acl_equiv_mode(&a, &mode);
        if (!perm_is_root(cr) && !perm_in_group(cr, in->gid))
            mode &= ~(uint32_t)S_ISGID;
        in->mode = mode;
        rc = not_equiv ? acl_store(tx, in->ino, which, &a)
                       : acl_drop(tx, in->ino, which);
    }
    acl_free(&a);
    if (rc || (rc = inode_changed(tx, in, CH_CTIME)))
        return rc;
    return inode_put(tx, in);
}

int acl_default_of(struct tx *tx, const struct inode *dir, struct acl *out)
{
    out->n = 0;
    out->e = NULL;
    if (!S_ISDIR(dir->mode))
        return 0;
    return acl_load(tx, dir->ino, ACL_NAME_DEFAULT, out);
}

int acl_inherit(struct tx *tx, struct inode *in, const struct acl *dacl)
{
    if (S_ISLNK(in->mode) || dacl->n == 0)
        return 0;
    struct acl a;
    int rc = acl_dup(dacl, &a);
    if (rc)
        return rc;
    uint32_t mode = in->mode;
    int not_equiv = acl_create_masq(&a, &mode);
    in->mode = mode;
    if (not_equiv)
        rc = acl_store(tx, in->ino, ACL_NAME_ACCESS, &a);
    acl_free(&a);
    if (rc == 0 && S_ISDIR(in->mode))
        rc = acl_store(tx, in->ino, ACL_NAME_DEFAULT, dacl);
    return rc;
}

int acl_chmod(struct tx *tx, const struct inode *in)
{
    struct acl a;
    if (S_ISLNK(in->mode))
        return 0;
    int rc = acl_load(tx, in->ino, ACL_NAME_ACCESS, &a);
    if (rc <= 0)
        return rc;
    acl_apply_mode(&a, in->mode);
    rc = acl_store(tx, in->ino, ACL_NAME_ACCESS, &a);
    acl_free(&a);
    return rc;
}
