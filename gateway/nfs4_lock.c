/* nfs4_lock.c - LOCK, LOCKT, LOCKU and RELEASE_LOCKOWNER.
 *
 * The NFS side lives here: lock-owners, their seqids and replies, lock
 * stateids (one per lock-owner and file, born of an open stateid), the
 * grace period, range checks and the DENIED answer.  The locks themselves
 * are the core's POSIX range locks (meta_lock_*; decision 5: an NFS lock
 * conflicts with a FUSE mount's fcntl lock); this file keeps no ranges.
 *
 * In the core a lock is held by (session, owner): the session is the
 * front end's session on the file's volume and the owner a 64-bit hash of
 * the client's id string and the lock-owner, so the same lock-owner has
 * the same core owner after a gateway restart (for reclaims).  NFSv4.0
 * has no blocking locks: a WRITEW/READW that conflicts is DENIED and the
 * client polls, as RFC 7530 allows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nfs4_int.h"
#include "nfs4_state.h"
#include "perm.h"

static nfsstat4 lock_errno(int rc)
{
    return rc == -ENOLCK ? NFS4ERR_RESOURCE : nfs4_errno(rc);
}

/* ---- owners and ranges ---- */

/* offset/length of the wire to an inclusive range: NFS4_OK or INVAL. */
static nfsstat4 range_of(offset4 off, length4 len, struct meta_lock *lk)
{
    if (len == 0)
        return NFS4ERR_INVAL;
    lk->start = off;
    if (len == UINT64_MAX) {
        lk->end = META_LOCK_EOF;
        return NFS4_OK;
    }
    if (len > UINT64_MAX - off)         /* the sum past 2^64 - 1 (16.10.4) */
        return NFS4ERR_INVAL;
    lk->end = off + len - 1;
    return NFS4_OK;
}

static int is_write(nfs_lock_type4 t)
{
    return t == WRITE_LT || t == WRITEW_LT;
}

static nfsstat4 check_type(nfs_lock_type4 t)
{
    return t >= READ_LT && t <= WRITEW_LT ? NFS4_OK : NFS4ERR_INVAL;
}

/* Fills a DENIED answer from the core's conflicting lock. */
static nfsstat4 denied(struct nfs4_state *st, const struct meta_lock *cf,
                       LOCK4denied *d)
{
    d->offset = cf->start;
    d->length = cf->end == META_LOCK_EOF ? UINT64_MAX
                                         : cf->end - cf->start + 1;
    d->locktype = cf->type == META_LOCK_WRITE ? WRITE_LT : READ_LT;
    /* One of our lock-owners, or a FUSE mount's owner named by its
     * session and owner numbers. */
    struct nfs4_owner *ow = nfs4_owner_by_lockid(st, cf->owner);
    if (ow) {
        d->owner.clientid = ow->cl->clientid;
        d->owner.owner.owner_val = malloc(ow->namelen ? ow->namelen : 1);
        if (!d->owner.owner.owner_val)
            return NFS4ERR_RESOURCE;
        memcpy(d->owner.owner.owner_val, ow->name, ow->namelen);
        d->owner.owner.owner_len = ow->namelen;
        return NFS4ERR_DENIED;
    }
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "flexfs session %llu owner %llu",
                     (unsigned long long)cf->session,
                     (unsigned long long)cf->owner);
    d->owner.clientid = 0;
    d->owner.owner.owner_val = malloc((size_t)n);
    if (!d->owner.owner.owner_val)
        return NFS4ERR_RESOURCE;
    memcpy(d->owner.owner.owner_val, buf, (size_t)n);
    d->owner.owner.owner_len = (u_int)n;
    return NFS4ERR_DENIED;
}

static struct nfs4_stid *lock_stid_of(struct nfs4_file *f,
                                      const struct nfs4_owner *lo)
{
    for (struct nfs4_stid *sd = f->stids; sd; sd = sd->fnext)
        if (sd->is_lock && sd->owner == lo)
            return sd;
    return NULL;
}

void nfs4_lock_stid_release(struct nfs4_server *s, struct nfs4_stid *sd)
{
    uint64_t session;
    if (nfs4_vol_session(s, sd->file->vol, &session) < 0)
        return;
    int rc = meta_lock_release(s->meta, sd->file->ino, session,
                               sd->owner->id, META_LOCK_POSIX);
    if (rc < 0)
        log_warn("nfs4: releasing locks on inode %llu: %d",
                 (unsigned long long)sd->file->ino, rc);
}

/* A reclaim re-takes a lock the same lock-owner held before the restart,
 * which the core still keeps under the earlier start's session: that one
 * goes first, so the new session's lock does not conflict with it. */
