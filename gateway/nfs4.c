/* nfs4.c - the NFSv4.0 program: NULL and COMPOUND, the table of
 * operations, the one walker that runs a COMPOUND's operations in order
 * and stops at the first error, the errno -> NFS4ERR_* table, the volume
 * cache with the front end's core sessions, and the reaper thread (lease
 * expiry, session renewal, aged UNSTABLE data).
 *
 * COMPOUND arguments are decoded by our own routine (xdr_nfs4_call) so
 * that an undefined operation number answers NFS4ERR_OP_ILLEGAL and an
 * operation whose arguments do not decode answers NFS4ERR_BADXDR, with
 * the results of the operations before it, as RFC 7530 (15.2) says; only
 * a COMPOUND whose header does not decode gets the RPC GARBAGE_ARGS. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "meta_admin.h"
#include "nfs4.h"
#include "nfs4_data.h"
#include "nfs4_int.h"
#include "nfs4_state.h"

/* ---- the operation table ---- */

#define OPF_FH 1u                       /* needs a current filehandle */
#define OPF_WRITE 2u                    /* changes something (EROFS) */

struct nfs4_op {
    const char *name;
    nfs4_op_fn fn;                      /* NULL: NFS4ERR_NOTSUPP */
    xdrproc_t xdr_args;                 /* NULL: no arguments */
    unsigned flags;
};

#define OP(num, nm, fn, xa, fl) \
    [num] = { nm, fn, (xdrproc_t)(xa), fl }

static const struct nfs4_op ops[] = {
    OP(OP_ACCESS, "ACCESS", nfs4_op_access, xdr_ACCESS4args, OPF_FH),
    OP(OP_CLOSE, "CLOSE", nfs4_op_close, xdr_CLOSE4args, OPF_FH),
    OP(OP_COMMIT, "COMMIT", nfs4_op_commit, xdr_COMMIT4args, OPF_FH),
    OP(OP_CREATE, "CREATE", nfs4_op_create, xdr_CREATE4args,
       OPF_FH | OPF_WRITE),
    /* We hand out no delegations, so there are none to purge or return. */
    OP(OP_DELEGPURGE, "DELEGPURGE", NULL, xdr_DELEGPURGE4args, 0),
    OP(OP_DELEGRETURN, "DELEGRETURN", NULL, xdr_DELEGRETURN4args, 0),
    OP(OP_GETATTR, "GETATTR", nfs4_op_getattr, xdr_GETATTR4args, OPF_FH),
    OP(OP_GETFH, "GETFH", nfs4_op_getfh, NULL, OPF_FH),
    OP(OP_LINK, "LINK", nfs4_op_link, xdr_LINK4args, OPF_FH | OPF_WRITE),
    OP(OP_LOCK, "LOCK", nfs4_op_lock, xdr_LOCK4args, OPF_FH),
    OP(OP_LOCKT, "LOCKT", nfs4_op_lockt, xdr_LOCKT4args, OPF_FH),
    OP(OP_LOCKU, "LOCKU", nfs4_op_locku, xdr_LOCKU4args, OPF_FH),
    OP(OP_LOOKUP, "LOOKUP", nfs4_op_lookup, xdr_LOOKUP4args, OPF_FH),
    OP(OP_LOOKUPP, "LOOKUPP", nfs4_op_lookupp, NULL, OPF_FH),
    OP(OP_NVERIFY, "NVERIFY", nfs4_op_nverify, xdr_NVERIFY4args, OPF_FH),
    OP(OP_OPEN, "OPEN", nfs4_op_open, xdr_OPEN4args, OPF_FH),
    /* Named attributes are not supported (named_attr is false). */
    OP(OP_OPENATTR, "OPENATTR", NULL, xdr_OPENATTR4args, OPF_FH),
    OP(OP_OPEN_CONFIRM, "OPEN_CONFIRM", nfs4_op_open_confirm,
       xdr_OPEN_CONFIRM4args, OPF_FH),
    OP(OP_OPEN_DOWNGRADE, "OPEN_DOWNGRADE", nfs4_op_open_downgrade,
       xdr_OPEN_DOWNGRADE4args, OPF_FH),
    OP(OP_PUTFH, "PUTFH", nfs4_op_putfh, xdr_PUTFH4args, 0),
    /* The public filehandle is the root one (RFC 7530 16.19). */
    OP(OP_PUTPUBFH, "PUTPUBFH", nfs4_op_putrootfh, NULL, 0),
    OP(OP_PUTROOTFH, "PUTROOTFH", nfs4_op_putrootfh, NULL, 0),
    OP(OP_READ, "READ", nfs4_op_read, xdr_READ4args, OPF_FH),
    OP(OP_READDIR, "READDIR", nfs4_op_readdir, xdr_READDIR4args, OPF_FH),
    OP(OP_READLINK, "READLINK", nfs4_op_readlink, NULL, OPF_FH),
    OP(OP_REMOVE, "REMOVE", nfs4_op_remove, xdr_REMOVE4args,
       OPF_FH | OPF_WRITE),
    OP(OP_RENAME, "RENAME", nfs4_op_rename, xdr_RENAME4args,
       OPF_FH | OPF_WRITE),
    OP(OP_RENEW, "RENEW", nfs4_op_renew, xdr_RENEW4args, 0),
    OP(OP_RESTOREFH, "RESTOREFH", nfs4_op_restorefh, NULL, 0),
    OP(OP_SAVEFH, "SAVEFH", nfs4_op_savefh, NULL, OPF_FH),
    OP(OP_SECINFO, "SECINFO", nfs4_op_secinfo, xdr_SECINFO4args, OPF_FH),
    OP(OP_SETATTR, "SETATTR", nfs4_op_setattr, xdr_SETATTR4args,
       OPF_FH | OPF_WRITE),
    OP(OP_SETCLIENTID, "SETCLIENTID", nfs4_op_setclientid,
       xdr_SETCLIENTID4args, 0),
    OP(OP_SETCLIENTID_CONFIRM, "SETCLIENTID_CONFIRM",
       nfs4_op_setclientid_confirm, xdr_SETCLIENTID_CONFIRM4args, 0),
    OP(OP_VERIFY, "VERIFY", nfs4_op_verify, xdr_VERIFY4args, OPF_FH),
    OP(OP_WRITE, "WRITE", nfs4_op_write, xdr_WRITE4args,
       OPF_FH | OPF_WRITE),
    OP(OP_RELEASE_LOCKOWNER, "RELEASE_LOCKOWNER", nfs4_op_release_lockowner,
       xdr_RELEASE_LOCKOWNER4args, 0),
};

