/* nfs4_acl.c - the acl attribute: NFSv4 ACEs mapped to and from the
 * POSIX ACLs the core keeps (system.posix_acl_access and, on
 * directories, system.posix_acl_default, in the kernel's binary format),
 * after draft-ietf-nfsv4-acl-mapping as Linux's server does it.
 *
 * POSIX to NFSv4: ALLOW (and, where the class may do less than it could,
 * DENY) for OWNER@, each named user, GROUP@ and each named group (masked),
 * then ALLOW EVERYONE@.  Each ALLOW also carries what every principal may
 * do (read attributes and the ACL), OWNER@'s what the owner may do (write
 * attributes and the ACL).  A directory's default ACL follows with the
 * inheritance flags.  A file without an ACL has the minimal one its mode
 * bits make.
 *
 * NFSv4 to POSIX: each principal the ACEs name gets the read, write and
 * execute bits the ACEs grant it in order (the first ACE deciding a bit
 * wins; EVERYONE@ speaks for every principal, OWNER@ for the owner,
 * GROUP@ for the owning group); the mask is the union of the named and
 * group entries.  Inheritable ACEs make the default ACL.  Audit and alarm
 * ACEs have no POSIX counterpart (NFS4ERR_ATTRNOTSUPP). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nfs4_int.h"

/* POSIX ACL entries (the kernel's tags and xattr format). */
#define PACL_USER_OBJ  0x01
#define PACL_USER      0x02
#define PACL_GROUP_OBJ 0x04
#define PACL_GROUP     0x08
#define PACL_MASK      0x10
#define PACL_OTHER     0x20
#define PACL_VERSION   2
#define PACL_MAX       1024             /* entries we handle (the core
                                           takes up to ACL_MAX_ENTRIES) */

static const char XA_ACCESS[] = "system.posix_acl_access";
static const char XA_DEFAULT[] = "system.posix_acl_default";

struct pacl_entry {
    uint16_t tag, perm;                 /* perm: 4 read, 2 write, 1 exec */
    uint32_t id;
};

#define ALWAYS (ACE4_READ_ATTRIBUTES | ACE4_READ_ACL | ACE4_SYNCHRONIZE)
#define OWNER_EXTRA (ACE4_WRITE_ATTRIBUTES | ACE4_WRITE_ACL)
#define INHERIT (ACE4_FILE_INHERIT_ACE | ACE4_DIRECTORY_INHERIT_ACE)

/* ---- the kernel's binary format ---- */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int pacl_decode(const unsigned char *buf, size_t len,
                       struct pacl_entry *e, size_t max)
{
    if (len < 4 || (len - 4) % 8 || le32(buf) != PACL_VERSION)
        return -EINVAL;
    size_t n = (len - 4) / 8;
    if (n > max)
        return -E2BIG;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = buf + 4 + 8 * i;
        e[i].tag = (uint16_t)(p[0] | p[1] << 8);
        e[i].perm = (uint16_t)(p[2] | p[3] << 8);
        e[i].id = le32(p + 4);
    }
    return (int)n;
}

static size_t pacl_encode(const struct pacl_entry *e, size_t n,
                          unsigned char *buf)
{
    unsigned char *p = buf;
    uint32_t v = PACL_VERSION;
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    for (size_t k = 0; k < n; k++) {
        *p++ = (unsigned char)e[k].tag;
        *p++ = (unsigned char)(e[k].tag >> 8);
        *p++ = (unsigned char)e[k].perm;
        *p++ = (unsigned char)(e[k].perm >> 8);
        for (int i = 0; i < 4; i++)
            *p++ = (unsigned char)(e[k].id >> (8 * i));
    }
    return (size_t)(p - buf);
}

/* The POSIX ACL name of ino; 0 entries when it has none. */
static int pacl_get(struct nfs4_cctx *c, uint64_t ino, const char *name,
                    struct pacl_entry *e)
{
    unsigned char buf[4 + 8 * PACL_MAX];
    int n = meta_getxattr(c->srv->meta, &c->cred, ino, name, strlen(name),
                          buf, sizeof(buf));
    if (n == -ENODATA || n == -EOPNOTSUPP)
        return 0;
    if (n < 0)
        return n;
    return pacl_decode(buf, (size_t)n, e, PACL_MAX);
}

