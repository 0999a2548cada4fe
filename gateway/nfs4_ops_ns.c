/* nfs4_ops_ns.c - namespace and attribute operations: ACCESS, CREATE,
 * GETATTR, LINK, NVERIFY, READDIR, READLINK, REMOVE, RENAME, SECINFO,
 * SETATTR and VERIFY.  Each is one or two calls into the metadata core
 * with the caller's AUTH_SYS credentials; the core checks access.  The
 * pseudo-root above the volumes is read-only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "nfs4_data.h"
#include "nfs4_int.h"
#include "nfs4_state.h"
#include "perm.h"

/* ---- ACCESS ---- */

nfsstat4 nfs4_op_access(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    uint32_t want = a->nfs_argop4_u.opaccess.access;
    ACCESS4resok *ok = &r->nfs_resop4_u.opaccess.ACCESS4res_u.resok4;
    struct meta_attr at;
    nfsstat4 st = nfs4_cur_attr(c, &at);
    if (st != NFS4_OK)
        return st;
    /* LOOKUP and DELETE mean something only for directories, EXECUTE
     * only for other objects (RFC 7530 16.1.4); supported says so. */
    uint32_t all = ACCESS4_READ | ACCESS4_MODIFY | ACCESS4_EXTEND |
                   (S_ISDIR(at.mode) ? ACCESS4_LOOKUP | ACCESS4_DELETE
                                     : ACCESS4_EXECUTE);
    want &= all;
    ok->supported = want;
    ok->access = 0;
    if (c->cur.kind == NFS4_FH_ROOT) {
        ok->access = want & (ACCESS4_READ | ACCESS4_LOOKUP);
        return NFS4_OK;
    }
    /* The core decides, with mode bits and ACLs. */
    struct meta *m = c->srv->meta;
    int r_ok = meta_access(m, &c->cred, c->cur.ino, PERM_READ) == 0;
    int w_ok = meta_access(m, &c->cred, c->cur.ino, PERM_WRITE) == 0;
    int x_ok = meta_access(m, &c->cred, c->cur.ino, PERM_EXEC) == 0;
    int dir = S_ISDIR(at.mode);
    if ((want & ACCESS4_READ) && r_ok)
        ok->access |= ACCESS4_READ;
    if ((want & ACCESS4_LOOKUP) && dir && x_ok)
        ok->access |= ACCESS4_LOOKUP;
    if (c->read_only)
        w_ok = 0;                       /* read-only export */
    if ((want & ACCESS4_MODIFY) && w_ok)
        ok->access |= ACCESS4_MODIFY;
    if ((want & ACCESS4_EXTEND) && w_ok)
        ok->access |= ACCESS4_EXTEND;
    if ((want & ACCESS4_DELETE) && dir && w_ok && x_ok)
        ok->access |= ACCESS4_DELETE;
    if ((want & ACCESS4_EXECUTE) && !dir && x_ok)
        ok->access |= ACCESS4_EXECUTE;
    return NFS4_OK;
}

/* ---- GETATTR, VERIFY, NVERIFY ---- */

nfsstat4 nfs4_op_getattr(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    GETATTR4resok *ok = &r->nfs_resop4_u.opgetattr.GETATTR4res_u.resok4;
    struct meta_attr at;
    /* Always fresh: an earlier op of this COMPOUND may have changed it. */
    nfsstat4 st = nfs4_fh_attr(c, &c->cur, &at);
    if (st != NFS4_OK)
        return st;
    nfs4_set_cur(c, &c->cur, &at);
    struct nfs4_attr_src src = { .c = c, .fh = &c->cur, .a = &at };
    return nfs4_attr_encode(&src, &a->nfs_argop4_u.opgetattr.attr_request,
                            &ok->obj_attributes);
}