static const struct nfs4_op *op_get(uint32_t num)
{
    if (num >= sizeof(ops) / sizeof(ops[0]) || !ops[num].name)
        return NULL;
    return &ops[num];
}

/* ---- COMPOUND arguments ---- */

/* COMPOUND4args plus where and why decoding stopped. */
struct nfs4_call {
    COMPOUND4args a;                    /* argarray: the ops decoded */
    nfsstat4 stop;                      /* NFS4_OK: all decoded */
    nfs_opnum4 stop_op;                 /* the op that stopped it */
};

static bool_t call_decode_ops(XDR *x, struct nfs4_call *c, u_int n)
{
    u_int cap = n < NFS4_MAX_OPS ? n : NFS4_MAX_OPS;
    c->a.argarray.argarray_val = calloc(cap ? cap : 1, sizeof(nfs_argop4));
    if (!c->a.argarray.argarray_val)
        return FALSE;
    for (u_int i = 0; i < n; i++) {
        u_int num;
        if (!xdr_u_int(x, &num)) {
            c->stop = NFS4ERR_BADXDR;
            c->stop_op = OP_ILLEGAL;
            return TRUE;
        }
        const struct nfs4_op *op = op_get(num);
        if (!op) {
            c->stop = NFS4ERR_OP_ILLEGAL;
            c->stop_op = OP_ILLEGAL;
            return TRUE;
        }
        if (i == cap) {                 /* too many operations */
            c->stop = NFS4ERR_RESOURCE;
            c->stop_op = (nfs_opnum4)num;
            return TRUE;
        }
        nfs_argop4 *arg = &c->a.argarray.argarray_val[i];
        arg->argop = (nfs_opnum4)num;
        if (op->xdr_args && !op->xdr_args(x, &arg->nfs_argop4_u)) {
            xdr_free((xdrproc_t)xdr_nfs_argop4, (char *)arg);
            memset(arg, 0, sizeof(*arg));
            c->stop = NFS4ERR_BADXDR;
            c->stop_op = (nfs_opnum4)num;
            return TRUE;
        }
        c->a.argarray.argarray_len = i + 1;
    }
    return TRUE;
}

