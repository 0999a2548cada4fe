/* meta_xattr.c - extended attributes (getxattr, setxattr, listxattr,
 * removexattr) with Linux's namespace and permission rules, and access(2).
 * The two POSIX ACL names are passed to meta_acl.c.  Records: xattrs
 * (ino, name) -> the raw value. */
#include "config.h"
#include "meta_internal.h"
#include "perm_acl.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

enum xattr_ns { XNS_USER, XNS_TRUSTED, XNS_SECURITY, XNS_ACL_ACCESS,
                XNS_ACL_DEFAULT };

/* ---- records ---- */

static size_t xattr_key(uint8_t *key, uint64_t ino, const char *name,
                        size_t nlen)
{
    be64_put(key, ino);
    memcpy(key + 8, name, nlen);
    return 8 + nlen;
}

int xattr_read(struct tx *tx, uint64_t ino, const char *name, size_t nlen,
               void *buf, size_t cap)
{
    uint8_t key[8 + META_XATTR_NAME_MAX];
    if (nlen > META_XATTR_NAME_MAX)
        return -ERANGE;
    DBT k = { .data = key, .size = (u_int32_t)xattr_key(key, ino, name,
                                                         nlen) };
    DBT v = { .data = buf, .ulen = (u_int32_t)cap, .flags = DB_DBT_USERMEM };
    DB *db = tx->m->db[MDB_XATTRS];
    int rc = db->get(db, tx->txn, &k, &v, 0);
    if (rc == DB_NOTFOUND)
        return -ENODATA;
    if (rc == DB_BUFFER_SMALL)
        return cap == 0 ? (int)v.size : -ERANGE;
    rc = db_err(rc);
    return rc ? rc : (int)v.size;
}

int xattr_write(struct tx *tx, uint64_t ino, const char *name, size_t nlen,
                const void *val, size_t len)
{
    uint8_t key[8 + META_XATTR_NAME_MAX];
    if (nlen > META_XATTR_NAME_MAX)
        return -ERANGE;
    return kv_put(tx, MDB_XATTRS, key, xattr_key(key, ino, name, nlen), val,
                  len);
}

int xattr_delete(struct tx *tx, uint64_t ino, const char *name, size_t nlen)
{
    uint8_t key[8 + META_XATTR_NAME_MAX];
    if (nlen > META_XATTR_NAME_MAX)
        return -ERANGE;
    int rc = kv_del(tx, MDB_XATTRS, key, xattr_key(key, ino, name, nlen));
    return rc == -ENOENT ? -ENODATA : rc;
}

int xattr_kill_caps(struct tx *tx, const struct inode *in)
{
    static const char caps[] = "security.capability";
    if (!S_ISREG(in->mode))
        return 0;
    int rc = xattr_delete(tx, in->ino, caps, sizeof(caps) - 1);
    return rc == -ENODATA ? 0 : rc;
}

int xattr_note_none(struct tx *tx, struct meta_attr *a)
{
    int rc = kv_none_under(tx, MDB_XATTRS, a->ino);
    if (rc == 1)
        a->flags |= META_ATTR_NO_XATTRS;
    return rc < 0 ? rc : 0;
}

/* ---- names and permissions ---- */

static int has_prefix(const char *name, size_t len, const char *prefix)
{
    size_t pl = strlen(prefix);
    return len >= pl && memcmp(name, prefix, pl) == 0;
}

static int is_name(const char *name, size_t len, const char *full)
{
    return len == strlen(full) && memcmp(name, full, len) == 0;
}

/* The namespace of a name, or -ERANGE (empty, too long), -EINVAL (NUL,
 * nothing after the prefix), -EOPNOTSUPP (no namespace we keep). */
