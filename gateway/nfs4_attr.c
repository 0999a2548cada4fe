/* nfs4_attr.c - fattr4: the attribute bitmaps and XDR-encoded values of
 * GETATTR, READDIR, VERIFY/NVERIFY, and what SETATTR, CREATE and OPEN set.
 *
 * One table says which attributes we support and which of those can be
 * set.  Values are encoded in attribute-number order with xdrmem, from
 * the core's attributes (already passed through nfs4_fix_attr) and, only
 * when asked for, from statfs or the ACL.  Owners travel as numeric
 * strings ("1000"): that is what libnfs parses and what Linux sends when
 * id mapping is off; names and "uid@domain" are accepted on input. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "nfs4_int.h"

#define NWORDS 2                        /* our attributes fit in 64 bits */
#define BIT(n) ((uint64_t)1 << (n))

/* What we answer in GETATTR. */
static const uint64_t SUPPORTED =
    BIT(FATTR4_SUPPORTED_ATTRS) | BIT(FATTR4_TYPE) |
    BIT(FATTR4_FH_EXPIRE_TYPE) | BIT(FATTR4_CHANGE) | BIT(FATTR4_SIZE) |
    BIT(FATTR4_LINK_SUPPORT) | BIT(FATTR4_SYMLINK_SUPPORT) |
    BIT(FATTR4_NAMED_ATTR) | BIT(FATTR4_FSID) | BIT(FATTR4_UNIQUE_HANDLES) |
    BIT(FATTR4_LEASE_TIME) | BIT(FATTR4_RDATTR_ERROR) | BIT(FATTR4_ACL) |
    BIT(FATTR4_ACLSUPPORT) | BIT(FATTR4_CANSETTIME) |
    BIT(FATTR4_CASE_INSENSITIVE) | BIT(FATTR4_CASE_PRESERVING) |
    BIT(FATTR4_CHOWN_RESTRICTED) | BIT(FATTR4_FILEHANDLE) |
    BIT(FATTR4_FILEID) | BIT(FATTR4_FILES_AVAIL) | BIT(FATTR4_FILES_FREE) |
    BIT(FATTR4_FILES_TOTAL) | BIT(FATTR4_HOMOGENEOUS) |
    BIT(FATTR4_MAXFILESIZE) | BIT(FATTR4_MAXLINK) | BIT(FATTR4_MAXNAME) |
    BIT(FATTR4_MAXREAD) | BIT(FATTR4_MAXWRITE) | BIT(FATTR4_MODE) |
    BIT(FATTR4_NO_TRUNC) | BIT(FATTR4_NUMLINKS) | BIT(FATTR4_OWNER) |
    BIT(FATTR4_OWNER_GROUP) | BIT(FATTR4_RAWDEV) | BIT(FATTR4_SPACE_AVAIL) |
    BIT(FATTR4_SPACE_FREE) | BIT(FATTR4_SPACE_TOTAL) |
    BIT(FATTR4_SPACE_USED) | BIT(FATTR4_TIME_ACCESS) |
    BIT(FATTR4_TIME_ACCESS_SET) | BIT(FATTR4_TIME_DELTA) |
    BIT(FATTR4_TIME_METADATA) | BIT(FATTR4_TIME_MODIFY) |
    BIT(FATTR4_TIME_MODIFY_SET) | BIT(FATTR4_MOUNTED_ON_FILEID);

/* Of those, what SETATTR/CREATE/OPEN take. */
static const uint64_t WRITABLE =
    BIT(FATTR4_SIZE) | BIT(FATTR4_ACL) | BIT(FATTR4_MODE) |
    BIT(FATTR4_OWNER) | BIT(FATTR4_OWNER_GROUP) |
    BIT(FATTR4_TIME_ACCESS_SET) | BIT(FATTR4_TIME_MODIFY_SET);

/* Set-only attributes: asking to read them is NFS4ERR_INVAL. */
static const uint64_t WRITE_ONLY =
    BIT(FATTR4_TIME_ACCESS_SET) | BIT(FATTR4_TIME_MODIFY_SET);

/* Attributes that need statfs figures. */
static const uint64_t NEED_STATFS =
    BIT(FATTR4_FILES_AVAIL) | BIT(FATTR4_FILES_FREE) |
    BIT(FATTR4_FILES_TOTAL) | BIT(FATTR4_SPACE_AVAIL) |
    BIT(FATTR4_SPACE_FREE) | BIT(FATTR4_SPACE_TOTAL);