/* The server's decoder (and freer) of COMPOUND arguments. */
static bool_t xdr_nfs4_call(XDR *x, struct nfs4_call *c)
{
    switch (x->x_op) {
    case XDR_ENCODE:
        return xdr_COMPOUND4args(x, &c->a);
    case XDR_FREE:
        return xdr_COMPOUND4args(x, &c->a);
    case XDR_DECODE:
        break;
    }
    u_int n;
    if (!xdr_utf8str_cs(x, &c->a.tag) || !xdr_u_int(x, &c->a.minorversion) ||
        !xdr_u_int(x, &n))
        return FALSE;
    c->stop = NFS4_OK;
    if (c->a.minorversion != 0)
        return TRUE;                    /* answered without looking */
    return call_decode_ops(x, c, n);
}

/* ---- errors and names ---- */

nfsstat4 nfs4_errno(int err)
{
    static const struct { int err; nfsstat4 st; } map[] = {
        { EPERM, NFS4ERR_PERM },         { ENOENT, NFS4ERR_NOENT },
        { EIO, NFS4ERR_IO },             { ENXIO, NFS4ERR_NXIO },
        { EACCES, NFS4ERR_ACCESS },      { EEXIST, NFS4ERR_EXIST },
        { EXDEV, NFS4ERR_XDEV },         { ENOTDIR, NFS4ERR_NOTDIR },
        { EISDIR, NFS4ERR_ISDIR },       { EINVAL, NFS4ERR_INVAL },
        { EFBIG, NFS4ERR_FBIG },         { ENOSPC, NFS4ERR_NOSPC },
        { EROFS, NFS4ERR_ROFS },         { EMLINK, NFS4ERR_MLINK },
        { ENAMETOOLONG, NFS4ERR_NAMETOOLONG },
        { ENOTEMPTY, NFS4ERR_NOTEMPTY }, { EDQUOT, NFS4ERR_DQUOT },
        { ESTALE, NFS4ERR_STALE },       { EAGAIN, NFS4ERR_DELAY },
        { EBUSY, NFS4ERR_DELAY },        { ENOMEM, NFS4ERR_RESOURCE },
        { ENOSYS, NFS4ERR_NOTSUPP },     { EOPNOTSUPP, NFS4ERR_NOTSUPP },
        { ELOOP, NFS4ERR_SYMLINK },      { EDEADLK, NFS4ERR_DEADLOCK },
        { EOVERFLOW, NFS4ERR_INVAL },    { ERANGE, NFS4ERR_INVAL },
        { E2BIG, NFS4ERR_TOOSMALL },     { ENODATA, NFS4ERR_NOENT },
        { EBADF, NFS4ERR_BAD_STATEID },  { ETIMEDOUT, NFS4ERR_DELAY },
    };
    if (err < 0)
        err = -err;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].err == err)
            return map[i].st;
    return NFS4ERR_SERVERFAULT;
}

nfsstat4 nfs4_check_name(const component4 *name)
{
    u_int n = name->utf8string_len;
    const char *s = name->utf8string_val;
    if (n == 0)
        return NFS4ERR_INVAL;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return NFS4ERR_BADNAME;
    if (memchr(s, '/', n) || memchr(s, '\0', n))
        return NFS4ERR_BADCHAR;
    if (n > META_NAME_MAX)
        return NFS4ERR_NAMETOOLONG;
    return NFS4_OK;
}

/* ---- time and grace ---- */

int64_t nfs4_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

int nfs4_in_grace(const struct nfs4_server *s)
{
    return nfs4_now() < s->grace_end;
}

/* The client name of the front end's core sessions. */
#define SESSION_NAME "nfs4"

/* ---- volumes ---- */

