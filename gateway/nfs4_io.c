/* nfs4_io.c - OPEN, OPEN_CONFIRM, OPEN_DOWNGRADE, CLOSE, READ, WRITE and
 * COMMIT.
 *
 * OPEN creates with meta_create or opens with meta_open_file, counting
 * the open in the core for the front end's session of the volume, so an
 * unlinked file stays readable until its last CLOSE (or its client's
 * lease ends); CLOSE is meta_release.  Each open stateid holds exactly
 * one such count; an OPEN that upgrades a stateid only checks access.
 * Share reservations (deny modes) are checked among our own opens.  New
 * open-owners must confirm (OPEN4_RESULT_CONFIRM).  During the grace
 * period after a start only reclaims (CLAIM_PREVIOUS) may open.
 *
 * UNSTABLE writes are buffered (nfs4_data.c) and made durable by COMMIT,
 * by CLOSE, or after two seconds by the reaper; DATA_SYNC and FILE_SYNC
 * writes are committed before the reply and answered FILE_SYNC4. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "nfs4_data.h"
#include "nfs4_int.h"
#include "nfs4_state.h"
#include "perm.h"

/* Ends a seqid-bearing op: the status goes into r and, when it advances
 * the owner's seqid, the reply is kept for a retransmission. */
static nfsstat4 seq_done(struct nfs4_owner *ow, seqid4 seqid, nfsstat4 st,
                         nfs_resop4 *r, struct nfs4_cctx *c)
{
    *nfs4_res_status(r) = st;
    if (nfs4_seq_advances(st))
        nfs4_seq_record(ow, seqid, r, c);
    return st;
}

/* ---- OPEN ---- */

/* One OPEN being worked out. */
struct op_open {
    struct nfs4_cctx *c;
    OPEN4args *args;
    struct nfs4_owner *ow;
    struct nfs4_fh dirfh;
    struct meta_attr dir_before;
    struct meta_dirchange dir_change;   /* when created */
    struct nfs4_sattr sa;
    int have_sa;
    nfsstat4 sa_status;                 /* of decoding sa (open_prepare) */
    uint64_t committed_ino;             /* by open_prepare: the file whose */
    int commit_rc;                      /* buffered writes it committed */
    uint64_t attrset;                   /* bits of what creating set */
    struct nfs4_fh fh;                  /* the file opened */
    struct meta_attr attr;
    int created;
};

static uint32_t open_flags(uint32_t access)
{
    switch (access & OPEN4_SHARE_ACCESS_BOTH) {
    case OPEN4_SHARE_ACCESS_READ:  return O_RDONLY;
    case OPEN4_SHARE_ACCESS_WRITE: return O_WRONLY;
    default:                       return O_RDWR;
    }
}

/* OPEN of what is not a regular file: ISDIR, else SYMLINK, for special
 * files too (RFC 7530 16.16.5: the client could not know beforehand, so
 * INVAL would be wrong). */
static nfsstat4 type_error(uint32_t mode)
{
    return S_ISDIR(mode) ? NFS4ERR_ISDIR : NFS4ERR_SYMLINK;
}

/* The share reservations on ino against an OPEN's access/deny.  The
 * opener's own count too: a file its earlier OPEN denies reading cannot
 * be opened to read again (RFC 7530 9.9), as Linux's server holds. */
static nfsstat4 share_check(struct nfs4_state *st, uint64_t ino,
                            uint32_t access, uint32_t deny)
{
    struct nfs4_file *f = nfs4_file_get(st, ino, 0, 0);
    for (struct nfs4_stid *sd = f ? f->stids : NULL; sd; sd = sd->fnext) {
        if (sd->is_lock)
            continue;
        if ((sd->deny & access) || (sd->access & deny))
            return NFS4ERR_SHARE_DENIED;
    }
    return NFS4_OK;
}

static struct nfs4_stid *open_stid_of(struct nfs4_state *st, uint64_t ino,
                                      const struct nfs4_owner *ow)
{
    struct nfs4_file *f = nfs4_file_get(st, ino, 0, 0);
    for (struct nfs4_stid *sd = f ? f->stids : NULL; sd; sd = sd->fnext)
        if (!sd->is_lock && sd->owner == ow)
            return sd;
    return NULL;
}

/* The verifier of an EXCLUSIVE4 create lives in atime and mtime. */
#define VERF_ATTRSET ((uint64_t)1 << FATTR4_TIME_ACCESS | \
                      (uint64_t)1 << FATTR4_TIME_MODIFY)