static void reclaim_prepare(struct nfs4_server *s, uint64_t ino,
                            uint64_t owner)
{
    uint64_t old[16];
    size_t n = nfs4_old_sessions(s, old, 16);
    for (size_t i = 0; i < n; i++)
        meta_lock_release(s->meta, ino, old[i], owner, META_LOCK_POSIX);
}

/* ---- LOCK ---- */

/* Where a LOCK stands after its owner bookkeeping. */
struct op_lock {
    struct nfs4_owner *lo;              /* the lock-owner */
    struct nfs4_owner *oo;              /* the open-owner (new lock-owner) */
    struct nfs4_stid *open;             /* the open the lock comes from */
    struct nfs4_stid *lsd;              /* the lock stateid, if it exists */
    seqid4 oseq, lseq;
};

/* The owners of a LOCK and their seqids.  NFS4_OK to go on; a replay
 * fills r and sets *replayed. */
static nfsstat4 lock_owners(struct nfs4_cctx *c, LOCK4args *args,
                            nfs_resop4 *r, struct op_lock *o, int *replayed)
{
    struct nfs4_state *st = c->srv->state;
    struct nfs4_stid *sd;
    nfsstat4 ret;
    *replayed = 0;
    if (args->locker.new_lock_owner) {
        open_to_lock_owner4 *ol = &args->locker.locker4_u.open_owner;
        /* An unknown clientid in the new lock-owner is STALE_CLIENTID,
         * whatever the open stateid (RFC 7530 16.10.5). */
        struct nfs4_client *lcl;
        if ((ret = nfs4_client_get(st, ol->lock_owner.clientid, &lcl)) !=
                NFS4_OK ||
            (ret = nfs4_stid_lookup(st, &ol->open_stateid, &sd)) != NFS4_OK)
            return ret;
        if (sd->is_lock || sd->file->ino != c->cur.ino)
            return NFS4ERR_BAD_STATEID;
        o->oo = sd->owner;
        o->oseq = ol->open_seqid;
        o->lseq = ol->lock_seqid;
        switch (nfs4_seq_check(o->oo, ol->open_seqid, c)) {
        case NFS4_SEQ_REPLAY:
            *replayed = 1;
            return nfs4_seq_replay(o->oo, r, c);
        case NFS4_SEQ_BAD:
            return NFS4ERR_BAD_SEQID;
        default:
            break;
        }
        o->open = sd;
        if ((ret = nfs4_stid_seqid(sd, &ol->open_stateid)) != NFS4_OK)
            return ret;
        if (!o->oo->confirmed)
            return NFS4ERR_BAD_STATEID;
        if (ol->lock_owner.clientid != o->oo->cl->clientid)
            return NFS4ERR_BAD_STATEID;
        o->lo = nfs4_owner_find(st, 1, ol->lock_owner.clientid,
                                ol->lock_owner.owner.owner_val,
                                ol->lock_owner.owner.owner_len);
        if (!o->lo) {
            o->lo = nfs4_owner_new(st, o->oo->cl, 1,
                                   ol->lock_owner.owner.owner_val,
                                   ol->lock_owner.owner.owner_len);
            if (!o->lo)
                return NFS4ERR_RESOURCE;
        }
        o->lsd = lock_stid_of(sd->file, o->lo);
        return NFS4_OK;
    }
    exist_lock_owner4 *el = &args->locker.locker4_u.lock_owner;
    if ((ret = nfs4_stid_lookup(st, &el->lock_stateid, &sd)) != NFS4_OK)
        return ret;
    if (!sd->is_lock || sd->file->ino != c->cur.ino)
        return NFS4ERR_BAD_STATEID;
    o->lo = sd->owner;
    o->lseq = el->lock_seqid;
    switch (nfs4_seq_check(o->lo, el->lock_seqid, c)) {
    case NFS4_SEQ_REPLAY:
        *replayed = 1;
        return nfs4_seq_replay(o->lo, r, c);
    case NFS4_SEQ_BAD:
        return NFS4ERR_BAD_SEQID;
    default:
        break;
    }
    o->lsd = sd;
    o->open = sd->open;
    return nfs4_stid_seqid(sd, &el->lock_stateid);
}

static nfsstat4 lock_run(struct nfs4_cctx *c, LOCK4args *args,
                         struct op_lock *o, nfs_resop4 *r)
{
    struct nfs4_state *st = c->srv->state;
    LOCK4res *res = &r->nfs_resop4_u.oplock;
    struct meta_lock lk, cf;
    nfsstat4 ret;

    memset(&lk, 0, sizeof(lk));