static struct nfs4_vol *vol_find(struct nfs4_server *s, uint64_t id)
{
    for (size_t i = 0; i < s->nvols; i++)
        if (s->vols[i].id == id)
            return &s->vols[i];
    return NULL;
}

/* Caches mv (vol_mu held). */
static int vol_add(struct nfs4_server *s, const struct meta_volume *mv)
{
    if (vol_find(s, mv->id))
        return 0;
    struct nfs4_vol *nv = realloc(s->vols, (s->nvols + 1) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    s->vols = nv;
    struct nfs4_vol *v = &nv[s->nvols++];
    memset(v, 0, sizeof(*v));
    v->id = mv->id;
    v->root = mv->root;
    v->block_size = mv->block_size;
    memcpy(v->name, mv->name, sizeof(v->name));
    return 0;
}

int nfs4_vol_of_ino(struct nfs4_server *s, uint64_t ino, struct nfs4_vol *out)
{
    struct meta_volume mv;
    int rc = meta_volume_of(s->meta, ino, &mv);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->vol_mu);
    rc = vol_add(s, &mv);
    if (rc == 0)
        *out = *vol_find(s, mv.id);
    pthread_mutex_unlock(&s->vol_mu);
    return rc;
}

int nfs4_vol_list(struct nfs4_server *s, struct meta_volume **out)
{
    *out = calloc(NFS4_MAX_VOLUMES, sizeof(**out));
    if (!*out)
        return -ENOMEM;
    int n = meta_volume_list(s->meta, *out, NFS4_MAX_VOLUMES);
    if (n < 0) {
        free(*out);
        *out = NULL;
    }
    return n;
}

int nfs4_vol_get(struct nfs4_server *s, uint64_t id, struct nfs4_vol *out)
{
    pthread_mutex_lock(&s->vol_mu);
    struct nfs4_vol *v = vol_find(s, id);
    if (v)
        *out = *v;
    pthread_mutex_unlock(&s->vol_mu);
    if (v)
        return 0;
    /* Not cached yet: find it among the volumes. */
    struct meta_volume *mv;
    int n = nfs4_vol_list(s, &mv);
    if (n < 0)
        return n;
    int rc = -ESTALE;
    for (int i = 0; i < n; i++)
        if (mv[i].id == id) {
            rc = nfs4_vol_of_ino(s, mv[i].root, out);
            break;
        }
    free(mv);
    return rc;
}

/* Opens the front end's session on v (vol_mu held). */
static int vol_open_session(struct nfs4_server *s, struct nfs4_vol *v)
{
    struct meta_cred root = { .uid = 0, .gid = 0 };
    struct meta_volume mv;
    uint64_t session;
    int rc = meta_session_open(s->meta, v->name, SESSION_NAME, "gateway",
                               &root, &session, &mv);
    if (rc < 0) {
        log_err("nfs4: cannot open a session on volume %s: %d", v->name, rc);
        return rc;
    }
    if (session > UINT32_MAX)
        log_warn("nfs4: session id %llu exceeds 32 bits",
                 (unsigned long long)session);
    v->session = session;
    v->counter = 0;
    return 0;
}

int nfs4_vol_session(struct nfs4_server *s, uint64_t id, uint64_t *session)
{
    struct nfs4_vol tmp;
    int rc = nfs4_vol_get(s, id, &tmp);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->vol_mu);
    struct nfs4_vol *v = vol_find(s, id);
    rc = v ? 0 : -ESTALE;
    if (v && !v->session)
        rc = vol_open_session(s, v);
    if (rc == 0)
        *session = v->session;
    pthread_mutex_unlock(&s->vol_mu);
    return rc;
}

int nfs4_new_version(struct nfs4_server *s, uint64_t id, uint64_t *version)
{
    uint64_t session;
    int rc = nfs4_vol_session(s, id, &session);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->vol_mu);
    struct nfs4_vol *v = vol_find(s, id);
    /* The counter is the lower 32 bits: a session that used them all
     * makes way for a new one (versions are never reused). */
    if (v->counter == UINT32_MAX)
        rc = vol_open_session(s, v);
    if (rc == 0)
        *version = v->session << 32 | ++v->counter;
    pthread_mutex_unlock(&s->vol_mu);
    return rc;
}