static void verf_times(const verifier4 v, struct meta_setattr *sa)
{
    const unsigned char *p = (const unsigned char *)v;
    sa->atime.how = sa->mtime.how = META_TIME_CLIENT;
    sa->atime.time.sec = (int64_t)((uint32_t)p[0] << 24 | p[1] << 16 |
                                   p[2] << 8 | p[3]);
    sa->mtime.time.sec = (int64_t)((uint32_t)p[4] << 24 | p[5] << 16 |
                                   p[6] << 8 | p[7]);
    sa->atime.time.nsec = sa->mtime.time.nsec = 0;
}

/* Whether the caller lacks the permission its OPEN asks: that answer
 * comes before a share conflict's, as from Linux's server. */
static int open_perm_denied(struct op_open *o)
{
    struct nfs4_cctx *c = o->c;
    uint32_t acc = o->args->share_access;
    return ((acc & OPEN4_SHARE_ACCESS_READ) &&
            meta_access(c->srv->meta, &c->cred, o->attr.ino, PERM_READ) < 0) ||
           ((acc & OPEN4_SHARE_ACCESS_WRITE) &&
            meta_access(c->srv->meta, &c->cred, o->attr.ino, PERM_WRITE) < 0);
}

/* Opens the existing file o->attr (already looked up) for the state. */
static nfsstat4 open_existing(struct op_open *o, uint64_t session, int trunc)
{
    struct nfs4_cctx *c = o->c;
    if (!S_ISREG(o->attr.mode))
        return type_error(o->attr.mode);
    nfsstat4 st = share_check(c->srv->state, o->attr.ino,
                              o->args->share_access, o->args->share_deny);
    if (st != NFS4_OK)
        return open_perm_denied(o) ? NFS4ERR_ACCESS : st;
    if (trunc) {
        /* Buffered writes come before the truncation, not after it.  A
         * commit open_prepare saw fail is not tried again here, with the
         * state mutex held. */
        int rc = o->committed_ino == o->attr.ino ? o->commit_rc : 0;
        if (rc == 0)
            rc = nfs4_data_commit(c->srv, o->attr.ino);
        if (rc < 0)
            return nfs4_errno(rc);
    }
    uint32_t fl = open_flags(o->args->share_access) | (trunc ? O_TRUNC : 0);
    int rc = meta_open_file(c->srv->meta, &c->cred, o->attr.ino, session, fl,
                            &o->attr);
    if (rc < 0)
        return nfs4_errno(rc);
    return NFS4_OK;
}

/* OPEN4_CREATE of a name that exists: GUARDED fails, EXCLUSIVE is a
 * retransmission when the verifier matches, UNCHECKED opens it (size 0 in
 * the attributes truncates). */
static nfsstat4 open_create_existing(struct op_open *o, uint64_t session)
{
    createhow4 *how = &o->args->openhow.openflag4_u.how;
    if (how->mode == GUARDED4)
        return NFS4ERR_EXIST;
    if (how->mode == EXCLUSIVE4) {
        struct meta_setattr v;
        memset(&v, 0, sizeof(v));
        verf_times(how->createhow4_u.createverf, &v);
        if (!S_ISREG(o->attr.mode) ||
            o->attr.atime.sec != v.atime.time.sec ||
            o->attr.mtime.sec != v.mtime.time.sec)
            return NFS4ERR_EXIST;
        o->attrset = VERF_ATTRSET;
        return open_existing(o, session, 0);
    }
    int trunc = o->have_sa && (o->sa.sa.valid & META_SET_SIZE) &&
                o->sa.sa.size == 0;
    return open_existing(o, session, trunc);
}

/* The attributes a new file gets in its create transaction: the
 * verifier of EXCLUSIVE4, else owner, group and times (the mode is the
 * create's own; a size is moot on a new file).  NULL when none. */
static const struct meta_setattr *create_attrs(struct op_open *o,
                                               struct meta_setattr *buf)
{
    createhow4 *how = &o->args->openhow.openflag4_u.how;
    memset(buf, 0, sizeof(*buf));
    if (how->mode == EXCLUSIVE4) {
        verf_times(how->createhow4_u.createverf, buf);
        return buf;
    }
    *buf = o->sa.sa;
    buf->valid &= ~(uint32_t)(META_SET_MODE | META_SET_SIZE);
    return buf->valid || buf->atime.how || buf->mtime.how ? buf : NULL;
}