    if ((ret = check_type(args->locktype)) != NFS4_OK ||
        (ret = range_of(args->offset, args->length, &lk)) != NFS4_OK)
        return ret;
    if (args->reclaim && !nfs4_in_grace(c->srv))
        return NFS4ERR_NO_GRACE;
    if (!args->reclaim && nfs4_in_grace(c->srv))
        return NFS4ERR_GRACE;
    /* A write lock wants an open for writing; libnfs 4.0.0 opens every
     * file for reading only, so write permission on the file will do. */
    if (is_write(args->locktype) &&
        !(o->open->access & OPEN4_SHARE_ACCESS_WRITE) &&
        meta_access(c->srv->meta, &c->cred, c->cur.ino, PERM_WRITE) < 0)
        return NFS4ERR_OPENMODE;
    int rc = nfs4_vol_session(c->srv, o->open->file->vol, &lk.session);
    if (rc < 0)
        return nfs4_errno(rc);
    lk.owner = o->lo->id;
    lk.kind = META_LOCK_POSIX;
    lk.type = is_write(args->locktype) ? META_LOCK_WRITE : META_LOCK_READ;
    memset(&cf, 0, sizeof(cf));
    if (args->reclaim)
        reclaim_prepare(c->srv, c->cur.ino, lk.owner);
    rc = meta_lock_set(c->srv->meta, c->cur.ino, &lk,
                       args->reclaim ? META_LOCK_RECLAIM : 0, &cf);
    if (rc == -EAGAIN && !args->reclaim &&
        meta_lock_grace_left(c->srv->meta) > 0)
        return NFS4ERR_GRACE;           /* the core's grace: may clear */
    if (rc == -EAGAIN)
        return denied(st, &cf, &res->LOCK4res_u.denied);
    if (rc < 0)
        return lock_errno(rc);
    if (!o->lsd) {
        o->lsd = nfs4_stid_new(st, o->lo, o->open->file, 1);
        if (!o->lsd) {
            lk.type = META_LOCK_UNLOCK;
            meta_lock_set(c->srv->meta, c->cur.ino, &lk, 0, NULL);
            return NFS4ERR_RESOURCE;
        }
        o->lsd->open = o->open;
    } else {
        o->lsd->seqid++;
    }
    nfs4_stid_wire(st, o->lsd, &res->LOCK4res_u.resok4.lock_stateid);
    return NFS4_OK;
}

/* Records the outcome on the owners whose seqids the LOCK carried. */
static void lock_done(struct op_lock *o, nfsstat4 ret, nfs_resop4 *r,
                      struct nfs4_cctx *c)
{
    *nfs4_res_status(r) = ret;
    if (!nfs4_seq_advances(ret))
        return;
    if (o->oo)
        nfs4_seq_record(o->oo, o->oseq, r, c);
    if (o->lo)
        nfs4_seq_record(o->lo, o->lseq, r, c);
}

nfsstat4 nfs4_op_lock(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    LOCK4args *args = &a->nfs_argop4_u.oplock;
    struct nfs4_state *st = c->srv->state;
    struct meta_attr at;
    nfsstat4 ret = nfs4_cur_file(c, &at);
    if (c->cur.kind == NFS4_FH_ROOT)
        ret = NFS4ERR_ISDIR;
    if (ret != NFS4_OK)
        return ret;
    struct op_lock o;
    memset(&o, 0, sizeof(o));
    int replayed;
    pthread_mutex_lock(&st->mu);
    ret = lock_owners(c, args, r, &o, &replayed);
    if (!replayed) {
        if (ret == NFS4_OK)
            ret = lock_run(c, args, &o, r);
        lock_done(&o, ret, r, c);
    }
    pthread_mutex_unlock(&st->mu);
    return ret;
}

/* ---- LOCKT, LOCKU, RELEASE_LOCKOWNER ---- */

nfsstat4 nfs4_op_lockt(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    LOCKT4args *args = &a->nfs_argop4_u.oplockt;
    LOCKT4res *res = &r->nfs_resop4_u.oplockt;
    struct nfs4_state *st = c->srv->state;
    struct meta_lock lk, cf;
    struct meta_attr at;
    memset(&lk, 0, sizeof(lk));
    nfsstat4 ret = nfs4_cur_file(c, &at);
    if (c->cur.kind == NFS4_FH_ROOT)
        ret = NFS4ERR_ISDIR;
    if (ret != NFS4_OK ||
        (ret = check_type(args->locktype)) != NFS4_OK ||
        (ret = range_of(args->offset, args->length, &lk)) != NFS4_OK)
        return ret;
    if (nfs4_in_grace(c->srv))
        return NFS4ERR_GRACE;
    pthread_mutex_lock(&st->mu);
    struct nfs4_client *cl;
    ret = nfs4_client_get(st, args->owner.clientid, &cl);
    if (ret == NFS4_OK) {
        struct nfs4_vol v;
        int rc = nfs4_vol_of_ino(c->srv, c->cur.ino, &v);
        if (rc == 0)
            rc = nfs4_vol_session(c->srv, v.id, &lk.session);
        lk.owner = nfs4_lock_owner_id(cl, args->owner.owner.owner_val,
                                      args->owner.owner.owner_len);
        lk.kind = META_LOCK_POSIX;
        lk.type = is_write(args->locktype) ? META_LOCK_WRITE : META_LOCK_READ;
        memset(&cf, 0, sizeof(cf));
        if (rc == 0)
            rc = meta_lock_test(c->srv->meta, c->cur.ino, &lk, &cf);
        if (rc == -EAGAIN && meta_lock_grace_left(c->srv->meta) > 0)
            ret = NFS4ERR_GRACE;
        else if (rc == -EAGAIN)
            ret = denied(st, &cf, &res->LOCKT4res_u.denied);
        else if (rc < 0)
            ret = lock_errno(rc);
    }
    pthread_mutex_unlock(&st->mu);
    return ret;
}