/* The first 64 attribute bits of a bitmap; *beyond says whether any bit
 * past them is set (none of those is supported). */
static uint64_t bits_of(const bitmap4 *b, int *beyond)
{
    uint64_t v = 0;
    *beyond = 0;
    for (u_int i = 0; i < b->bitmap4_len; i++) {
        if (i < NWORDS)
            v |= (uint64_t)b->bitmap4_val[i] << (32 * i);
        else if (b->bitmap4_val[i])
            *beyond = 1;
    }
    return v;
}

int nfs4_bitmap_isset(const bitmap4 *b, unsigned n)
{
    if (n / 32 >= b->bitmap4_len)
        return 0;
    return (b->bitmap4_val[n / 32] >> (n % 32)) & 1;
}

static int bitmap_set(bitmap4 *out, uint64_t v)
{
    out->bitmap4_val = calloc(NWORDS, sizeof(uint32_t));
    if (!out->bitmap4_val)
        return -ENOMEM;
    out->bitmap4_len = NWORDS;
    out->bitmap4_val[0] = (uint32_t)v;
    out->bitmap4_val[1] = (uint32_t)(v >> 32);
    return 0;
}

int nfs4_bitmap_copy(const bitmap4 *in, bitmap4 *out)
{
    int beyond;
    return bitmap_set(out, bits_of(in, &beyond));
}

static nfs_ftype4 ftype(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR:  return NF4DIR;
    case S_IFBLK:  return NF4BLK;
    case S_IFCHR:  return NF4CHR;
    case S_IFLNK:  return NF4LNK;
    case S_IFSOCK: return NF4SOCK;
    case S_IFIFO:  return NF4FIFO;
    default:       return NF4REG;
    }
}

/* Filesystem-wide figures, fetched once per encoding when needed. */
struct fsfig {
    uint64_t files_total, files_free;
    uint64_t space_total, space_free, space_used;
};

static nfsstat4 get_fsfig(const struct nfs4_attr_src *src, struct fsfig *f)
{
    memset(f, 0, sizeof(*f));
    if (src->fh->kind == NFS4_FH_ROOT)
        return NFS4_OK;                 /* the pseudo-root holds nothing */
    struct meta_statfs sf;
    int rc = meta_statfs(src->c->srv->meta, src->fh->ino, &sf);
    if (rc < 0)
        return nfs4_errno(rc);
    f->files_total = sf.files + sf.ffree;
    f->files_free = sf.ffree;
    f->space_used = sf.bytes_used;
    uint64_t total, avail;
    if (store_statfs(src->c->srv->store, &total, &avail) == 0) {
        f->space_total = total;
        f->space_free = avail;
    } else {
        /* A store without a limit (S3): say 1 PiB beyond what is used. */
        f->space_free = (uint64_t)1 << 50;
        f->space_total = sf.bytes_used + f->space_free;
    }
    return NFS4_OK;
}

static bool_t put_u32(XDR *x, uint32_t v) { return xdr_u_int(x, &v); }
static bool_t put_u64(XDR *x, uint64_t v)
{
    u_quad_t q = v;
    return xdr_u_quad_t(x, &q);
}
static bool_t put_bool(XDR *x, int v)
{
    bool_t b = v ? TRUE : FALSE;
    return xdr_bool(x, &b);
}
static bool_t put_time(XDR *x, const struct meta_time *t)
{
    nfstime4 n = { .seconds = t->sec, .nseconds = t->nsec };
    return xdr_nfstime4(x, &n);
}
static bool_t put_id(XDR *x, uint32_t id)
{
    char s[16];
    int n = snprintf(s, sizeof(s), "%u", id);
    utf8string u = { .utf8string_len = (u_int)n, .utf8string_val = s };
    return xdr_utf8string(x, &u);
}

/* Encodes one attribute.  Returns 1 done, 0 out of buffer space, or a
 * negative nfsstat4 for a failure to get the value. */