/* Keeps the front end's sessions alive (reaper). */
static void vols_renew(struct nfs4_server *s)
{
    pthread_mutex_lock(&s->vol_mu);
    for (size_t i = 0; i < s->nvols; i++) {
        struct nfs4_vol *v = &s->vols[i];
        if (!v->session)
            continue;
        int rc = meta_session_renew(s->meta, v->session);
        if (rc == -ESTALE) {
            /* It expired (a long stall): its opens are gone in the core. */
            log_warn("nfs4: session %llu of volume %s expired; opening "
                     "another", (unsigned long long)v->session, v->name);
            vol_open_session(s, v);
        } else if (rc < 0) {
            log_warn("nfs4: renewing session of volume %s: %d", v->name, rc);
        }
    }
    pthread_mutex_unlock(&s->vol_mu);
}

/* ---- filehandles and attributes ---- */

void nfs4_fix_attr(struct nfs4_server *s, struct meta_attr *a)
{
    uint64_t end;
    struct meta_time mt;
    uint32_t pending = 0;
    if (S_ISREG(a->mode))
        pending = nfs4_data_pending(s, a->ino, &end, &mt);
    a->change = (a->change << 16) + (pending > 0xffff ? 0xffff : pending);
    if (pending) {
        if (end > a->size)
            a->size = end;
        a->mtime = mt;
        a->ctime = mt;
    }
}

static void root_attr(struct nfs4_server *s, struct meta_attr *a)
{
    memset(a, 0, sizeof(*a));
    a->ino = NFS4_ROOT_FILEID;
    a->mode = S_IFDIR | 0555;
    a->nlink = 2;
    a->size = 4096;
    a->atime.sec = a->mtime.sec = a->ctime.sec = s->boot_sec;
    a->change = (uint64_t)s->boot_sec << 16;
}

nfsstat4 nfs4_fh_attr(struct nfs4_cctx *c, const struct nfs4_fh *fh,
                      struct meta_attr *out)
{
    if (fh->kind == NFS4_FH_ROOT) {
        root_attr(c->srv, out);
        return NFS4_OK;
    }
    int rc = meta_getattr(c->srv->meta, &c->cred, fh->ino, out);
    if (rc == -ENOENT || rc == -ESTALE)
        return NFS4ERR_STALE;
    if (rc < 0)
        return nfs4_errno(rc);
    /* The volume too: the export check trusts the handle's. */
    if (out->gen != fh->gen || out->vol != fh->vol)
        return NFS4ERR_STALE;
    nfs4_fix_attr(c->srv, out);
    return NFS4_OK;
}

void nfs4_set_cur(struct nfs4_cctx *c, const struct nfs4_fh *fh,
                  const struct meta_attr *a)
{
    c->cur = *fh;
    c->has_cur = 1;
    c->cur_attr_ok = a != NULL;
    if (a)
        c->cur_attr = *a;
}

nfsstat4 nfs4_cur_attr(struct nfs4_cctx *c, struct meta_attr *out)
{
    if (!c->cur_attr_ok) {
        nfsstat4 st = nfs4_fh_attr(c, &c->cur, &c->cur_attr);
        if (st != NFS4_OK)
            return st;
        c->cur_attr_ok = 1;
    }
    *out = c->cur_attr;
    return NFS4_OK;
}

nfsstat4 nfs4_cur_dir(struct nfs4_cctx *c, struct meta_attr *out)
{
    nfsstat4 st = nfs4_cur_attr(c, out);
    if (st != NFS4_OK)
        return st;
    if (S_ISDIR(out->mode))
        return NFS4_OK;
    return S_ISLNK(out->mode) ? NFS4ERR_SYMLINK : NFS4ERR_NOTDIR;
}

nfsstat4 nfs4_cur_file(struct nfs4_cctx *c, struct meta_attr *out)
{
    nfsstat4 st = nfs4_cur_attr(c, out);
    if (st != NFS4_OK)
        return st;
    if (S_ISREG(out->mode))
        return NFS4_OK;
    /* Symlinks too: SYMLINK is not among READ's, WRITE's, COMMIT's or
     * the lock operations' errors (RFC 7530 13.2). */
    return S_ISDIR(out->mode) ? NFS4ERR_ISDIR : NFS4ERR_INVAL;
}