/* ---- POSIX to NFSv4 ---- */

static uint32_t rwx_mask(uint16_t perm, int dir)
{
    uint32_t m = 0;
    if (perm & 4)
        m |= ACE4_READ_DATA;
    if (perm & 2)
        m |= ACE4_WRITE_DATA | ACE4_APPEND_DATA |
             (dir ? ACE4_DELETE_CHILD : 0);
    if (perm & 1)
        m |= ACE4_EXECUTE;
    return m;
}

static int ace_add(fattr4_acl *acl, acetype4 type, aceflag4 flag,
                   acemask4 mask, const char *who)
{
    nfsace4 *na = realloc(acl->fattr4_acl_val,
                          (acl->fattr4_acl_len + 1) * sizeof(*na));
    if (!na)
        return -ENOMEM;
    acl->fattr4_acl_val = na;
    nfsace4 *a = &na[acl->fattr4_acl_len];
    size_t n = strlen(who);
    a->who.utf8string_val = malloc(n ? n : 1);
    if (!a->who.utf8string_val)
        return -ENOMEM;
    memcpy(a->who.utf8string_val, who, n);
    a->who.utf8string_len = (u_int)n;
    a->type = type;
    a->flag = flag;
    a->access_mask = mask;
    acl->fattr4_acl_len++;
    return 0;
}

/* ALLOW (and DENY where the class allows less) for one principal. */
static int ace_pair(fattr4_acl *acl, aceflag4 flag, uint16_t perm, int dir,
                    uint32_t extra, const char *who)
{
    uint32_t allow = rwx_mask(perm, dir);
    uint32_t deny = rwx_mask(7, dir) & ~allow;
    int rc = ace_add(acl, ACE4_ACCESS_ALLOWED_ACE_TYPE, flag,
                     allow | ALWAYS | extra, who);
    if (rc == 0 && deny)
        rc = ace_add(acl, ACE4_ACCESS_DENIED_ACE_TYPE, flag, deny, who);
    return rc;
}

/* Maps a POSIX ACL (with its mask, if any) to ACEs appended to out. */
static int pacl_to_nfs4(const struct pacl_entry *e, size_t n, int dir,
                        aceflag4 inherit, fattr4_acl *out)
{
    uint16_t mask = 7;
    for (size_t i = 0; i < n; i++)
        if (e[i].tag == PACL_MASK)
            mask = e[i].perm;
    char who[16];
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (e[i].tag == PACL_USER_OBJ)
            rc = ace_pair(out, inherit, e[i].perm, dir, OWNER_EXTRA,
                          "OWNER@");
    for (size_t i = 0; i < n && rc == 0; i++)
        if (e[i].tag == PACL_USER) {
            snprintf(who, sizeof(who), "%u", e[i].id);
            rc = ace_pair(out, inherit, e[i].perm & mask, dir, 0, who);
        }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (e[i].tag == PACL_GROUP_OBJ)
            rc = ace_pair(out, inherit | ACE4_IDENTIFIER_GROUP,
                          e[i].perm & mask, dir, 0, "GROUP@");
    for (size_t i = 0; i < n && rc == 0; i++)
        if (e[i].tag == PACL_GROUP) {
            snprintf(who, sizeof(who), "%u", e[i].id);
            rc = ace_pair(out, inherit | ACE4_IDENTIFIER_GROUP,
                          e[i].perm & mask, dir, 0, who);
        }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (e[i].tag == PACL_OTHER)
            rc = ace_add(out, ACE4_ACCESS_ALLOWED_ACE_TYPE, inherit,
                         rwx_mask(e[i].perm, dir) | ALWAYS, "EVERYONE@");
    return rc;
}