static int put_attr(XDR *x, unsigned n, const struct nfs4_attr_src *src,
                    const struct fsfig *f)
{
    const struct meta_attr *a = src->a;
    const struct nfs4_fh *fh = src->fh;
    int root = fh->kind == NFS4_FH_ROOT;
    uint64_t fileid = root ? NFS4_ROOT_FILEID : a->ino;
    bool_t ok;

    switch (n) {
    case FATTR4_SUPPORTED_ATTRS: {
        uint32_t w[NWORDS] = { (uint32_t)SUPPORTED,
                               (uint32_t)(SUPPORTED >> 32) };
        bitmap4 b = { .bitmap4_len = NWORDS, .bitmap4_val = w };
        ok = xdr_bitmap4(x, &b);
        break;
    }
    case FATTR4_TYPE: {
        nfs_ftype4 t = ftype(a->mode);
        ok = xdr_nfs_ftype4(x, &t);
        break;
    }
    case FATTR4_FH_EXPIRE_TYPE: ok = put_u32(x, FH4_PERSISTENT); break;
    case FATTR4_CHANGE:         ok = put_u64(x, a->change); break;
    case FATTR4_SIZE:           ok = put_u64(x, a->size); break;
    case FATTR4_LINK_SUPPORT:   ok = put_bool(x, 1); break;
    case FATTR4_SYMLINK_SUPPORT: ok = put_bool(x, 1); break;
    case FATTR4_NAMED_ATTR:     ok = put_bool(x, 0); break;
    case FATTR4_FSID: {
        /* The pseudo-root is its own file system; each volume is one. */
        fsid4 id = { .major = root ? 0 : 1, .minor = root ? 0 : fh->vol };
        ok = xdr_fsid4(x, &id);
        break;
    }
    case FATTR4_UNIQUE_HANDLES: ok = put_bool(x, 1); break;
    case FATTR4_LEASE_TIME:
        ok = put_u32(x, src->c->srv->lease_secs);
        break;
    case FATTR4_RDATTR_ERROR: {
        nfsstat4 e = src->rdattr_error;
        ok = xdr_nfsstat4(x, &e);
        break;
    }
    case FATTR4_ACL: {
        fattr4_acl acl = { 0, NULL };
        nfsstat4 st = nfs4_acl_get(src->c, fh, a, &acl);
        if (st != NFS4_OK)
            return -(int)st;
        ok = xdr_fattr4_acl(x, &acl);
        xdr_free((xdrproc_t)xdr_fattr4_acl, (char *)&acl);
        break;
    }
    case FATTR4_ACLSUPPORT:
        ok = put_u32(x, ACL4_SUPPORT_ALLOW_ACL | ACL4_SUPPORT_DENY_ACL);
        break;
    case FATTR4_CANSETTIME:       ok = put_bool(x, 1); break;
    case FATTR4_CASE_INSENSITIVE: ok = put_bool(x, 0); break;
    case FATTR4_CASE_PRESERVING:  ok = put_bool(x, 1); break;
    case FATTR4_CHOWN_RESTRICTED: ok = put_bool(x, 1); break;
    case FATTR4_FILEHANDLE: {
        nfs_fh4 h;
        if (nfs4_fh_pack(fh, &h) < 0)
            return -(int)NFS4ERR_RESOURCE;
        ok = xdr_nfs_fh4(x, &h);
        free(h.nfs_fh4_val);
        break;
    }
    case FATTR4_FILEID:        ok = put_u64(x, fileid); break;
    case FATTR4_FILES_AVAIL:   ok = put_u64(x, f->files_free); break;
    case FATTR4_FILES_FREE:    ok = put_u64(x, f->files_free); break;
    case FATTR4_FILES_TOTAL:   ok = put_u64(x, f->files_total); break;
    case FATTR4_HOMOGENEOUS:   ok = put_bool(x, 1); break;
    case FATTR4_MAXFILESIZE:   ok = put_u64(x, INT64_MAX); break;
    case FATTR4_MAXLINK:       ok = put_u32(x, UINT32_MAX); break;
    case FATTR4_MAXNAME:       ok = put_u32(x, META_NAME_MAX); break;
    case FATTR4_MAXREAD:       ok = put_u64(x, NFS4_MAXIO); break;
    case FATTR4_MAXWRITE:      ok = put_u64(x, NFS4_MAXIO); break;
    case FATTR4_MODE:          ok = put_u32(x, a->mode & 07777); break;
    case FATTR4_NO_TRUNC:      ok = put_bool(x, 1); break;
    case FATTR4_NUMLINKS:      ok = put_u32(x, a->nlink); break;
    case FATTR4_OWNER:         ok = put_id(x, a->uid); break;
    case FATTR4_OWNER_GROUP:   ok = put_id(x, a->gid); break;
    case FATTR4_RAWDEV: {
        specdata4 d = { .specdata1 = major((dev_t)a->rdev),
                        .specdata2 = minor((dev_t)a->rdev) };
        ok = xdr_specdata4(x, &d);
        break;
    }
    case FATTR4_SPACE_AVAIL:   ok = put_u64(x, f->space_free); break;
    case FATTR4_SPACE_FREE:    ok = put_u64(x, f->space_free); break;
    case FATTR4_SPACE_TOTAL:   ok = put_u64(x, f->space_total); break;
    case FATTR4_SPACE_USED:    ok = put_u64(x, a->blocks * 512); break;
    case FATTR4_TIME_ACCESS:   ok = put_time(x, &a->atime); break;
    case FATTR4_TIME_DELTA: {
        struct meta_time d = { 0, 1 };
        ok = put_time(x, &d);
        break;
    }
    case FATTR4_TIME_METADATA: ok = put_time(x, &a->ctime); break;
    case FATTR4_TIME_MODIFY:   ok = put_time(x, &a->mtime); break;
    case FATTR4_MOUNTED_ON_FILEID: ok = put_u64(x, fileid); break;
    default:
        return 1;                       /* not supported: never asked */
    }
    return ok ? 1 : 0;
}