void nfs4_cinfo(struct nfs4_server *s, change_info4 *ci,
                const struct meta_dirchange *dc, struct meta_attr *after)
{
    struct meta_attr b = dc->after, a = dc->after;
    b.change = dc->before;
    nfs4_fix_attr(s, &b);
    nfs4_fix_attr(s, &a);
    ci->atomic = TRUE;
    ci->before = b.change;
    ci->after = a.change;
    if (after)
        *after = a;
}

void nfs4_cinfo_same(change_info4 *ci, const struct meta_attr *dir)
{
    ci->atomic = TRUE;
    ci->before = dir->change;
    ci->after = dir->change;
}

/* ---- the walker ---- */

static int op_writes(const struct nfs4_op *op, const nfs_argop4 *a)
{
    if (a->argop == OP_OPEN) {
        const OPEN4args *o = &a->nfs_argop4_u.opopen;
        return (o->share_access & OPEN4_SHARE_ACCESS_WRITE) ||
               o->openhow.opentype == OPEN4_CREATE;
    }
    return (op->flags & OPF_WRITE) != 0;
}

/* With an exports file in force, an operation on an inode is checked
 * against the rule for its volume (the handle names it; the core's
 * attributes confirm it): not exported is NFS4ERR_ACCESS, a change on a
 * read-only export NFS4ERR_ROFS, and the credentials are squashed as the
 * rule says.  The same rules as the native program's. */
static nfsstat4 export_check(struct nfs4_cctx *c, const struct nfs4_op *op,
                             const nfs_argop4 *a)
{
    struct nfs4_server *s = c->srv;
    c->cred = c->req->cred;
    c->read_only = 0;
    if (!(op->flags & OPF_FH) || c->cur.kind != NFS4_FH_INODE ||
        !exports_active(s->exports))
        return NFS4_OK;
    struct nfs4_vol vol;
    int rc = nfs4_vol_get(s, c->cur.vol, &vol);
    if (rc < 0)
        return rc == -ESTALE ? NFS4ERR_STALE : nfs4_errno(rc);
    struct export_rule rule;
    exports_rule(s->exports, vol.name, (struct sockaddr *)&c->req->peer,
                 c->req->peerlen, &rule);
    if (rule.access == EXPORT_DENIED)
        return NFS4ERR_ACCESS;
    c->read_only = rule.access != EXPORT_RW;
    if (c->read_only && op_writes(op, a))
        return NFS4ERR_ROFS;
    export_squash_cred(&rule, &c->cred);
    return NFS4_OK;
}

int nfs4_vol_exported(struct nfs4_cctx *c, const char *name)
{
    struct export_rule rule;
    exports_rule(c->srv->exports, name, (struct sockaddr *)&c->req->peer,
                 c->req->peerlen, &rule);
    return rule.access != EXPORT_DENIED;
}

static nfsstat4 run_op(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    const struct nfs4_op *op = op_get(a->argop);
    if (!op->fn)
        return NFS4ERR_NOTSUPP;
    if ((op->flags & OPF_FH) && !c->has_cur)
        return NFS4ERR_NOFILEHANDLE;
    nfsstat4 st = export_check(c, op, a);
    if (st != NFS4_OK)
        return st;
    c->arg = a;
    return op->fn(c, a, r);
}

static enum rpc_verdict proc_null(struct rpc_req *req, void *args, void *res)
{
    return RPC_REPLY;
}