/* What OPEN reports as set on a new file; sets its size and ACL, the
 * create attributes that take a transaction of their own. */
static nfsstat4 created_attrs(struct op_open *o, uint64_t session)
{
    createhow4 *how = &o->args->openhow.openflag4_u.how;
    if (how->mode == EXCLUSIVE4) {
        o->attrset = VERF_ATTRSET;
        return NFS4_OK;
    }
    if ((o->sa.sa.valid & META_SET_SIZE) && o->sa.sa.size != 0) {
        /* The initial size (RFC 7530 16.16: createattrs are the new
         * file's attributes), set through the open the create made, so
         * the new file's mode does not matter. */
        struct meta_setattr sz = { .valid = META_SET_SIZE,
                                   .size = o->sa.sa.size,
                                   .open_session = session };
        int rc = meta_setattr(o->c->srv->meta, &o->c->cred, o->attr.ino, &sz,
                              &o->attr);
        if (rc < 0)
            return nfs4_errno(rc);
    }
    if (o->sa.has_acl) {
        struct nfs4_fh fh = { .kind = NFS4_FH_INODE, .vol = o->dirfh.vol,
                              .ino = o->attr.ino, .gen = o->attr.gen };
        nfsstat4 st = nfs4_acl_set(o->c, &fh, &o->attr, &o->sa.acl);
        if (st != NFS4_OK)
            return st;
    }
    o->attrset = (uint64_t)o->sa.set_words[1] << 32 | o->sa.set_words[0];
    return NFS4_OK;
}

/* CLAIM_NULL with OPEN4_CREATE.  The exclusive create comes first, with
 * the create attributes: a new name (the common case) costs one
 * transaction.  When it fails the name is looked up, since an existing
 * file answers even where creating would be refused (a directory we may
 * not write to). */
static nfsstat4 open_create(struct op_open *o, uint64_t session)
{
    struct nfs4_cctx *c = o->c;
    createhow4 *how = &o->args->openhow.openflag4_u.how;
    const component4 *name = &o->args->claim.open_claim4_u.file;
    struct meta *m = c->srv->meta;

    if (how->mode == UNCHECKED4 || how->mode == GUARDED4) {
        if (o->sa_status != NFS4_OK)
            return o->sa_status;
    } else if (how->mode != EXCLUSIVE4) {
        return NFS4ERR_INVAL;
    }
    uint32_t perm = 0644;
    if (o->have_sa && (o->sa.sa.valid & META_SET_MODE))
        perm = o->sa.sa.mode;
    struct meta_setattr sa;
    struct meta_mk mk = { .name = name->utf8string_val,
                          .namelen = name->utf8string_len,
                          .mode = S_IFREG | perm, .umask = 0,
                          .sa = create_attrs(o, &sa) };
    for (int tries = 0; tries < 3; tries++) {
        int rc = meta_create(m, &c->cred, o->dirfh.ino, &mk,
                             META_CREATE_EXCL, session, &o->attr, NULL,
                             &o->dir_change);
        if (rc == 0) {
            o->created = 1;
            nfsstat4 st = created_attrs(o, session);
            /* No stateid will hold the open the create counted. */
            if (st != NFS4_OK && session)
                meta_release(m, o->attr.ino, session);
            return st;
        }
        int lrc = meta_lookup(m, &c->cred, o->dirfh.ino,
                              name->utf8string_val, name->utf8string_len,
                              &o->attr);
        if (lrc == 0)
            return open_create_existing(o, session);
        if (lrc != -ENOENT)
            return nfs4_errno(lrc);
        if (rc != -EEXIST)
            return nfs4_errno(rc);
        /* It existed at the create and was gone at the lookup: again. */
    }
    return NFS4ERR_DELAY;
}

/* Works out the file of the OPEN and opens it in the core.  *session is
 * what the core counted (0 when this upgrades an existing stateid). */