static int name_ns(const char *name, size_t len)
{
    static const struct { const char *prefix; enum xattr_ns ns; } spaces[] = {
        { "user.", XNS_USER }, { "trusted.", XNS_TRUSTED },
        { "security.", XNS_SECURITY },
    };
    if (len == 0 || len > META_XATTR_NAME_MAX)
        return -ERANGE;
    if (memchr(name, 0, len))
        return -EINVAL;
    if (is_name(name, len, ACL_NAME_ACCESS))
        return XNS_ACL_ACCESS;
    if (is_name(name, len, ACL_NAME_DEFAULT))
        return XNS_ACL_DEFAULT;
    for (size_t i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++)
        if (has_prefix(name, len, spaces[i].prefix))
            return len > strlen(spaces[i].prefix) ? (int)spaces[i].ns
                                                  : -EINVAL;
    return -EOPNOTSUPP;
}

/* xattr_permission() of Linux, for the namespaces that are not ACLs.
 * write: changing (else reading). */
static int ns_permission(struct tx *tx, const struct meta_cred *cr,
                         const struct inode *in, int ns, int write)
{
    switch (ns) {
    case XNS_SECURITY:
        /* Anyone reads; changing needs CAP_SYS_ADMIN (commoncap). */
        return write && !perm_is_root(cr) ? -EPERM : 0;
    case XNS_TRUSTED:
        if (perm_is_root(cr))
            return 0;
        return write ? -EPERM : -ENODATA;
    case XNS_USER: {
        if (!S_ISREG(in->mode) && !S_ISDIR(in->mode))
            return write ? -EPERM : -ENODATA;
        if (write && S_ISDIR(in->mode) && (in->mode & S_ISVTX) &&
            !perm_is_root(cr) && cr->uid != in->uid)
            return -EPERM;
        struct perm_node pn = inode_perm(tx, in);
        return perm_access(cr, &pn, write ? PERM_WRITE : PERM_READ);
    }
    }
    return 0;
}

static const char *acl_name(int ns)
{
    return ns == XNS_ACL_ACCESS ? ACL_NAME_ACCESS : ACL_NAME_DEFAULT;
}

/* ---- calls ---- */

struct xattr_args {
    const struct meta_cred *cr;
    uint64_t ino;
    const char *name;
    size_t nlen;
    int ns;
    const void *value;
    size_t len;
    uint32_t flags;
    void *buf;
    size_t cap;
    int mask;
    struct meta_attr *out;
    size_t used;                        /* listxattr: bytes listed so far */
};

static int do_getxattr(struct tx *tx, void *arg)
{
    struct xattr_args *a = arg;
    struct inode in;
    int rc = inode_get(tx, a->ino, &in, 0);
    if (rc)
        return rc;
    if (a->ns == XNS_ACL_ACCESS || a->ns == XNS_ACL_DEFAULT)
        return acl_xattr_get(tx, &in, acl_name(a->ns), a->buf, a->cap);
    if ((rc = ns_permission(tx, a->cr, &in, a->ns, 0)))
        return rc;
    return xattr_read(tx, a->ino, a->name, a->nlen, a->buf, a->cap);
}

int meta_getxattr(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                  const char *name, size_t namelen, void *buf, size_t cap)
{
    int ns = name_ns(name, namelen);
    if (ns < 0)
        return ns;
    struct xattr_args a = { .cr = cr, .ino = ino, .name = name,
                            .nlen = namelen, .ns = ns, .buf = buf,
                            .cap = cap };
    return tx_run(m, do_getxattr, &a);
}

/* Sets (value) or removes (no value) one attribute. */
static int do_setxattr(struct tx *tx, void *arg)
{
    struct xattr_args *a = arg;
    struct inode in;
    int rc = inode_get(tx, a->ino, &in, DB_RMW);
    if (rc)
        return rc;
    if (a->ns == XNS_ACL_ACCESS || a->ns == XNS_ACL_DEFAULT) {
        /* An absent ACL removed is no error (as Linux's set_acl). */
        rc = acl_xattr_set(tx, a->cr, &in, acl_name(a->ns), a->value,
                           a->len);
        if (rc == 0 && a->out)
            inode_attr(&in, a->out);
        return rc;
    }
    if ((rc = ns_permission(tx, a->cr, &in, a->ns, 1)))
        return rc;
    if (!a->value) {
        rc = xattr_delete(tx, a->ino, a->name, a->nlen);
    } else {
        if (a->flags & (META_XATTR_CREATE | META_XATTR_REPLACE)) {
            rc = xattr_read(tx, a->ino, a->name, a->nlen, NULL, 0);
            if (rc >= 0 && (a->flags & META_XATTR_CREATE))
                return -EEXIST;
            if (rc == -ENODATA && (a->flags & META_XATTR_REPLACE))
                return rc;
            if (rc < 0 && rc != -ENODATA)
                return rc;
        }
        rc = xattr_write(tx, a->ino, a->name, a->nlen, a->value, a->len);
    }
    if (rc || (rc = inode_changed(tx, &in, CH_CTIME)) ||
        (rc = inode_put(tx, &in)))
        return rc;
    if (a->out)
        inode_attr(&in, a->out);
    return 0;
}