static enum rpc_verdict proc_compound(struct rpc_req *req, void *args,
                                      void *resp)
{
    struct nfs4_call *call = args;
    COMPOUND4res *res = resp;
    u_int ntag = call->a.tag.utf8string_len;

    if (ntag) {
        res->tag.utf8string_val = malloc(ntag);
        if (!res->tag.utf8string_val)
            return RPC_SYSTEM_ERR;
        memcpy(res->tag.utf8string_val, call->a.tag.utf8string_val, ntag);
        res->tag.utf8string_len = ntag;
    }
    if (call->a.minorversion != 0) {
        res->status = NFS4ERR_MINOR_VERS_MISMATCH;
        return RPC_REPLY;
    }
    u_int nargs = call->a.argarray.argarray_len;
    u_int nres = nargs + (call->stop != NFS4_OK);
    res->resarray.resarray_val = calloc(nres ? nres : 1, sizeof(nfs_resop4));
    if (!res->resarray.resarray_val)
        return RPC_SYSTEM_ERR;

    struct nfs4_cctx c;
    memset(&c, 0, sizeof(c));
    c.srv = req->ctx;
    c.req = req;
    c.cred = req->cred;
    /* One COMPOUND's READs answer at most this much together (RFC 7530
     * 15.2: RESOURCE for one that asks more), or 127 READs of 1 MiB make
     * a 127 MiB reply. */
    c.reply_left = NFS4_REPLY_DATA;

    nfsstat4 st = NFS4_OK;
    for (u_int i = 0; i < nargs && st == NFS4_OK; i++) {
        nfs_argop4 *a = &call->a.argarray.argarray_val[i];
        nfs_resop4 *r = &res->resarray.resarray_val[i];
        r->resop = a->argop;
        st = run_op(&c, a, r);
        *nfs4_res_status(r) = st;
        res->resarray.resarray_len = i + 1;
        if (st != NFS4_OK)
            log_debug("nfs4: %s -> %d", op_get(a->argop)->name, (int)st);
    }
    if (st == NFS4_OK && call->stop != NFS4_OK) {
        nfs_resop4 *r = &res->resarray.resarray_val[nargs];
        r->resop = call->stop_op;
        st = call->stop;
        *nfs4_res_status(r) = st;
        res->resarray.resarray_len = nargs + 1;
        log_debug("nfs4: op %d of a COMPOUND -> %d", (int)nargs, (int)st);
    }
    res->status = st;
    return RPC_REPLY;
}

static const struct rpc_proc procs[] = {
    [NFSPROC4_NULL] = { "NULL", RPC_XDR_VOID, 0,
                        RPC_XDR_VOID, 0, proc_null },
    [NFSPROC4_COMPOUND] = { "COMPOUND", (xdrproc_t)xdr_nfs4_call,
                            sizeof(struct nfs4_call),
                            (xdrproc_t)xdr_COMPOUND4res, sizeof(COMPOUND4res),
                            proc_compound },
};

/* ---- an earlier start's sessions ---- */

/* Whether an earlier instance left NFS state behind: its sessions (which
 * the core keeps for a lease after a restart) still hold opens or locks,
 * so clients may come to reclaim them.  A clean stop closes them.  The
 * sessions are noted so the reaper can end them with the grace period. */
static int earlier_state(struct nfs4_server *s)
{
    struct meta_admin_session *ss;
    size_t n;
    if (meta_admin_session_list(s->meta, &ss, &n) < 0)
        return 1;                       /* cannot tell: assume so */
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ss[i].client_name, SESSION_NAME) != 0)
            continue;
        if (ss[i].opens || ss[i].locks)
            found = 1;
        uint64_t *no = realloc(s->old_sessions,
                               (s->nold + 1) * sizeof(*no));
        if (no) {
            s->old_sessions = no;
            s->old_sessions[s->nold++] = ss[i].id;
        }
    }
    free(ss);
    return found;
}

/* Once the grace period is over, what the earlier instance held is of no
 * use to anyone: its sessions end (with their opens and locks). */
static void end_old_sessions(struct nfs4_server *s)
{
    pthread_mutex_lock(&s->vol_mu);
    uint64_t *old = s->old_sessions;
    size_t n = s->nold;
    s->old_sessions = NULL;
    s->nold = 0;
    pthread_mutex_unlock(&s->vol_mu);
    for (size_t i = 0; i < n; i++) {
        int rc = meta_session_close(s->meta, old[i]);
        if (rc < 0 && rc != -ESTALE)
            log_warn("nfs4: ending session %llu of an earlier start: %d",
                     (unsigned long long)old[i], rc);
    }
    free(old);
}

size_t nfs4_old_sessions(struct nfs4_server *s, uint64_t *out, size_t max)
{
    pthread_mutex_lock(&s->vol_mu);
    size_t n = s->nold < max ? s->nold : max;
    memcpy(out, s->old_sessions, n * sizeof(*out));
    pthread_mutex_unlock(&s->vol_mu);
    return n;
}