static nfsstat4 open_file(struct op_open *o, uint64_t *session)
{
    struct nfs4_cctx *c = o->c;
    OPEN4args *args = o->args;
    struct nfs4_state *st = c->srv->state;
    nfsstat4 ret;

    if (args->claim.claim == CLAIM_PREVIOUS) {
        if (!nfs4_in_grace(c->srv))
            return NFS4ERR_NO_GRACE;
        if (args->openhow.opentype == OPEN4_CREATE)
            return NFS4ERR_INVAL;
        if ((ret = nfs4_cur_attr(c, &o->attr)) != NFS4_OK)
            return ret;
        if (c->cur.kind == NFS4_FH_ROOT)
            return NFS4ERR_ISDIR;
        o->fh = c->cur;
        o->dir_before = o->attr;
        *session = 0;
        if (!open_stid_of(st, o->attr.ino, o->ow)) {
            int rc = nfs4_vol_session(c->srv, c->cur.vol, session);
            if (rc < 0)
                return nfs4_errno(rc);
        }
        return open_existing(o, *session, 0);
    }
    /* We hand out no delegations: none a stateid could name. */
    if (args->claim.claim == CLAIM_DELEGATE_CUR)
        return NFS4ERR_BAD_STATEID;
    if (args->claim.claim != CLAIM_NULL)
        return NFS4ERR_NOTSUPP;
    if (nfs4_in_grace(c->srv))
        return NFS4ERR_GRACE;
    const component4 *name = &args->claim.open_claim4_u.file;
    if ((ret = nfs4_cur_dir(c, &o->dir_before)) != NFS4_OK)
        return ret;
    if ((ret = nfs4_check_name(name)) != NFS4_OK)
        return ret;
    if (c->cur.kind == NFS4_FH_ROOT)
        return args->openhow.opentype == OPEN4_CREATE ? NFS4ERR_ROFS
                                                      : NFS4ERR_ISDIR;
    o->dirfh = c->cur;
    int rc = nfs4_vol_session(c->srv, o->dirfh.vol, session);
    if (rc < 0)
        return nfs4_errno(rc);
    if (args->openhow.opentype == OPEN4_CREATE) {
        /* A new file cannot have our stateid yet; an existing one may. */
        return open_create(o, *session);
    }
    rc = meta_lookup(c->srv->meta, &c->cred, o->dirfh.ino,
                     name->utf8string_val, name->utf8string_len, &o->attr);
    if (rc < 0)
        return nfs4_errno(rc);
    if (open_stid_of(st, o->attr.ino, o->ow))
        *session = 0;
    return open_existing(o, *session, 0);
}

/* Gives o's owner a stateid for the opened file (new or upgraded). */
static nfsstat4 open_state(struct op_open *o, uint64_t session,
                           struct nfs4_stid **out)
{
    struct nfs4_state *st = o->c->srv->state;
    struct nfs4_stid *sd = open_stid_of(st, o->attr.ino, o->ow);
    if (sd) {
        /* The same owner opening again: the reservations add up. */
        if (session)
            meta_release(o->c->srv->meta, o->attr.ino, session);
        sd->access |= o->args->share_access;
        sd->deny |= o->args->share_deny;
        sd->access_seen |= (uint8_t)(1u << o->args->share_access);
        sd->deny_seen |= (uint8_t)(1u << o->args->share_deny);
        sd->seqid++;
        *out = sd;
        return NFS4_OK;
    }
    struct nfs4_file *f = nfs4_file_get(st, o->attr.ino, o->fh.vol, 1);
    sd = f ? nfs4_stid_new(st, o->ow, f, 0) : NULL;
    if (!sd) {
        if (f)
            nfs4_file_put(st, f);
        if (session)
            meta_release(o->c->srv->meta, o->attr.ino, session);
        return NFS4ERR_RESOURCE;
    }
    sd->access = o->args->share_access;
    sd->deny = o->args->share_deny;
    sd->access_seen = (uint8_t)(1u << sd->access);
    sd->deny_seen = (uint8_t)(1u << sd->deny);
    sd->uid = o->c->cred.uid;
    sd->session = session;
    *out = sd;
    return NFS4_OK;
}

static nfsstat4 open_reply(struct op_open *o, struct nfs4_stid *sd,
                           OPEN4resok *ok)
{
    struct nfs4_cctx *c = o->c;
    if (o->attrset) {
        ok->attrset.bitmap4_val = calloc(2, sizeof(uint32_t));
        if (!ok->attrset.bitmap4_val)
            return NFS4ERR_RESOURCE;
        ok->attrset.bitmap4_len = 2;
        ok->attrset.bitmap4_val[0] = (uint32_t)o->attrset;
        ok->attrset.bitmap4_val[1] = (uint32_t)(o->attrset >> 32);
    }
    nfs4_stid_wire(c->srv->state, sd, &ok->stateid);
    if (o->created)
        nfs4_cinfo(c->srv, &ok->cinfo, &o->dir_change, NULL);
    else
        nfs4_cinfo_same(&ok->cinfo, &o->dir_before);
    ok->rflags = OPEN4_RESULT_LOCKTYPE_POSIX |
                 (o->ow->confirmed ? 0 : OPEN4_RESULT_CONFIRM);
    ok->delegation.delegation_type = OPEN_DELEGATE_NONE;
    nfs4_fix_attr(c->srv, &o->attr);
    nfs4_set_cur(c, &o->fh, &o->attr);
    return NFS4_OK;
}