nfsstat4 nfs4_acl_get(struct nfs4_cctx *c, const struct nfs4_fh *fh,
                      const struct meta_attr *a, fattr4_acl *out)
{
    struct pacl_entry e[PACL_MAX];
    int dir = S_ISDIR(a->mode);
    out->fattr4_acl_len = 0;
    out->fattr4_acl_val = NULL;
    int n = 0;
    if (fh->kind == NFS4_FH_INODE)
        n = pacl_get(c, fh->ino, XA_ACCESS, e);
    if (n < 0)
        return nfs4_errno(n);
    if (n == 0) {                       /* none stored: the mode's */
        e[0] = (struct pacl_entry){ PACL_USER_OBJ, (a->mode >> 6) & 7, 0 };
        e[1] = (struct pacl_entry){ PACL_GROUP_OBJ, (a->mode >> 3) & 7, 0 };
        e[2] = (struct pacl_entry){ PACL_OTHER, a->mode & 7, 0 };
        n = 3;
    }
    int rc = pacl_to_nfs4(e, (size_t)n, dir, 0, out);
    if (rc == 0 && dir && fh->kind == NFS4_FH_INODE) {
        int nd = pacl_get(c, fh->ino, XA_DEFAULT, e);
        if (nd < 0)
            rc = nd;
        else if (nd > 0)
            rc = pacl_to_nfs4(e, (size_t)nd, dir,
                              INHERIT | ACE4_INHERIT_ONLY_ACE, out);
    }
    if (rc < 0) {
        xdr_free((xdrproc_t)xdr_fattr4_acl, (char *)out);
        return rc == -ENOMEM ? NFS4ERR_RESOURCE : nfs4_errno(rc);
    }
    return NFS4_OK;
}

/* ---- NFSv4 to POSIX ---- */

enum who { WHO_OWNER, WHO_GROUP, WHO_EVERYONE, WHO_NAMED };

static enum who who_of(const nfsace4 *a)
{
    const utf8string *w = &a->who;
    static const struct { const char *s; enum who w; } special[] = {
        { "OWNER@", WHO_OWNER }, { "GROUP@", WHO_GROUP },
        { "EVERYONE@", WHO_EVERYONE },
    };
    for (size_t i = 0; i < 3; i++)
        if (w->utf8string_len == strlen(special[i].s) &&
            memcmp(w->utf8string_val, special[i].s, w->utf8string_len) == 0)
            return special[i].w;
    return WHO_NAMED;
}

/* A principal of the POSIX ACL being built. */
struct princ {
    uint16_t tag;
    uint32_t id;
};

static int ace_applies(const nfsace4 *a, const struct princ *p)
{
    switch (who_of(a)) {
    case WHO_EVERYONE:
        return 1;
    case WHO_OWNER:
        return p->tag == PACL_USER_OBJ;
    case WHO_GROUP:
        return p->tag == PACL_GROUP_OBJ;
    default:
        break;
    }
    uint32_t id;
    int group = (a->flag & ACE4_IDENTIFIER_GROUP) != 0;
    if (nfs4_owner_parse(a->who.utf8string_val, a->who.utf8string_len, group,
                         &id) < 0)
        return 0;
    return p->tag == (group ? PACL_GROUP : PACL_USER) && p->id == id;
}

/* The rwx the ACEs of one set (access or default) grant p. */
static uint16_t perm_for(const fattr4_acl *acl, int want_default,
                         const struct princ *p)
{
    static const uint32_t bit[3] = { ACE4_READ_DATA, ACE4_WRITE_DATA,
                                     ACE4_EXECUTE };
    uint16_t allowed = 0, decided = 0;
    for (u_int i = 0; i < acl->fattr4_acl_len; i++) {
        const nfsace4 *a = &acl->fattr4_acl_val[i];
        int inheritable = (a->flag & INHERIT) != 0;
        int inherit_only = (a->flag & ACE4_INHERIT_ONLY_ACE) != 0;
        if (want_default ? !inheritable : inherit_only)
            continue;
        if (!ace_applies(a, p))
            continue;
        for (int k = 0; k < 3; k++) {
            uint16_t b = (uint16_t)(4 >> k);
            if ((decided & b) || !(a->access_mask & bit[k]))
                continue;
            decided |= b;
            if (a->type == ACE4_ACCESS_ALLOWED_ACE_TYPE)
                allowed |= b;
        }
    }
    return allowed;
}