/* Encodes the attributes of want into a buffer of cap bytes.  Returns 1
 * done (*out set), 0 too small, or a negative nfsstat4. */
static int encode_into(const struct nfs4_attr_src *src, uint64_t want,
                       const struct fsfig *f, size_t cap, fattr4 *out)
{
    char *buf = malloc(cap);
    if (!buf)
        return -(int)NFS4ERR_RESOURCE;
    XDR x;
    xdrmem_create(&x, buf, (u_int)cap, XDR_ENCODE);
    for (unsigned n = 0; n < 64; n++) {
        if (!(want & BIT(n)))
            continue;
        int rc = put_attr(&x, n, src, f);
        if (rc <= 0) {
            xdr_destroy(&x);
            free(buf);
            return rc;
        }
    }
    u_int len = xdr_getpos(&x);
    xdr_destroy(&x);
    if (bitmap_set(&out->attrmask, want) < 0) {
        free(buf);
        return -(int)NFS4ERR_RESOURCE;
    }
    out->attr_vals.attrlist4_len = len;
    out->attr_vals.attrlist4_val = buf;
    return 1;
}

nfsstat4 nfs4_attr_encode(const struct nfs4_attr_src *src, const bitmap4 *req,
                          fattr4 *out)
{
    int beyond;
    uint64_t asked = bits_of(req, &beyond);
    if (asked & WRITE_ONLY)
        return NFS4ERR_INVAL;
    uint64_t want = asked & SUPPORTED;
    struct fsfig f;
    memset(&f, 0, sizeof(f));
    if (want & NEED_STATFS) {
        nfsstat4 st = get_fsfig(src, &f);
        if (st != NFS4_OK)
            return st;
    }
    /* Most answers fit in 1 KiB; an ACL may need more. */
    for (size_t cap = 1024; cap <= NFS4_ATTRLIST_MAX; cap *= 8) {
        int rc = encode_into(src, want, &f, cap, out);
        if (rc > 0)
            return NFS4_OK;
        if (rc < 0)
            return (nfsstat4)-rc;
    }
    return NFS4ERR_RESOURCE;
}

/* ---- owners ---- */

static int parse_num(const char *s, size_t len, uint32_t *id)
{
    uint64_t v = 0;
    if (len == 0 || len > 10)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return -EINVAL;
    *id = (uint32_t)v;
    return 0;
}

int nfs4_owner_parse(const char *s, size_t len, int group, uint32_t *id)
{
    const char *at = memchr(s, '@', len);
    size_t n = at ? (size_t)(at - s) : len;
    if (parse_num(s, n, id) == 0)
        return 0;
    if (n == 0 || n > 255 || memchr(s, '\0', n))
        return -EINVAL;
    char name[256];
    memcpy(name, s, n);
    name[n] = '\0';
    char buf[4096];
    if (group) {
        struct group g, *gp = NULL;
        if (getgrnam_r(name, &g, buf, sizeof(buf), &gp) != 0 || !gp)
            return -EINVAL;
        *id = gp->gr_gid;
    } else {
        struct passwd pw, *pp = NULL;
        if (getpwnam_r(name, &pw, buf, sizeof(buf), &pp) != 0 || !pp)
            return -EINVAL;
        *id = pp->pw_uid;
    }
    return 0;
}

/* ---- decoding what to set ---- */