static nfsstat4 open_run(struct op_open *o, OPEN4resok *ok)
{
    OPEN4args *args = o->args;
    uint32_t acc = args->share_access, deny = args->share_deny;
    if (acc == 0 || (acc & ~OPEN4_SHARE_ACCESS_BOTH) ||
        (deny & ~OPEN4_SHARE_DENY_BOTH))
        return NFS4ERR_INVAL;
    uint64_t session = 0;
    nfsstat4 ret = open_file(o, &session);
    if (ret != NFS4_OK)
        return ret;
    if (args->claim.claim == CLAIM_NULL)
        o->fh = (struct nfs4_fh){ .kind = NFS4_FH_INODE, .vol = o->dirfh.vol,
                                  .ino = o->attr.ino, .gen = o->attr.gen };
    struct nfs4_stid *sd;
    if ((ret = open_state(o, session, &sd)) != NFS4_OK)
        return ret;
    ret = open_reply(o, sd, ok);
    if (ret != NFS4_OK)
        xdr_free((xdrproc_t)xdr_OPEN4resok, (char *)ok);
    return ret;
}

/* What an OPEN can do before it takes the state mutex, so that the
 * mutex every stateid check needs is not held across name-service lookups
 * or store I/O: decode the create attributes (owner names), and commit
 * the buffered writes of a file an UNCHECKED4 create will truncate (its
 * commit under the mutex then finds little or nothing left). */
static void open_prepare(struct op_open *o)
{
    OPEN4args *args = o->args;
    createhow4 *how = &args->openhow.openflag4_u.how;
    if (args->openhow.opentype != OPEN4_CREATE ||
        (how->mode != UNCHECKED4 && how->mode != GUARDED4))
        return;
    o->sa_status = nfs4_sattr_decode(&how->createhow4_u.createattrs, &o->sa);
    o->have_sa = o->sa_status == NFS4_OK;
    int truncates = o->have_sa && how->mode == UNCHECKED4 &&
                    args->claim.claim == CLAIM_NULL &&
                    (o->sa.sa.valid & META_SET_SIZE) && o->sa.sa.size == 0;
    if (!truncates || o->c->cur.kind != NFS4_FH_INODE ||
        !nfs4_data_any(o->c->srv))
        return;
    struct nfs4_cctx *c = o->c;
    const component4 *name = &args->claim.open_claim4_u.file;
    struct meta_attr at;
    if (nfs4_check_name(name) != NFS4_OK ||
        meta_lookup(c->srv->meta, &c->cred, c->cur.ino, name->utf8string_val,
                    name->utf8string_len, &at) < 0 ||
        !S_ISREG(at.mode))
        return;
    o->committed_ino = at.ino;
    o->commit_rc = nfs4_data_commit(c->srv, at.ino);
}

nfsstat4 nfs4_op_open(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    OPEN4args *args = &a->nfs_argop4_u.opopen;
    OPEN4resok *ok = &r->nfs_resop4_u.opopen.OPEN4res_u.resok4;
    struct nfs4_state *st = c->srv->state;
    struct nfs4_client *cl;
    nfsstat4 ret;

    log_debug("nfs4: OPEN seqid %u access %u deny %u claim %d create %d",
              args->seqid, args->share_access, args->share_deny,
              (int)args->claim.claim, (int)args->openhow.opentype);
    struct op_open o;
    memset(&o, 0, sizeof(o));
    o.c = c;
    o.args = args;
    open_prepare(&o);
    pthread_mutex_lock(&st->mu);
    ret = nfs4_client_get(st, args->owner.clientid, &cl);
    if (ret != NFS4_OK) {
        pthread_mutex_unlock(&st->mu);
        goto out;
    }
    struct nfs4_owner *ow = nfs4_owner_find(st, 0, args->owner.clientid,
                                            args->owner.owner.owner_val,
                                            args->owner.owner.owner_len);
    if (ow && !ow->confirmed) {
        /* An unconfirmed owner opening again starts over (RFC 7530
         * 16.18.5), even with the same seqid: libnfs 4.0.0 reuses an
         * owner whose OPEN failed with the same seqid (as Linux's server,
         * we do not take that for a retransmission). */
        nfs4_owner_free(st, ow);
        ow = NULL;
    }
    if (ow) {
        enum nfs4_seq sq = nfs4_seq_check(ow, args->seqid, c);
        if (sq == NFS4_SEQ_REPLAY) {
            ret = nfs4_seq_replay(ow, r, c);
            pthread_mutex_unlock(&st->mu);
            goto out;
        }
        if (sq == NFS4_SEQ_BAD) {
            pthread_mutex_unlock(&st->mu);
            ret = NFS4ERR_BAD_SEQID;
            goto out;
        }
    }
    if (!ow)
        ow = nfs4_owner_new(st, cl, 0, args->owner.owner.owner_val,
                            args->owner.owner.owner_len);
    if (!ow) {
        pthread_mutex_unlock(&st->mu);
        ret = NFS4ERR_RESOURCE;
        goto out;
    }
    o.ow = ow;
    ret = open_run(&o, ok);
    ret = seq_done(ow, args->seqid, ret, r, c);
    pthread_mutex_unlock(&st->mu);
out:
    if (o.have_sa)
        nfs4_sattr_free(&o.sa);
    return ret;
}