nfsstat4 nfs4_op_locku(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    LOCKU4args *args = &a->nfs_argop4_u.oplocku;
    stateid4 *out = &r->nfs_resop4_u.oplocku.LOCKU4res_u.lock_stateid;
    struct nfs4_state *st = c->srv->state;
    struct meta_lock lk;
    struct meta_attr at;
    memset(&lk, 0, sizeof(lk));
    nfsstat4 ret = nfs4_cur_file(c, &at);
    if (c->cur.kind == NFS4_FH_ROOT)
        ret = NFS4ERR_ISDIR;
    if (ret != NFS4_OK)
        return ret;
    pthread_mutex_lock(&st->mu);
    struct nfs4_stid *sd;
    ret = nfs4_stid_lookup(st, &args->lock_stateid, &sd);
    if (ret == NFS4_OK && (!sd->is_lock || sd->file->ino != c->cur.ino))
        ret = NFS4ERR_BAD_STATEID;
    if (ret != NFS4_OK) {
        pthread_mutex_unlock(&st->mu);
        return ret;
    }
    struct nfs4_owner *lo = sd->owner;
    switch (nfs4_seq_check(lo, args->seqid, c)) {
    case NFS4_SEQ_REPLAY:
        ret = nfs4_seq_replay(lo, r, c);
        pthread_mutex_unlock(&st->mu);
        return ret;
    case NFS4_SEQ_BAD:
        pthread_mutex_unlock(&st->mu);
        return NFS4ERR_BAD_SEQID;
    default:
        break;
    }
    ret = nfs4_stid_seqid(sd, &args->lock_stateid);
    if (ret == NFS4_OK)
        ret = check_type(args->locktype);
    if (ret == NFS4_OK)
        ret = range_of(args->offset, args->length, &lk);
    if (ret == NFS4_OK) {
        int rc = nfs4_vol_session(c->srv, sd->file->vol, &lk.session);
        lk.owner = lo->id;
        lk.kind = META_LOCK_POSIX;
        lk.type = META_LOCK_UNLOCK;
        if (rc == 0)
            rc = meta_lock_set(c->srv->meta, c->cur.ino, &lk, 0, NULL);
        if (rc < 0)
            ret = lock_errno(rc);
    }
    if (ret == NFS4_OK) {
        sd->seqid++;
        nfs4_stid_wire(st, sd, out);
    }
    *nfs4_res_status(r) = ret;
    if (nfs4_seq_advances(ret))
        nfs4_seq_record(lo, args->seqid, r, c);
    pthread_mutex_unlock(&st->mu);
    return ret;
}

nfsstat4 nfs4_op_release_lockowner(struct nfs4_cctx *c, nfs_argop4 *a,
                                   nfs_resop4 *r)
{
    lock_owner4 *lo4 = &a->nfs_argop4_u.oprelease_lockowner.lock_owner;
    struct nfs4_state *st = c->srv->state;
    struct nfs4_client *cl;
    pthread_mutex_lock(&st->mu);
    nfsstat4 ret = nfs4_client_get(st, lo4->clientid, &cl);
    struct nfs4_owner *lo = NULL;
    if (ret == NFS4_OK)
        lo = nfs4_owner_find(st, 1, lo4->clientid, lo4->owner.owner_val,
                             lo4->owner.owner_len);
    for (struct nfs4_stid *sd = lo ? lo->stids : NULL; sd; sd = sd->onext) {
        uint64_t session;
        if (nfs4_vol_session(c->srv, sd->file->vol, &session) == 0 &&
            meta_lock_held(c->srv->meta, sd->file->ino, session, lo->id) > 0)
            ret = NFS4ERR_LOCKS_HELD;
    }
    if (ret == NFS4_OK && lo)
        nfs4_owner_free(st, lo);
    pthread_mutex_unlock(&st->mu);
    return ret;
}