static nfsstat4 verify(struct nfs4_cctx *c, const fattr4 *fa)
{
    struct meta_attr at;
    nfsstat4 st = nfs4_fh_attr(c, &c->cur, &at);
    if (st != NFS4_OK)
        return st;
    struct nfs4_attr_src src = { .c = c, .fh = &c->cur, .a = &at };
    return nfs4_attr_compare(&src, fa);
}

nfsstat4 nfs4_op_verify(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    return verify(c, &a->nfs_argop4_u.opverify.obj_attributes);
}

nfsstat4 nfs4_op_nverify(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    nfsstat4 st = verify(c, &a->nfs_argop4_u.opnverify.obj_attributes);
    if (st == NFS4_OK)
        return NFS4ERR_SAME;
    return st == NFS4ERR_NOT_SAME ? NFS4_OK : st;
}

/* ---- SETATTR ---- */

/* Applies decoded attributes to the object fh (already checked). */
static nfsstat4 apply_sattr(struct nfs4_cctx *c, const struct nfs4_fh *fh,
                            struct nfs4_sattr *sa)
{
    struct meta_attr at;
    if ((sa->sa.valid & META_SET_SIZE) || sa->has_acl) {
        nfsstat4 st = nfs4_fh_attr(c, fh, &at);
        if (st != NFS4_OK)
            return st;
        if ((sa->sa.valid & META_SET_SIZE) && !S_ISREG(at.mode))
            return S_ISDIR(at.mode) ? NFS4ERR_ISDIR : NFS4ERR_INVAL;
    }
    if (sa->sa.valid & META_SET_SIZE) {
        /* Truncation applies after the writes buffered before it. */
        int rc = nfs4_data_commit(c->srv, fh->ino);
        if (rc < 0)
            return nfs4_errno(rc);
    }
    if (sa->sa.valid || sa->sa.atime.how || sa->sa.mtime.how) {
        int rc = meta_setattr(c->srv->meta, &c->cred, fh->ino, &sa->sa, &at);
        if (rc < 0)
            return nfs4_errno(rc);
        nfs4_fix_attr(c->srv, &at);
    }
    if (sa->has_acl)
        return nfs4_acl_set(c, fh, &at, &sa->acl);
    return NFS4_OK;
}

nfsstat4 nfs4_op_setattr(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    SETATTR4args *args = &a->nfs_argop4_u.opsetattr;
    SETATTR4res *res = &r->nfs_resop4_u.opsetattr;
    struct nfs4_sattr sa;
    if (c->cur.kind == NFS4_FH_ROOT)
        return NFS4ERR_ROFS;
    nfsstat4 st = nfs4_sattr_decode(&args->obj_attributes, &sa);
    if (st != NFS4_OK)
        return st;
    if (sa.sa.valid & META_SET_SIZE) {
        /* Size is a regular file's (ISDIR or INVAL otherwise) before the
         * stateid is judged. */
        struct meta_attr at;
        st = nfs4_cur_file(c, &at);
        if (st == NFS4_OK)
            st = nfs4_may_write(c, &args->stateid);
    }
    if (st == NFS4_OK)
        st = apply_sattr(c, &c->cur, &sa);
    c->cur_attr_ok = 0;
    if (st == NFS4_OK && nfs4_bitmap_copy(&sa.set, &res->attrsset) < 0)
        st = NFS4ERR_RESOURCE;
    nfs4_sattr_free(&sa);
    return st;
}

/* ---- CREATE ---- */

static nfsstat4 create_obj(struct nfs4_cctx *c, const CREATE4args *args,
                           const struct nfs4_sattr *sa, struct meta_attr *out,
                           struct meta_dirchange *dc)
{
    const component4 *name = &args->objname;
    struct meta_mk mk = { .name = name->utf8string_val,
                          .namelen = name->utf8string_len, .umask = 0 };
    uint32_t perm = (sa->sa.valid & META_SET_MODE) ? sa->sa.mode : 0;
    uint64_t dir = c->cur.ino;
    struct meta *m = c->srv->meta;
    int rc;