/* ---- OPEN_CONFIRM, OPEN_DOWNGRADE, CLOSE ---- */

/* The common start of the ops naming an open stateid and a seqid: finds
 * the stateid (*sd, NULL if none) and checks its owner's seqid.  NFS4_OK
 * means go on; otherwise the status to answer, and *replayed says that r
 * already holds a retransmitted reply. */
static nfsstat4 seqop_begin(struct nfs4_cctx *c, const stateid4 *sid,
                            seqid4 seqid, nfs_resop4 *r,
                            struct nfs4_stid **sd, int *replayed)
{
    struct nfs4_state *st = c->srv->state;
    *replayed = 0;
    *sd = NULL;
    struct nfs4_stid *found;
    nfsstat4 ret = nfs4_stid_lookup(st, sid, &found);
    if (ret == NFS4ERR_BAD_STATEID) {
        /* A CLOSE resent after its reply was lost: the stateid is gone,
         * its owner keeps the reply (RFC 7530 9.1.9). */
        struct nfs4_owner *ow = nfs4_owner_closed(st, sid);
        if (ow && nfs4_seq_check(ow, seqid, c) == NFS4_SEQ_REPLAY) {
            *replayed = 1;
            return nfs4_seq_replay(ow, r, c);
        }
    }
    if (ret != NFS4_OK)
        return ret;
    if (found->is_lock || found->file->ino != c->cur.ino)
        return NFS4ERR_BAD_STATEID;
    *sd = found;
    struct nfs4_owner *ow = found->owner;
    switch (nfs4_seq_check(ow, seqid, c)) {
    case NFS4_SEQ_REPLAY:
        *replayed = 1;
        return nfs4_seq_replay(ow, r, c);
    case NFS4_SEQ_BAD:
        return NFS4ERR_BAD_SEQID;
    default:
        break;
    }
    return nfs4_stid_seqid(found, sid);
}

nfsstat4 nfs4_op_open_confirm(struct nfs4_cctx *c, nfs_argop4 *a,
                              nfs_resop4 *r)
{
    OPEN_CONFIRM4args *args = &a->nfs_argop4_u.opopen_confirm;
    OPEN_CONFIRM4resok *ok =
        &r->nfs_resop4_u.opopen_confirm.OPEN_CONFIRM4res_u.resok4;
    struct nfs4_state *st = c->srv->state;
    struct nfs4_stid *sd;
    int replayed;
    pthread_mutex_lock(&st->mu);
    nfsstat4 ret = seqop_begin(c, &args->open_stateid, args->seqid, r, &sd,
                               &replayed);
    if (!replayed && sd) {
        if (ret == NFS4_OK && sd->owner->confirmed)
            ret = NFS4ERR_BAD_STATEID;
        if (ret == NFS4_OK) {
            sd->owner->confirmed = 1;
            sd->seqid++;
            nfs4_stid_wire(st, sd, &ok->open_stateid);
        }
        ret = seq_done(sd->owner, args->seqid, ret, r, c);
    }
    pthread_mutex_unlock(&st->mu);
    return ret;
}

/* A downgrade must name access and deny values that OPENs of this
 * stateid asked for (RFC 7530 16.19.4: the union of some of them), as
 * Linux's server checks. */
