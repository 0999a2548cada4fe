/* nfs4_ops_fh.c - the operations that move the current filehandle:
 * PUTFH, PUTROOTFH (and PUTPUBFH), GETFH, SAVEFH, RESTOREFH, LOOKUP and
 * LOOKUPP.  Below the pseudo-root, LOOKUP names volumes; LOOKUPP from a
 * volume's root goes back up to it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nfs4_int.h"

nfsstat4 nfs4_op_putfh(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    const nfs_fh4 *h = &a->nfs_argop4_u.opputfh.object;
    struct nfs4_fh fh;
    struct meta_attr at;
    nfsstat4 st = nfs4_fh_unpack(h->nfs_fh4_val, h->nfs_fh4_len, &fh);
    if (st != NFS4_OK)
        return st;
    /* An unknown or reused inode is STALE here, not at some later op. */
    st = nfs4_fh_attr(c, &fh, &at);
    if (st != NFS4_OK)
        return st;
    nfs4_set_cur(c, &fh, &at);
    return NFS4_OK;
}

nfsstat4 nfs4_op_putrootfh(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    struct nfs4_fh fh;
    nfs4_fh_root(&fh);
    nfs4_set_cur(c, &fh, NULL);
    return NFS4_OK;
}

nfsstat4 nfs4_op_getfh(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    GETFH4resok *ok = &r->nfs_resop4_u.opgetfh.GETFH4res_u.resok4;
    return nfs4_fh_pack(&c->cur, &ok->object) < 0 ? NFS4ERR_RESOURCE
                                                   : NFS4_OK;
}

nfsstat4 nfs4_op_savefh(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    c->saved = c->cur;
    c->has_saved = 1;
    return NFS4_OK;
}

nfsstat4 nfs4_op_restorefh(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    if (!c->has_saved)
        return NFS4ERR_RESTOREFH;
    nfs4_set_cur(c, &c->saved, NULL);
    return NFS4_OK;
}

/* LOOKUP in the pseudo-root: a volume by name. */
static nfsstat4 lookup_volume(struct nfs4_cctx *c, const component4 *name)
{
    char vname[META_NAME_MAX + 1];
    memcpy(vname, name->utf8string_val, name->utf8string_len);
    vname[name->utf8string_len] = '\0';
    struct meta_volume mv;
    int rc = meta_volume_get(c->srv->meta, vname, &mv);
    if (rc < 0)
        return rc == -ESTALE ? NFS4ERR_NOENT : nfs4_errno(rc);
    if (!nfs4_vol_exported(c, mv.name))
        return NFS4ERR_NOENT;           /* as if it were not there */
    struct meta_attr at;
    rc = meta_getattr(c->srv->meta, &c->cred, mv.root, &at);
    if (rc < 0)
        return nfs4_errno(rc);
    nfs4_fix_attr(c->srv, &at);
    struct nfs4_fh fh = { .kind = NFS4_FH_INODE, .vol = mv.id,
                          .ino = mv.root, .gen = at.gen };
    nfs4_set_cur(c, &fh, &at);
    return NFS4_OK;
}

nfsstat4 nfs4_op_lookup(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    const component4 *name = &a->nfs_argop4_u.oplookup.objname;
    struct meta_attr dir, at;
    nfsstat4 st = nfs4_cur_dir(c, &dir);
    if (st != NFS4_OK)
        return st;
    if ((st = nfs4_check_name(name)) != NFS4_OK)
        return st;
    if (c->cur.kind == NFS4_FH_ROOT)
        return lookup_volume(c, name);
    int rc = meta_lookup(c->srv->meta, &c->cred, c->cur.ino,
                         name->utf8string_val, name->utf8string_len, &at);
    if (rc < 0)
        return nfs4_errno(rc);
    nfs4_fix_attr(c->srv, &at);
    struct nfs4_fh fh = { .kind = NFS4_FH_INODE, .vol = c->cur.vol,
                          .ino = at.ino, .gen = at.gen };
    nfs4_set_cur(c, &fh, &at);
    return NFS4_OK;
}

nfsstat4 nfs4_op_lookupp(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    struct meta_attr dir, at;
    nfsstat4 st = nfs4_cur_dir(c, &dir);
    if (st == NFS4ERR_SYMLINK)
        return NFS4ERR_NOTDIR;          /* not among LOOKUPP's errors */
    if (st != NFS4_OK)
        return st;
    if (c->cur.kind == NFS4_FH_ROOT)
        return NFS4ERR_NOENT;
    struct nfs4_vol v;
    int rc = nfs4_vol_get(c->srv, c->cur.vol, &v);
    if (rc < 0)
        return rc == -ESTALE ? NFS4ERR_STALE : nfs4_errno(rc);
    if (v.root == c->cur.ino) {
        struct nfs4_fh root;
        nfs4_fh_root(&root);
        nfs4_set_cur(c, &root, NULL);
        return NFS4_OK;
    }
    rc = meta_lookup(c->srv->meta, &c->cred, c->cur.ino, "..", 2, &at);
    if (rc < 0)
        return nfs4_errno(rc);
    nfs4_fix_attr(c->srv, &at);
    struct nfs4_fh fh = { .kind = NFS4_FH_INODE, .vol = c->cur.vol,
                          .ino = at.ino, .gen = at.gen };
    nfs4_set_cur(c, &fh, &at);
    return NFS4_OK;
}