    switch (args->objtype.type) {
    case NF4DIR:
        mk.mode = S_IFDIR | ((sa->sa.valid & META_SET_MODE) ? perm : 0777);
        rc = meta_mkdir(m, &c->cred, dir, &mk, out, dc);
        break;
    case NF4LNK: {
        const linktext4 *t = &args->objtype.createtype4_u.linkdata;
        if (t->utf8string_len == 0)
            return NFS4ERR_INVAL;
        if (t->utf8string_len > META_PATH_MAX)
            return NFS4ERR_NAMETOOLONG;
        if (memchr(t->utf8string_val, '\0', t->utf8string_len))
            return NFS4ERR_INVAL;
        char *target = malloc(t->utf8string_len + 1);
        if (!target)
            return NFS4ERR_RESOURCE;
        memcpy(target, t->utf8string_val, t->utf8string_len);
        target[t->utf8string_len] = '\0';
        rc = meta_symlink(m, &c->cred, dir, mk.name, mk.namelen, target, out,
                          dc);
        free(target);
        break;
    }
    case NF4BLK:
    case NF4CHR: {
        const specdata4 *d = &args->objtype.createtype4_u.devdata;
        mk.mode = (args->objtype.type == NF4BLK ? S_IFBLK : S_IFCHR) |
                  ((sa->sa.valid & META_SET_MODE) ? perm : 0644);
        mk.rdev = makedev(d->specdata1, d->specdata2);
        rc = meta_mknod(m, &c->cred, dir, &mk, out, dc);
        break;
    }
    case NF4SOCK:
    case NF4FIFO:
        mk.mode = (args->objtype.type == NF4SOCK ? S_IFSOCK : S_IFIFO) |
                  ((sa->sa.valid & META_SET_MODE) ? perm : 0644);
        rc = meta_mknod(m, &c->cred, dir, &mk, out, dc);
        break;
    default:
        return NFS4ERR_BADTYPE;         /* regular files come by OPEN */
    }
    return rc < 0 ? nfs4_errno(rc) : NFS4_OK;
}

nfsstat4 nfs4_op_create(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    CREATE4args *args = &a->nfs_argop4_u.opcreate;
    CREATE4resok *ok = &r->nfs_resop4_u.opcreate.CREATE4res_u.resok4;
    struct meta_attr dir, obj;
    struct meta_dirchange dc;
    nfsstat4 st = nfs4_cur_dir(c, &dir);
    if (st != NFS4_OK)
        return st;
    if (c->cur.kind == NFS4_FH_ROOT)
        return NFS4ERR_ROFS;
    if ((st = nfs4_check_name(&args->objname)) != NFS4_OK)
        return st;
    struct nfs4_sattr sa;
    if ((st = nfs4_sattr_decode(&args->createattrs, &sa)) != NFS4_OK)
        return st;
    st = create_obj(c, args, &sa, &obj, &dc);
    if (st == NFS4_OK) {
        /* What mkdir/mknod do not take: owner, group, times, ACL. */
        struct nfs4_fh fh = { .kind = NFS4_FH_INODE, .vol = c->cur.vol,
                              .ino = obj.ino, .gen = obj.gen };
        struct nfs4_sattr rest = sa;
        rest.sa.valid &= ~(uint32_t)META_SET_MODE;
        if (rest.sa.valid || rest.sa.atime.how || rest.sa.mtime.how ||
            rest.has_acl)
            st = apply_sattr(c, &fh, &rest);
        nfs4_fix_attr(c->srv, &obj);
        if (st == NFS4_OK) {
            nfs4_cinfo(c->srv, &ok->cinfo, &dc, NULL);
            if (nfs4_bitmap_copy(&sa.set, &ok->attrset) < 0)
                st = NFS4ERR_RESOURCE;
            else
                nfs4_set_cur(c, &fh, NULL);
        }
    }
    nfs4_sattr_free(&sa);
    return st;
}

/* ---- LINK, REMOVE, RENAME ---- */