static int downgrade_ok(const struct nfs4_stid *sd, uint32_t acc,
                        uint32_t deny)
{
    return acc != 0 && acc <= OPEN4_SHARE_ACCESS_BOTH &&
           deny <= OPEN4_SHARE_DENY_BOTH && !(acc & ~sd->access) &&
           !(deny & ~sd->deny) && (sd->access_seen & (1u << acc)) &&
           (sd->deny_seen & (1u << deny));
}

/* The values of seen still within v after a downgrade to v. */
static uint8_t seen_within(uint8_t seen, uint32_t v)
{
    uint8_t out = 0;
    for (unsigned i = 0; i < 4; i++)
        if ((seen & (1u << i)) && !(i & ~v))
            out |= (uint8_t)(1u << i);
    return out;
}

nfsstat4 nfs4_op_open_downgrade(struct nfs4_cctx *c, nfs_argop4 *a,
                                nfs_resop4 *r)
{
    OPEN_DOWNGRADE4args *args = &a->nfs_argop4_u.opopen_downgrade;
    OPEN_DOWNGRADE4resok *ok =
        &r->nfs_resop4_u.opopen_downgrade.OPEN_DOWNGRADE4res_u.resok4;
    struct nfs4_state *st = c->srv->state;
    struct nfs4_stid *sd;
    int replayed;
    pthread_mutex_lock(&st->mu);
    nfsstat4 ret = seqop_begin(c, &args->open_stateid, args->seqid, r, &sd,
                               &replayed);
    if (!replayed && sd) {
        uint32_t acc = args->share_access, deny = args->share_deny;
        if (ret == NFS4_OK && !sd->owner->confirmed)
            ret = NFS4ERR_BAD_STATEID;
        if (ret == NFS4_OK && !downgrade_ok(sd, acc, deny))
            ret = NFS4ERR_INVAL;
        if (ret == NFS4_OK) {
            sd->access = acc;
            sd->deny = deny;
            sd->access_seen = seen_within(sd->access_seen, acc);
            sd->deny_seen = seen_within(sd->deny_seen, deny);
            sd->seqid++;
            nfs4_stid_wire(st, sd, &ok->open_stateid);
        }
        ret = seq_done(sd->owner, args->seqid, ret, r, c);
    }
    pthread_mutex_unlock(&st->mu);
    return ret;
}

nfsstat4 nfs4_op_close(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    CLOSE4args *args = &a->nfs_argop4_u.opclose;
    stateid4 *out = &r->nfs_resop4_u.opclose.CLOSE4res_u.open_stateid;
    struct nfs4_state *st = c->srv->state;
    struct nfs4_stid *sd;
    int replayed;

    /* Close-to-open: what was written through this server becomes
     * visible to every client now (a failure leaves it buffered). */
    if (c->cur.kind == NFS4_FH_INODE) {
        int rc = nfs4_data_commit(c->srv, c->cur.ino);
        if (rc < 0)
            log_warn("nfs4: committing inode %llu at CLOSE: %d",
                     (unsigned long long)c->cur.ino, rc);
    }
    pthread_mutex_lock(&st->mu);
    nfsstat4 ret = seqop_begin(c, &args->open_stateid, args->seqid, r, &sd,
                               &replayed);
    if (!replayed && sd) {
        struct nfs4_owner *ow = sd->owner;
        if (ret == NFS4_OK) {
            sd->seqid++;
            nfs4_stid_wire(st, sd, out);
            nfs4_owner_set_closed(st, ow, sd->id);
            nfs4_stid_free(st, sd);
        }
        ret = seq_done(ow, args->seqid, ret, r, c);
    }
    pthread_mutex_unlock(&st->mu);
    return ret;
}

/* ---- READ, WRITE, COMMIT ---- */

nfsstat4 nfs4_may_write(struct nfs4_cctx *c, const stateid4 *sid)
{
    int check_perm;
    nfsstat4 ret = nfs4_stid_check_io(c->srv->state, sid, c->cur.ino,
                                      OPEN4_SHARE_ACCESS_WRITE, c->cred.uid,
                                      &check_perm);
    if (ret != NFS4_OK || !check_perm)
        return ret;
    /* Access as for open(O_WRONLY), counting no open. */
    struct meta_attr at;
    int rc = meta_open_file(c->srv->meta, &c->cred, c->cur.ino, 0, O_WRONLY,
                            &at);
    return rc < 0 ? nfs4_errno(rc) : NFS4_OK;
}