static nfsstat4 get_settime(XDR *x, struct meta_settime *t)
{
    settime4 st;
    memset(&st, 0, sizeof(st));
    if (!xdr_settime4(x, &st))
        return NFS4ERR_BADXDR;
    if (st.set_it == SET_TO_SERVER_TIME4) {
        t->how = META_TIME_SERVER;
        return NFS4_OK;
    }
    if (st.set_it != SET_TO_CLIENT_TIME4)
        return NFS4ERR_INVAL;
    if (st.settime4_u.time.nseconds >= 1000000000u)
        return NFS4ERR_INVAL;
    t->how = META_TIME_CLIENT;
    t->time.sec = st.settime4_u.time.seconds;
    t->time.nsec = st.settime4_u.time.nseconds;
    return NFS4_OK;
}

static nfsstat4 get_owner(XDR *x, int group, uint32_t *id)
{
    utf8string u = { 0, NULL };
    if (!xdr_utf8string(x, &u))
        return NFS4ERR_BADXDR;
    int rc = nfs4_owner_parse(u.utf8string_val, u.utf8string_len, group, id);
    xdr_free((xdrproc_t)xdr_utf8string, (char *)&u);
    return rc < 0 ? NFS4ERR_BADOWNER : NFS4_OK;
}

static nfsstat4 get_attr(XDR *x, unsigned n, struct nfs4_sattr *s)
{
    struct meta_setattr *sa = &s->sa;
    switch (n) {
    case FATTR4_SIZE: {
        u_quad_t v;
        if (!xdr_u_quad_t(x, &v))
            return NFS4ERR_BADXDR;
        sa->size = v;
        sa->valid |= META_SET_SIZE;
        return NFS4_OK;
    }
    case FATTR4_ACL:
        if (!xdr_fattr4_acl(x, &s->acl))
            return NFS4ERR_BADXDR;
        s->has_acl = 1;
        return NFS4_OK;
    case FATTR4_MODE: {
        u_int v;
        if (!xdr_u_int(x, &v))
            return NFS4ERR_BADXDR;
        if (v & ~07777u)
            return NFS4ERR_INVAL;
        sa->mode = v;
        sa->valid |= META_SET_MODE;
        return NFS4_OK;
    }
    case FATTR4_OWNER: {
        nfsstat4 st = get_owner(x, 0, &sa->uid);
        if (st == NFS4_OK)
            sa->valid |= META_SET_UID;
        return st;
    }
    case FATTR4_OWNER_GROUP: {
        nfsstat4 st = get_owner(x, 1, &sa->gid);
        if (st == NFS4_OK)
            sa->valid |= META_SET_GID;
        return st;
    }
    case FATTR4_TIME_ACCESS_SET:
        return get_settime(x, &sa->atime);
    case FATTR4_TIME_MODIFY_SET:
        return get_settime(x, &sa->mtime);
    default:
        return NFS4ERR_INVAL;
    }
}

nfsstat4 nfs4_sattr_decode(const fattr4 *fa, struct nfs4_sattr *out)
{
    memset(out, 0, sizeof(*out));
    int beyond;
    uint64_t given = bits_of(&fa->attrmask, &beyond);
    if (beyond || (given & ~SUPPORTED))
        return NFS4ERR_ATTRNOTSUPP;
    if (given & ~WRITABLE)
        return NFS4ERR_INVAL;
    XDR x;
    xdrmem_create(&x, fa->attr_vals.attrlist4_val,
                  fa->attr_vals.attrlist4_len, XDR_DECODE);
    nfsstat4 st = NFS4_OK;
    for (unsigned n = 0; n < 64 && st == NFS4_OK; n++)
        if (given & BIT(n))
            st = get_attr(&x, n, out);
    if (st == NFS4_OK && xdr_getpos(&x) != fa->attr_vals.attrlist4_len)
        st = NFS4ERR_BADXDR;            /* bytes left over */
    xdr_destroy(&x);
    out->set.bitmap4_len = NWORDS;
    out->set.bitmap4_val = out->set_words;
    out->set_words[0] = (uint32_t)given;
    out->set_words[1] = (uint32_t)(given >> 32);
    if (st != NFS4_OK)
        nfs4_sattr_free(out);
    return st;
}

void nfs4_sattr_free(struct nfs4_sattr *s)
{
    xdr_free((xdrproc_t)xdr_fattr4_acl, (char *)&s->acl);
    s->has_acl = 0;
}

/* ---- VERIFY / NVERIFY ---- */

/* ---- the shape of a client's attribute values (VERIFY, NVERIFY) ---- */

struct wire {
    const unsigned char *p;
    size_t left;
};

static int wire_take(struct wire *w, size_t n)
{
    if (n > w->left)
        return -1;
    w->p += n;
    w->left -= n;
    return 0;
}