/* The end of a change to the current directory (LINK, REMOVE, the target
 * of RENAME): its new attributes become current, and the change_info
 * spans the change. */
static void dir_changed(struct nfs4_cctx *c, const struct meta_dirchange *dc,
                        change_info4 *ci)
{
    struct meta_attr after;
    nfs4_cinfo(c->srv, ci, dc, &after);
    nfs4_set_cur(c, &c->cur, &after);
}

nfsstat4 nfs4_op_link(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    const component4 *name = &a->nfs_argop4_u.oplink.newname;
    LINK4resok *ok = &r->nfs_resop4_u.oplink.LINK4res_u.resok4;
    struct meta_attr dir, src;
    struct meta_dirchange dc;
    if (!c->has_saved)
        return NFS4ERR_NOFILEHANDLE;
    nfsstat4 st = nfs4_cur_dir(c, &dir);
    if (st != NFS4_OK)
        return st;
    if (c->cur.kind == NFS4_FH_ROOT || c->saved.kind == NFS4_FH_ROOT)
        return c->saved.kind == NFS4_FH_ROOT ? NFS4ERR_ISDIR : NFS4ERR_ROFS;
    if ((st = nfs4_check_name(name)) != NFS4_OK)
        return st;
    if ((st = nfs4_fh_attr(c, &c->saved, &src)) != NFS4_OK)
        return st;
    if (S_ISDIR(src.mode))
        return NFS4ERR_ISDIR;
    if (c->saved.vol != c->cur.vol)
        return NFS4ERR_XDEV;
    int rc = meta_link(c->srv->meta, &c->cred, c->saved.ino, c->cur.ino,
                       name->utf8string_val, name->utf8string_len, &src,
                       &dc);
    if (rc < 0)
        return nfs4_errno(rc);
    dir_changed(c, &dc, &ok->cinfo);
    return NFS4_OK;
}

nfsstat4 nfs4_op_remove(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    const component4 *name = &a->nfs_argop4_u.opremove.target;
    REMOVE4resok *ok = &r->nfs_resop4_u.opremove.REMOVE4res_u.resok4;
    struct meta_attr dir;
    struct meta_dirchange dc;
    nfsstat4 st = nfs4_cur_dir(c, &dir);
    if (st != NFS4_OK)
        return st;
    if (c->cur.kind == NFS4_FH_ROOT)
        return NFS4ERR_ROFS;
    if ((st = nfs4_check_name(name)) != NFS4_OK)
        return st;
    int rc = meta_remove(c->srv->meta, &c->cred, c->cur.ino,
                         name->utf8string_val, name->utf8string_len, &dc);
    if (rc < 0)
        return nfs4_errno(rc);
    dir_changed(c, &dc, &ok->cinfo);
    return NFS4_OK;
}

nfsstat4 nfs4_op_rename(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    RENAME4args *args = &a->nfs_argop4_u.oprename;
    RENAME4resok *ok = &r->nfs_resop4_u.oprename.RENAME4res_u.resok4;
    struct meta_attr sdir, tdir;
    struct meta_dirchange dcs[2];
    if (!c->has_saved)
        return NFS4ERR_NOFILEHANDLE;
    nfsstat4 st = nfs4_cur_dir(c, &tdir);
    if (st != NFS4_OK)
        return st;
    if ((st = nfs4_fh_attr(c, &c->saved, &sdir)) != NFS4_OK)
        return st;
    if (!S_ISDIR(sdir.mode))
        return NFS4ERR_NOTDIR;
    if (c->cur.kind == NFS4_FH_ROOT || c->saved.kind == NFS4_FH_ROOT)
        return NFS4ERR_ROFS;
    if (c->saved.vol != c->cur.vol)
        return NFS4ERR_XDEV;
    if ((st = nfs4_check_name(&args->oldname)) != NFS4_OK ||
        (st = nfs4_check_name(&args->newname)) != NFS4_OK)
        return st;
    int rc = meta_rename(c->srv->meta, &c->cred, c->saved.ino,
                         args->oldname.utf8string_val,
                         args->oldname.utf8string_len, c->cur.ino,
                         args->newname.utf8string_val,
                         args->newname.utf8string_len, 0, dcs);
    /* A target of the other kind, or a non-empty directory, is EXIST
     * for NFS (RFC 7530 16.26.4), not the errno rename(2) gives. */
    if (rc == -ENOTEMPTY || rc == -EISDIR || rc == -ENOTDIR)
        return NFS4ERR_EXIST;
    if (rc < 0)
        return nfs4_errno(rc);
    nfs4_cinfo(c->srv, &ok->source_cinfo, &dcs[0], NULL);
    dir_changed(c, &dcs[1], &ok->target_cinfo);
    return NFS4_OK;
}