static void server_free(struct nfs4_server *s)
{
    if (s->reaper_started) {
        pthread_mutex_lock(&s->reap_mu);
        s->stop = 1;
        pthread_cond_signal(&s->reap_cv);
        pthread_mutex_unlock(&s->reap_mu);
        pthread_join(s->reaper, NULL);
    }
    if (s->wc)
        nfs4_data_destroy(s);
    if (s->state)
        nfs4_state_destroy(s);
    for (size_t i = 0; i < s->nvols; i++)
        if (s->vols[i].session)
            meta_session_close(s->meta, s->vols[i].session);
    free(s->vols);
    free(s->old_sessions);
    pthread_mutex_destroy(&s->vol_mu);
    pthread_mutex_destroy(&s->reap_mu);
    pthread_cond_destroy(&s->reap_cv);
    free(s);
}

/* ---- the reaper ---- */

static void *reaper_main(void *arg)
{
    struct nfs4_server *s = arg;
    int64_t last_renew = nfs4_now();
    uint32_t renew_every = s->lease_secs / 3 ? s->lease_secs / 3 : 1;

    pthread_mutex_lock(&s->reap_mu);
    while (!s->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->reap_cv, &s->reap_mu, &ts);
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->reap_mu);
        int64_t now = nfs4_now();
        if (now >= s->grace_end)
            end_old_sessions(s);
        nfs4_state_reap(s, now);
        nfs4_data_commit_aged(s, 2);
        if (now - last_renew >= renew_every) {
            vols_renew(s);
            last_renew = now;
        }
        pthread_mutex_lock(&s->reap_mu);
    }
    pthread_mutex_unlock(&s->reap_mu);
    return NULL;
}

/* ---- start and stop ---- */

int nfs4_program_init(struct meta *m, struct store *st,
                      const struct nfs4_opts *opts, struct rpc_program *out)
{
    struct nfs4_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->meta = m;
    s->store = st;
    s->exports = opts ? opts->exports : NULL;
    s->lease_secs = opts && opts->lease_secs ? opts->lease_secs
                                             : meta_lease_secs(m);
    if (s->lease_secs == 0)
        s->lease_secs = 30;
    /* A grace period only when there can be something to reclaim. */
    int32_t grace = opts ? opts->grace_secs : -1;
    if (grace < 0)
        grace = (int32_t)s->lease_secs;
    if (!earlier_state(s))
        grace = 0;
    s->grace_end = nfs4_now() + grace;
    s->boot_sec = time(NULL);
    /* The boot id tells our clientids and stateids from an earlier
     * instance's (STALE_CLIENTID, STALE_STATEID); the write verifier
     * changes on every start so clients resend UNSTABLE data we lost. */
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
        rnd = (uint32_t)clock();
    s->boot_id = (uint32_t)s->boot_sec ^ (rnd & 0xffff0000u);
    if (s->boot_id == 0)
        s->boot_id = 1;
    memcpy(s->write_verf, &s->boot_sec, 4);
    memcpy(s->write_verf + 4, &rnd, 4);
    pthread_mutex_init(&s->vol_mu, NULL);
    pthread_mutex_init(&s->reap_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->reap_cv, &ca);
    pthread_condattr_destroy(&ca);

    int rc = nfs4_state_create(s);
    if (rc == 0)
        rc = nfs4_data_create(s);
    if (rc == 0) {
        rc = -pthread_create(&s->reaper, NULL, reaper_main, s);
        s->reaper_started = rc == 0;
    }
    if (rc < 0) {
        server_free(s);
        return rc;
    }
    memset(out, 0, sizeof(*out));
    out->prog = NFS4_PROGRAM;
    out->vers = NFS_V4;
    out->procs = procs;
    out->nprocs = sizeof(procs) / sizeof(procs[0]);
    out->ctx = s;
    log_notice("nfs4: serving NFSv4.0, lease %u s, grace %d s", s->lease_secs,
             (int)grace);
    return 0;
}

void nfs4_program_fini(struct rpc_program *p)
{
    if (p && p->ctx) {
        server_free(p->ctx);
        p->ctx = NULL;
    }
}