int meta_setxattr(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                  const char *name, size_t namelen, const void *value,
                  size_t len, uint32_t flags, struct meta_attr *out)
{
    static const uint8_t empty;
    if (len > META_XATTR_SIZE_MAX)
        return -E2BIG;
    if (flags & ~(META_XATTR_CREATE | META_XATTR_REPLACE))
        return -EINVAL;
    int ns = name_ns(name, namelen);
    if (ns < 0)
        return ns;
    struct xattr_args a = { .cr = cr, .ino = ino, .name = name,
                            .nlen = namelen, .ns = ns,
                            .value = value ? value : &empty, .len = len,
                            .flags = flags, .out = out };
    return tx_run(m, do_setxattr, &a);
}

int meta_removexattr(struct meta *m, const struct meta_cred *cr,
                     uint64_t ino, const char *name, size_t namelen,
                     struct meta_attr *out)
{
    int ns = name_ns(name, namelen);
    if (ns < 0)
        return ns;
    struct xattr_args a = { .cr = cr, .ino = ino, .name = name,
                            .nlen = namelen, .ns = ns, .out = out };
    return tx_run(m, do_setxattr, &a);
}

/* Appends name and its NUL to the answer: -ERANGE past cap (unless only
 * measuring), -E2BIG past the list limit. */
/* Lists one name of the walk over the inode's xattrs. */
static int list_add(void *arg, const struct kv_rec *r)
{
    struct xattr_args *a = arg;
    const char *name = (const char *)r->key + 8;
    size_t len = r->klen - 8;
    if (has_prefix(name, len, "trusted.") && !perm_is_root(a->cr))
        return 0;
    if (a->used + len + 1 > META_XATTR_LIST_MAX)
        return -E2BIG;
    if (a->cap) {
        if (a->used + len + 1 > a->cap)
            return -ERANGE;
        memcpy((char *)a->buf + a->used, name, len);
        ((char *)a->buf)[a->used + len] = 0;
    }
    a->used += len + 1;
    return 0;
}

static int do_listxattr(struct tx *tx, void *arg)
{
    struct xattr_args *a = arg;
    struct inode in;
    int rc = inode_get(tx, a->ino, &in, 0);
    if (rc)
        return rc;
    uint8_t prefix[8];
    be64_put(prefix, a->ino);
    a->used = 0;
    rc = kv_walk(tx, MDB_XATTRS, prefix, 8, NULL, 0, NULL, 0, 0, list_add, a);
    return rc ? rc : (int)a->used;
}

int meta_listxattr(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                   char *buf, size_t cap)
{
    struct xattr_args a = { .cr = cr, .ino = ino, .buf = buf, .cap = cap };
    return tx_run(m, do_listxattr, &a);
}

/* ---- access ---- */

static int do_access(struct tx *tx, void *arg)
{
    struct xattr_args *a = arg;
    struct inode in;
    int rc = inode_get(tx, a->ino, &in, 0);
    if (rc || a->mask == 0)
        return rc;
    struct perm_node pn = inode_perm(tx, &in);
    return perm_access(a->cr, &pn, a->mask);
}

int meta_access(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                int mask)
{
    if (mask & ~(PERM_READ | PERM_WRITE | PERM_EXEC))
        return -EINVAL;
    struct xattr_args a = { .cr = cr, .ino = ino, .mask = mask };
    return tx_run(m, do_access, &a);
}