/* ---- READLINK, SECINFO ---- */

nfsstat4 nfs4_op_readlink(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    READLINK4resok *ok = &r->nfs_resop4_u.opreadlink.READLINK4res_u.resok4;
    struct meta_attr at;
    nfsstat4 st = nfs4_cur_attr(c, &at);
    if (st != NFS4_OK)
        return st;
    if (!S_ISLNK(at.mode))
        return NFS4ERR_INVAL;           /* RFC 7530 16.25.4 */
    char *buf = malloc(META_PATH_MAX + 1);
    if (!buf)
        return NFS4ERR_RESOURCE;
    int n = meta_readlink(c->srv->meta, &c->cred, c->cur.ino, buf,
                          META_PATH_MAX + 1);
    if (n < 0) {
        free(buf);
        return nfs4_errno(n);
    }
    ok->link.utf8string_val = buf;
    ok->link.utf8string_len = (u_int)n;
    return NFS4_OK;
}

nfsstat4 nfs4_op_secinfo(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    const component4 *name = &a->nfs_argop4_u.opsecinfo.name;
    SECINFO4resok *ok = &r->nfs_resop4_u.opsecinfo.SECINFO4res_u.resok4;
    struct meta_attr dir, at;
    nfsstat4 st = nfs4_cur_dir(c, &dir);
    if (st != NFS4_OK)
        return st;
    if ((st = nfs4_check_name(name)) != NFS4_OK)
        return st;
    if (c->cur.kind == NFS4_FH_ROOT) {
        char vname[META_NAME_MAX + 1];
        struct meta_volume mv;
        memcpy(vname, name->utf8string_val, name->utf8string_len);
        vname[name->utf8string_len] = '\0';
        if (meta_volume_get(c->srv->meta, vname, &mv) < 0)
            return NFS4ERR_NOENT;
    } else {
        int rc = meta_lookup(c->srv->meta, &c->cred, c->cur.ino,
                             name->utf8string_val, name->utf8string_len, &at);
        if (rc < 0)
            return nfs4_errno(rc);
    }
    /* Every object is served with AUTH_SYS (and AUTH_NONE as nobody). */
    ok->SECINFO4resok_val = calloc(2, sizeof(secinfo4));
    if (!ok->SECINFO4resok_val)
        return NFS4ERR_RESOURCE;
    ok->SECINFO4resok_len = 2;
    ok->SECINFO4resok_val[0].flavor = AUTH_SYS;
    ok->SECINFO4resok_val[1].flavor = AUTH_NONE;
    return NFS4_OK;
}

/* ---- READDIR ---- */

/* Building one READDIR reply. */
struct rd {
    struct nfs4_cctx *c;
    const READDIR4args *args;
    int want_attrs;
    entry4 *head, **tail;
    u_int n;
    size_t used, dirused;               /* bytes so far (maxcount, dircount) */
    size_t maxcount, dircount;
    nfsstat4 err;                       /* a failure to report */
};