static int princ_cmp(const void *x, const void *y)
{
    const struct princ *a = x, *b = y;
    if (a->tag != b->tag)
        return a->tag < b->tag ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Builds the POSIX ACL of one set: *n entries in e (the order the kernel
 * wants: by tag, then id); *has_named when beyond owner/group/other;
 * *any when some ACE belongs to the set. */
static nfsstat4 build_pacl(const fattr4_acl *acl, int want_default,
                           struct pacl_entry *e, size_t *n, int *any)
{
    struct princ p[PACL_MAX];
    size_t np = 0;
    p[np++] = (struct princ){ PACL_USER_OBJ, 0 };
    p[np++] = (struct princ){ PACL_GROUP_OBJ, 0 };
    p[np++] = (struct princ){ PACL_OTHER, 0 };
    *any = 0;
    for (u_int i = 0; i < acl->fattr4_acl_len; i++) {
        const nfsace4 *a = &acl->fattr4_acl_val[i];
        int inheritable = (a->flag & INHERIT) != 0;
        int inherit_only = (a->flag & ACE4_INHERIT_ONLY_ACE) != 0;
        if (want_default ? !inheritable : inherit_only)
            continue;
        *any = 1;
        if (who_of(a) != WHO_NAMED)
            continue;
        int group = (a->flag & ACE4_IDENTIFIER_GROUP) != 0;
        uint32_t id;
        if (nfs4_owner_parse(a->who.utf8string_val, a->who.utf8string_len,
                             group, &id) < 0)
            return NFS4ERR_BADOWNER;
        struct princ q = { group ? PACL_GROUP : PACL_USER, id };
        size_t k = 0;
        while (k < np && princ_cmp(&p[k], &q) != 0)
            k++;
        if (k == np) {
            if (np == PACL_MAX - 1)
                return NFS4ERR_RESOURCE;
            p[np++] = q;
        }
    }
    qsort(p, np, sizeof(p[0]), princ_cmp);
    uint16_t mask = 0;
    int named = 0;
    *n = 0;
    for (size_t k = 0; k < np; k++) {
        uint16_t perm = perm_for(acl, want_default, &p[k]);
        if (p[k].tag == PACL_OTHER && named)
            e[(*n)++] = (struct pacl_entry){ PACL_MASK, mask, 0 };
        e[(*n)++] = (struct pacl_entry){ p[k].tag, perm, p[k].id };
        if (p[k].tag == PACL_USER || p[k].tag == PACL_GROUP)
            named = 1;
        if (p[k].tag != PACL_USER_OBJ && p[k].tag != PACL_OTHER)
            mask |= perm;
    }
    return NFS4_OK;
}

nfsstat4 nfs4_acl_set(struct nfs4_cctx *c, const struct nfs4_fh *fh,
                      const struct meta_attr *a, const fattr4_acl *acl)
{
    int dir = S_ISDIR(a->mode);
    if (fh->kind != NFS4_FH_INODE)
        return NFS4ERR_ROFS;
    for (u_int i = 0; i < acl->fattr4_acl_len; i++) {
        const nfsace4 *e = &acl->fattr4_acl_val[i];
        if (e->type != ACE4_ACCESS_ALLOWED_ACE_TYPE &&
            e->type != ACE4_ACCESS_DENIED_ACE_TYPE)
            return NFS4ERR_ATTRNOTSUPP;     /* audit and alarm */
        if ((e->flag & (INHERIT | ACE4_INHERIT_ONLY_ACE)) && !dir)
            return NFS4ERR_INVAL;           /* inheritance on a file */
    }
    struct pacl_entry e[PACL_MAX + 1];
    unsigned char buf[4 + 8 * (PACL_MAX + 1)];
    size_t n;
    int any;
    struct meta *m = c->srv->meta;
    nfsstat4 st = build_pacl(acl, 0, e, &n, &any);
    if (st != NFS4_OK)
        return st;
    int rc = meta_setxattr(m, &c->cred, fh->ino, XA_ACCESS,
                           sizeof(XA_ACCESS) - 1, buf, pacl_encode(e, n, buf),
                           0, NULL);
    if (rc < 0)
        return nfs4_errno(rc);
    if (!dir)
        return NFS4_OK;
    if ((st = build_pacl(acl, 1, e, &n, &any)) != NFS4_OK)
        return st;
    if (any)
        rc = meta_setxattr(m, &c->cred, fh->ino, XA_DEFAULT,
                           sizeof(XA_DEFAULT) - 1, buf,
                           pacl_encode(e, n, buf), 0, NULL);
    else
        rc = meta_removexattr(m, &c->cred, fh->ino, XA_DEFAULT,
                              sizeof(XA_DEFAULT) - 1, NULL);
    if (rc == -ENODATA)
        rc = 0;
    return rc < 0 ? nfs4_errno(rc) : NFS4_OK;
}