nfsstat4 nfs4_op_read(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    READ4args *args = &a->nfs_argop4_u.opread;
    READ4resok *ok = &r->nfs_resop4_u.opread.READ4res_u.resok4;
    struct meta_attr at;
    if (c->cur.kind == NFS4_FH_ROOT)
        return NFS4ERR_ISDIR;
    nfsstat4 ret = nfs4_cur_file(c, &at);
    if (ret != NFS4_OK)
        return ret;
    int check_perm;
    ret = nfs4_stid_check_io(c->srv->state, &args->stateid, c->cur.ino,
                             OPEN4_SHARE_ACCESS_READ, c->cred.uid,
                             &check_perm);
    if (ret != NFS4_OK)
        return ret;
    int rc;
    if (check_perm &&
        (rc = meta_access(c->srv->meta, &c->cred, c->cur.ino, PERM_READ)) < 0)
        return nfs4_errno(rc);
    struct nfs4_vol v;
    rc = nfs4_vol_of_ino(c->srv, c->cur.ino, &v);
    if (rc < 0)
        return nfs4_errno(rc);
    uint32_t count = args->count < NFS4_MAXIO ? args->count : NFS4_MAXIO;
    /* What the COMPOUND's earlier READs left of its reply budget. */
    if (count > c->reply_left)
        count = c->reply_left;
    if (count == 0 && args->count > 0)
        return NFS4ERR_RESOURCE;
    c->reply_left -= count;
    char *buf = malloc(count ? count : 1);
    if (!buf)
        return NFS4ERR_RESOURCE;
    uint32_t got = 0;
    int eof = 0;
    rc = nfs4_data_read(c->srv, &c->cred, v.id, c->cur.ino, args->offset,
                        count, buf, &got, &eof);
    if (rc < 0) {
        free(buf);
        return nfs4_errno(rc);
    }
    ok->eof = eof ? TRUE : FALSE;
    ok->data.data_val = buf;
    ok->data.data_len = got;
    return NFS4_OK;
}

nfsstat4 nfs4_op_write(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    WRITE4args *args = &a->nfs_argop4_u.opwrite;
    WRITE4resok *ok = &r->nfs_resop4_u.opwrite.WRITE4res_u.resok4;
    struct meta_attr at;
    if (c->cur.kind == NFS4_FH_ROOT)
        return NFS4ERR_ISDIR;
    nfsstat4 ret = nfs4_cur_file(c, &at);
    if (ret != NFS4_OK)
        return ret;
    uint64_t len = args->data.data_len;
    if (args->offset > (uint64_t)INT64_MAX - len)
        return NFS4ERR_FBIG;
    if ((ret = nfs4_may_write(c, &args->stateid)) != NFS4_OK)
        return ret;
    int rc;
    struct nfs4_vol v;
    if ((rc = nfs4_vol_of_ino(c->srv, c->cur.ino, &v)) < 0)
        return nfs4_errno(rc);
    int stable = args->stable != UNSTABLE4;
    rc = nfs4_data_write(c->srv, &c->cred, v.id, c->cur.ino, args->offset,
                         args->data.data_val, (uint32_t)len, stable);
    c->cur_attr_ok = 0;
    if (rc < 0)
        return nfs4_errno(rc);
    ok->count = (count4)len;
    ok->committed = stable ? FILE_SYNC4 : UNSTABLE4;
    memcpy(ok->writeverf, c->srv->write_verf, sizeof(ok->writeverf));
    return NFS4_OK;
}

nfsstat4 nfs4_op_commit(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    COMMIT4args *args = &a->nfs_argop4_u.opcommit;
    COMMIT4resok *ok = &r->nfs_resop4_u.opcommit.COMMIT4res_u.resok4;
    struct meta_attr at;
    if (c->cur.kind == NFS4_FH_ROOT)
        return NFS4ERR_ISDIR;
    nfsstat4 ret = nfs4_cur_file(c, &at);
    if (ret != NFS4_OK)
        return ret;
    if (args->count > UINT64_MAX - args->offset)
        return NFS4ERR_INVAL;           /* a range past 2^64 - 1 */
    /* The whole file's buffered writes: a superset of the range asked. */
    int rc = nfs4_data_commit(c->srv, c->cur.ino);
    if (rc < 0)
        return nfs4_errno(rc);
    c->cur_attr_ok = 0;
    memcpy(ok->writeverf, c->srv->write_verf, sizeof(ok->writeverf));
    return NFS4_OK;
}