/* Adds an entry; returns 0 added, 1 full (not added), -1 failed. */
static int rd_add(struct rd *d, const char *name, size_t namelen,
                  const struct nfs4_fh *fh, const struct meta_attr *at,
                  uint64_t cookie)
{
    if (d->n >= NFS4_DIR_ENTRIES)
        return 1;
    entry4 *e = calloc(1, sizeof(*e));
    if (!e) {
        d->err = NFS4ERR_RESOURCE;
        return -1;
    }
    e->cookie = cookie;
    if (d->want_attrs) {
        struct nfs4_attr_src src = { .c = d->c, .fh = fh, .a = at };
        nfsstat4 st = at ? nfs4_attr_encode(&src, &d->args->attr_request,
                                            &e->attrs)
                         : NFS4ERR_STALE;
        if (st != NFS4_OK) {
            /* Asked for rdattr_error: the entry carries its error. */
            xdr_free((xdrproc_t)xdr_fattr4, (char *)&e->attrs);
            memset(&e->attrs, 0, sizeof(e->attrs));
            if (!nfs4_bitmap_isset(&d->args->attr_request,
                                   FATTR4_RDATTR_ERROR)) {
                free(e);
                d->err = st;
                return -1;
            }
            uint32_t w[1] = { 1u << FATTR4_RDATTR_ERROR };
            bitmap4 only = { 1, w };
            struct meta_attr none;
            memset(&none, 0, sizeof(none));
            src.a = &none;
            src.rdattr_error = st;
            if (nfs4_attr_encode(&src, &only, &e->attrs) != NFS4_OK) {
                free(e);
                d->err = NFS4ERR_RESOURCE;
                return -1;
            }
        }
    }
    size_t nlen = (namelen + 3) & ~(size_t)3;
    size_t sz = 8 + 4 + nlen + 4 + 4 * e->attrs.attrmask.bitmap4_len + 4 +
                ((e->attrs.attr_vals.attrlist4_len + 3) & ~3u) + 4;
    if (d->used + sz > d->maxcount ||
        (d->n > 0 && d->dirused + 8 + 4 + nlen > d->dircount)) {
        xdr_free((xdrproc_t)xdr_entry4, (char *)e);
        free(e);
        return 1;
    }
    e->name.utf8string_val = malloc(namelen ? namelen : 1);
    if (!e->name.utf8string_val) {
        xdr_free((xdrproc_t)xdr_entry4, (char *)e);
        free(e);
        d->err = NFS4ERR_RESOURCE;
        return -1;
    }
    memcpy(e->name.utf8string_val, name, namelen);
    e->name.utf8string_len = (u_int)namelen;
    *d->tail = e;
    d->tail = &e->nextentry;
    d->n++;
    d->used += sz;
    d->dirused += 8 + 4 + nlen;
    return 0;
}

static int rd_cb(void *arg, const char *name, size_t namelen, uint64_t ino,
                 uint32_t type, uint64_t cookie, const struct meta_attr *attr)
{
    struct rd *d = arg;
    struct meta_attr at;
    struct nfs4_fh fh = { .kind = NFS4_FH_INODE, .vol = d->c->cur.vol,
                          .ino = ino };
    if (attr) {
        at = *attr;
        nfs4_fix_attr(d->c->srv, &at);
        fh.gen = at.gen;
    }
    int rc = rd_add(d, name, namelen, &fh, attr ? &at : NULL, cookie);
    return rc == 0 ? 0 : 1;
}

/* The pseudo-root lists the volumes; cookie = 3 + index.  Any other
 * cookie is one we never gave (1 and 2 are reserved). */