static int wire_u32(struct wire *w, uint32_t *v)
{
    if (w->left < 4)
        return -1;
    *v = (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 |
         (uint32_t)w->p[2] << 8 | w->p[3];
    return wire_take(w, 4);
}

/* A counted opaque or string, padded to 4 bytes, of at most max bytes. */
static int wire_opaque(struct wire *w, uint32_t max)
{
    uint32_t n;
    if (wire_u32(w, &n) < 0 || n > max)
        return -1;
    return wire_take(w, ((size_t)n + 3) & ~(size_t)3);
}

static int wire_acl(struct wire *w)
{
    uint32_t n;
    if (wire_u32(w, &n) < 0 || n > w->left / 16)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (wire_take(w, 12) < 0 || wire_opaque(w, NFS4_OPAQUE_LIMIT) < 0)
            return -1;
    return 0;
}

/* Bytes of a fixed-size value of attribute a, 0 for the variable ones. */
static size_t fixed_size(unsigned a)
{
    switch (a) {
    case FATTR4_CHANGE: case FATTR4_SIZE: case FATTR4_FILEID:
    case FATTR4_FILES_AVAIL: case FATTR4_FILES_FREE: case FATTR4_FILES_TOTAL:
    case FATTR4_MAXFILESIZE: case FATTR4_MAXREAD: case FATTR4_MAXWRITE:
    case FATTR4_SPACE_AVAIL: case FATTR4_SPACE_FREE: case FATTR4_SPACE_TOTAL:
    case FATTR4_SPACE_USED: case FATTR4_MOUNTED_ON_FILEID:
    case FATTR4_RAWDEV:
        return 8;
    case FATTR4_FSID:
        return 16;
    case FATTR4_TIME_ACCESS: case FATTR4_TIME_DELTA:
    case FATTR4_TIME_METADATA: case FATTR4_TIME_MODIFY:
        return 12;
    case FATTR4_SUPPORTED_ATTRS: case FATTR4_ACL: case FATTR4_FILEHANDLE:
    case FATTR4_OWNER: case FATTR4_OWNER_GROUP:
        return 0;
    default:                            /* enums, uint32s and bools */
        return 4;
    }
}

/* Whether the values decode as the XDR of the attributes in mask, in
 * order, with nothing left over (RFC 7530 13.1.1.1: else BADXDR). */
static int values_wellformed(uint64_t mask, const attrlist4 *vals)
{
    struct wire w = { (const unsigned char *)vals->attrlist4_val,
                      vals->attrlist4_len };
    for (unsigned a = 0; a < 64; a++) {
        if (!(mask & BIT(a)))
            continue;
        size_t n = fixed_size(a);
        int rc;
        if (n)
            rc = wire_take(&w, n);
        else if (a == FATTR4_SUPPORTED_ATTRS) {
            uint32_t words;
            rc = wire_u32(&w, &words);
            if (rc == 0)
                rc = words > w.left / 4 ? -1 : wire_take(&w, 4 * words);
        } else if (a == FATTR4_ACL)
            rc = wire_acl(&w);
        else
            rc = wire_opaque(&w, a == FATTR4_FILEHANDLE ? NFS4_FHSIZE
                                                        : NFS4_OPAQUE_LIMIT);
        if (rc < 0)
            return 0;
    }
    return w.left == 0;
}

nfsstat4 nfs4_attr_compare(const struct nfs4_attr_src *src, const fattr4 *fa)
{
    int beyond;
    uint64_t given = bits_of(&fa->attrmask, &beyond);
    if (beyond || (given & ~SUPPORTED))
        return NFS4ERR_ATTRNOTSUPP;
    if (given & (WRITE_ONLY | BIT(FATTR4_RDATTR_ERROR)))
        return NFS4ERR_INVAL;
    if (!values_wellformed(given, &fa->attr_vals))
        return NFS4ERR_BADXDR;
    fattr4 mine;
    memset(&mine, 0, sizeof(mine));
    nfsstat4 st = nfs4_attr_encode(src, &fa->attrmask, &mine);
    if (st != NFS4_OK)
        return st;
    const attrlist4 *m = &mine.attr_vals, *t = &fa->attr_vals;
    int same = m->attrlist4_len == t->attrlist4_len &&
               memcmp(m->attrlist4_val, t->attrlist4_val,
                      m->attrlist4_len) == 0;
    xdr_free((xdrproc_t)xdr_fattr4, (char *)&mine);
    return same ? NFS4_OK : NFS4ERR_NOT_SAME;
}