static nfsstat4 rd_root(struct rd *d, uint64_t cookie, int *eof)
{
    struct meta_volume *mv;
    int n = nfs4_vol_list(d->c->srv, &mv);
    if (n < 0)
        return nfs4_errno(n);
    if (cookie && (cookie < 3 || cookie - 3 >= (uint64_t)n)) {
        free(mv);
        return NFS4ERR_BAD_COOKIE;
    }
    nfsstat4 ret = NFS4_OK;
    *eof = 1;
    for (size_t i = cookie ? (size_t)(cookie - 2) : 0; i < (size_t)n; i++) {
        if (!nfs4_vol_exported(d->c, mv[i].name))
            continue;                   /* hidden from this host */
        struct meta_attr at;
        int rc = meta_getattr(d->c->srv->meta, &d->c->cred, mv[i].root, &at);
        struct nfs4_fh fh = { .kind = NFS4_FH_INODE, .vol = mv[i].id,
                              .ino = mv[i].root };
        if (rc == 0) {
            nfs4_fix_attr(d->c->srv, &at);
            fh.gen = at.gen;
        }
        rc = rd_add(d, mv[i].name, strlen(mv[i].name), &fh,
                    rc == 0 ? &at : NULL, (uint64_t)i + 3);
        if (rc < 0) {
            ret = d->err;
            break;
        }
        if (rc > 0) {
            *eof = 0;
            break;
        }
    }
    free(mv);
    return ret;
}

nfsstat4 nfs4_op_readdir(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    READDIR4args *args = &a->nfs_argop4_u.opreaddir;
    READDIR4resok *ok = &r->nfs_resop4_u.opreaddir.READDIR4res_u.resok4;
    struct meta_attr dir;
    nfsstat4 st = nfs4_cur_dir(c, &dir);
    if (st != NFS4_OK)
        return st;
    /* 1 and 2 are reserved; a start needs no verifier (as Linux's nfsd).
     * Cookies are stable for a directory's life, so ours is always 0. */
    static const verifier4 zero_verf;
    if (args->cookie == 1 || args->cookie == 2 ||
        (args->cookie == 0 &&
         memcmp(args->cookieverf, zero_verf, sizeof(zero_verf)) != 0))
        return NFS4ERR_BAD_COOKIE;
    int want_attrs = 0;
    for (u_int i = 0; i < args->attr_request.bitmap4_len; i++)
        want_attrs |= args->attr_request.bitmap4_val[i] != 0;
    if (nfs4_bitmap_isset(&args->attr_request, FATTR4_TIME_ACCESS_SET) ||
        nfs4_bitmap_isset(&args->attr_request, FATTR4_TIME_MODIFY_SET))
        return NFS4ERR_INVAL;

    struct rd d;
    memset(&d, 0, sizeof(d));
    d.c = c;
    d.args = args;
    d.want_attrs = want_attrs;
    d.tail = &d.head;
    d.maxcount = args->maxcount < NFS4_MAXDIR ? args->maxcount : NFS4_MAXDIR;
    d.dircount = args->dircount ? args->dircount : d.maxcount;
    /* maxcount bounds READDIR4resok (RFC 7530 16.24.4): the verifier,
     * the end marker and eof, then the entries. */
    d.used = 8 + 4 + 4;
    if (d.maxcount < d.used)
        return NFS4ERR_TOOSMALL;

    int eof = 0;
    if (c->cur.kind == NFS4_FH_ROOT) {
        st = rd_root(&d, args->cookie, &eof);
    } else {
        int rc = meta_readdir(c->srv->meta, &c->cred, c->cur.ino,
                              args->cookie, d.want_attrs, rd_cb, &d, &eof);
        if (d.err != NFS4_OK)
            st = d.err;
        else if (rc < 0)
            st = nfs4_errno(rc);
    }
    if (st == NFS4_OK && d.n == 0 && !eof)
        st = NFS4ERR_TOOSMALL;          /* not even one entry fits */
    if (st != NFS4_OK) {
        if (d.head) {
            dirlist4 tmp = { .entries = d.head, .eof = FALSE };
            xdr_free((xdrproc_t)xdr_dirlist4, (char *)&tmp);
        }
        return st;
    }
    memset(ok->cookieverf, 0, sizeof(ok->cookieverf));
    ok->reply.entries = d.head;
    ok->reply.eof = eof ? TRUE : FALSE;
    return NFS4_OK;
}
