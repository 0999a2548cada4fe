/* fs_posix.c - the FUSE operations for extended attributes (POSIX ACLs
 * among them: with FUSE_CAP_POSIX_ACL the kernel reads them here, caches
 * them and checks access like a local file system, and the gateway checks
 * again), access(2), and advisory locks.
 *
 * Locks live in the gateway, held by (session, owner): fcntl locks by the
 * kernel's lock owner of the process, flock locks by the open file.  A
 * blocking request first tries without waiting; if it must wait, it goes
 * on a connection of its own and the gateway answers when the lock is
 * granted (nothing polls).  A signal (a FUSE interrupt) cancels the
 * waiting call at the gateway.  Locks are cache boundaries, as on NFS:
 * dirty data is committed before an unlock, and after a lock is granted
 * the cached pages and block map are dropped, so a lock holder sees what
 * the previous holder wrote on any mount. */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 312
#include "config.h"
#include "fs_int.h"
#include "client.h"
#include "inode.h"
#include "log.h"
#include "session.h"
#include "writeback.h"
#include "flexfs_prot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Tokens name waiting lock calls for LOCK_CANCEL; unique per mount. */
static atomic_uint_fast64_t lock_tokens;

/* Takes in the attributes an xattr change returned. */
static void new_attr(struct client *cl, const fx_attr *a)
{
    struct fnode *fn = fnode_find(cl->inodes, a->ino);
    if (!fn)
        return;
    pthread_mutex_lock(&fn->lock);
    fnode_set_attr(fn, a);
    pthread_mutex_unlock(&fn->lock);
    fnode_put(cl->inodes, fn);
}

/* ---- extended attributes ---- */

/* getxattr/listxattr answers: size 0 asks for the length only. */
static void reply_value(fuse_req_t req, const char *val, u_int len,
                        size_t size)
{
    if (size == 0)
        fuse_reply_xattr(req, len);
    else if (len > size)
        fuse_reply_err(req, ERANGE);
    else
        fuse_reply_buf(req, val, len);
}

/* Answers from the inode's xattr cache when it can (1). */
static int getxattr_cached(fuse_req_t req, struct fnode *fn,
                           const char *name, size_t size, uint64_t *change)
{
    const char *val;
    uint32_t len;
    pthread_mutex_lock(&fn->lock);
    *change = fn->have_attr ? fn->attr.change : 0;
    int hit = fnode_xattr_cached(fn, name, &val, &len);
    char copy[1024];
    if (hit && val) {
        if (len > sizeof(copy))
            hit = 0;
        else
            memcpy(copy, val, len);
    }
    pthread_mutex_unlock(&fn->lock);
    if (!hit)
        return 0;
    if (!val)
        fuse_reply_err(req, ENODATA);
    else
        reply_value(req, copy, len, size);
    return 1;
}

void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                 size_t size)
{
    struct client *cl = fs_client(req);
    uint64_t gw = fs_gw_ino(cl, ino), change = 0;
    struct fnode *fn = fnode_find(cl->inodes, gw);
    if (fn && getxattr_cached(req, fn, name, size, &change)) {
        fnode_put(cl->inodes, fn);
        return;
    }
    struct rpc_cred cr;
    fs_get_cred(req, &cr);
    fx_xattr_args a = { .ino = gw, .name = fs_name(name) };
    fx_getxattr_res r;
    memset(&r, 0, sizeof(r));
    int rc = fs_call(cl, &cr, FXPROC_GETXATTR, (xdrproc_t)xdr_fx_xattr_args,
                     &a, (xdrproc_t)xdr_fx_getxattr_res, &r, NULL);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
    } else {
        const char *val = r.fx_getxattr_res_u.value.value_val;
        u_int len = r.fx_getxattr_res_u.value.value_len;
        /* What was read is at least as new as the counter seen before. */
        if (fn && change && (r.status == 0 || r.status == ENODATA)) {
            pthread_mutex_lock(&fn->lock);
            fnode_xattr_remember(fn, name, change, r.status ? NULL : val,
                                 len);
            pthread_mutex_unlock(&fn->lock);
        }
        if (r.status)
            fuse_reply_err(req, r.status);
        else
            reply_value(req, val, len, size);
        xdr_free((xdrproc_t)xdr_fx_getxattr_res, (char *)&r);
    }
    fnode_put(cl->inodes, fn);
}

static void change_xattr(fuse_req_t req, uint32_t proc, xdrproc_t xa,
                         void *a)
{
    if (fs_refuse_read_only(req))
        return;
    struct client *cl = fs_client(req);
    struct rpc_cred cr;
    fs_get_cred(req, &cr);
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    int rc = fs_call(cl, &cr, proc, xa, a, (xdrproc_t)xdr_fx_attr_res, &r,
                     NULL);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    if (r.status == 0)
        new_attr(cl, &r.fx_attr_res_u.attr);
    fuse_reply_err(req, r.status);
    xdr_free((xdrproc_t)xdr_fx_attr_res, (char *)&r);
}

void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                 const char *value, size_t size, int flags)
{
    if (size > FX_XATTR_SIZE_MAX) {
        fuse_reply_err(req, E2BIG);
        return;
    }
    fx_setxattr_args a = { .ino = fs_gw_ino(fs_client(req), ino),
                           .name = fs_name(name),
                           .value = { (u_int)size, (char *)value },
                           .flags = (u_int)flags };
    change_xattr(req, FXPROC_SETXATTR, (xdrproc_t)xdr_fx_setxattr_args, &a);
}

void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    fx_xattr_args a = { .ino = fs_gw_ino(fs_client(req), ino),
                        .name = fs_name(name) };
    change_xattr(req, FXPROC_REMOVEXATTR, (xdrproc_t)xdr_fx_xattr_args, &a);
}

void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    struct client *cl = fs_client(req);
    struct rpc_cred cr;
    fs_get_cred(req, &cr);
    fx_getattr_args a = { .ino = fs_gw_ino(cl, ino) };
    fx_listxattr_res r;
    memset(&r, 0, sizeof(r));
    int rc = fs_call(cl, &cr, FXPROC_LISTXATTR,
                     (xdrproc_t)xdr_fx_getattr_args, &a,
                     (xdrproc_t)xdr_fx_listxattr_res, &r, NULL);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    if (r.status)
        fuse_reply_err(req, r.status);
    else
        reply_value(req, r.fx_listxattr_res_u.names.names_val,
                    r.fx_listxattr_res_u.names.names_len, size);
    xdr_free((xdrproc_t)xdr_fx_listxattr_res, (char *)&r);
}

/* access(2) as the gateway judges it (mode bits and ACLs).  With kernel
 * ACL support the kernel answers access(2) itself; this serves kernels
 * that still ask. */
void fs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    struct client *cl = fs_client(req);
    if ((mask & W_OK) && cl->opts.ro) {
        fuse_reply_err(req, EROFS);
        return;
    }
    struct rpc_cred cr;
    fs_get_cred(req, &cr);
    fx_access_args a = { .ino = fs_gw_ino(cl, ino),
                         .mask = (u_int)(mask & (R_OK | W_OK | X_OK)) };
    fx_status_res r = { 0 };
    int rc = fs_call(cl, &cr, FXPROC_ACCESS, (xdrproc_t)xdr_fx_access_args,
                     &a, (xdrproc_t)xdr_fx_status_res, &r, NULL);
    fuse_reply_err(req, rc < 0 ? -rc : r.status);
}

/* ---- locks ---- */

static fx_lock lock_of(const struct flock *fl, uint64_t owner)
{
    fx_lock l;
    memset(&l, 0, sizeof(l));
    l.type = fl->l_type == F_RDLCK ? FX_LOCK_READ
             : fl->l_type == F_WRLCK ? FX_LOCK_WRITE : FX_LOCK_UNLOCK;
    l.kind = FX_LOCK_POSIX;
    l.start = (uint64_t)fl->l_start;
    /* libfuse gives a length, 0 for "to the end of the file". */
    l.end = fl->l_len > 0 ? (uint64_t)(fl->l_start + fl->l_len - 1)
                          : FX_LOCK_EOF;
    l.owner = owner;
    l.pid = (uint32_t)fl->l_pid;
    return l;
}

/* A waiting call to cancel when the kernel interrupts the request. */
struct lock_wait {
    struct client *cl;
    uint64_t session, token;
};

static void lock_interrupted(fuse_req_t req, void *data)
{
    struct lock_wait *w = data;
    fx_lock_cancel_args a = { .session = w->session, .token = w->token };
    fx_status_res r = { 0 };
    int rc = fs_call(w->cl, NULL, FXPROC_LOCK_CANCEL,
                     (xdrproc_t)xdr_fx_lock_cancel_args, &a,
                     (xdrproc_t)xdr_fx_status_res, &r, NULL);
    log_debug("lock request %llu interrupted: cancel %d/%d",
              (unsigned long long)w->token, rc, r.status);
}

static int setlk_call(struct client *cl, uint64_t ino, const fx_lock *lk,
                      int wait, uint64_t token)
{
    fx_setlk_args a = { .ino = ino, .lock = *lk, .wait = wait,
                        .token = token };
    fx_status_res r = { 0 };
    int rc = wait ? fs_call_wait(cl, NULL, FXPROC_SETLK,
                                 (xdrproc_t)xdr_fx_setlk_args, &a,
                                 (xdrproc_t)xdr_fx_status_res, &r)
                  : fs_call(cl, NULL, FXPROC_SETLK,
                            (xdrproc_t)xdr_fx_setlk_args, &a,
                            (xdrproc_t)xdr_fx_status_res, &r, NULL);
    return rc < 0 ? rc : -r.status;
}

/* Takes, changes or drops a lock for the request; with sleep, waits for
 * it (until granted, refused with EDEADLK, or interrupted: EINTR). */
static int set_lock(fuse_req_t req, uint64_t ino, fx_lock *lk, int sleep)
{
    struct client *cl = fs_client(req);
    int rc = -ESTALE;
    for (int tries = 0; tries < 2 && rc == -ESTALE; tries++) {
        lk->session = session_id(cl->sess);
        rc = setlk_call(cl, ino, lk, 0, 0);
        if (rc == -EAGAIN && sleep && lk->type != FX_LOCK_UNLOCK) {
            struct lock_wait w = { cl, lk->session,
                                   atomic_fetch_add(&lock_tokens, 1) + 1 };
            /* Called at once if the interrupt came already: the cancel
             * then reaches the gateway first and refuses the wait. */
            fuse_req_interrupt_func(req, lock_interrupted, &w);
            rc = setlk_call(cl, ino, lk, 1, w.token);
            fuse_req_interrupt_func(req, NULL, NULL);
        }
        if (rc != -ESTALE || !session_stale(cl->sess, lk->session))
            break;
    }
    return rc;
}

/* Before letting go of a lock: what was written under it is committed. */
static int before_unlock(struct client *cl, struct fnode *fn)
{
    pthread_mutex_lock(&fn->lock);
    int dirty = wb_dirty(fn);
    pthread_mutex_unlock(&fn->lock);
    return dirty ? wb_flush(cl, fn) : 0;
}

/* After a lock was granted: read afresh what others wrote before. */
static void after_lock(struct client *cl, struct fnode *fn, fuse_ino_t ino,
                       int posix)
{
    pthread_mutex_lock(&fn->lock);
    if (posix)
        fn->posix_locks = 1;
    fnode_map_drop(fn);
    fn->kcache_known = 0;
    pthread_mutex_unlock(&fn->lock);
    fuse_lowlevel_notify_inval_inode(cl->se, ino, 0, 0);
}

static void lock_op(fuse_req_t req, fuse_ino_t ino, fx_lock *lk, int sleep)
{
    struct client *cl = fs_client(req);
    uint64_t gw = fs_gw_ino(cl, ino);
    struct fnode *fn = fnode_get(cl->inodes, gw);
    if (!fn) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    int rc = 0;
    if (lk->type == FX_LOCK_UNLOCK || lk->type == FX_LOCK_READ)
        rc = before_unlock(cl, fn);
    if (rc == 0)
        rc = set_lock(req, gw, lk, sleep);
    if (rc == 0 && lk->type != FX_LOCK_UNLOCK)
        after_lock(cl, fn, ino, lk->kind == FX_LOCK_POSIX);
    fuse_reply_err(req, -rc);
    fnode_put(cl->inodes, fn);
}

void fs_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
              struct flock *lock)
{
    struct client *cl = fs_client(req);
    fx_lock_args a = { .ino = fs_gw_ino(cl, ino),
                       .lock = lock_of(lock, fi->lock_owner) };
    a.lock.session = session_id(cl->sess);
    fx_getlk_res r;
    memset(&r, 0, sizeof(r));
    int rc = fs_call(cl, NULL, FXPROC_GETLK, (xdrproc_t)xdr_fx_lock_args, &a,
                     (xdrproc_t)xdr_fx_getlk_res, &r, NULL);
    if (rc == 0 && r.status)
        rc = -r.status;
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    const fx_lock *c = &r.fx_getlk_res_u.conflict;
    if (c->type == FX_LOCK_UNLOCK) {
        lock->l_type = F_UNLCK;
    } else {
        lock->l_type = c->type == FX_LOCK_WRITE ? F_WRLCK : F_RDLCK;
        lock->l_whence = SEEK_SET;
        lock->l_start = (off_t)c->start;
        lock->l_len = c->end >= (uint64_t)INT64_MAX
                      ? 0 : (off_t)(c->end - c->start + 1);
        lock->l_pid = (pid_t)c->pid;
    }
    fuse_reply_lock(req, lock);
}

void fs_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
              struct flock *lock, int sleep)
{
    fx_lock lk = lock_of(lock, fi->lock_owner);
    lock_op(req, ino, &lk, sleep);
}

void fs_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
              int op)
{
    fx_lock lk;
    memset(&lk, 0, sizeof(lk));
    lk.kind = FX_LOCK_FLOCK;
    lk.type = (op & LOCK_SH) ? FX_LOCK_READ
              : (op & LOCK_EX) ? FX_LOCK_WRITE : FX_LOCK_UNLOCK;
    lk.end = FX_LOCK_EOF;
    lk.owner = fi->lock_owner;
    lk.pid = (uint32_t)fuse_req_ctx(req)->pid;
    lock_op(req, ino, &lk, !(op & LOCK_NB));
}

static void release_owner(struct client *cl, uint64_t ino, uint64_t owner,
                          uint32_t kind)
{
    fx_lock_release_args a = { .ino = ino, .session = session_id(cl->sess),
                               .owner = owner, .kind = kind };
    fx_status_res r = { 0 };
    int rc = fs_call(cl, NULL, FXPROC_LOCK_RELEASE,
                     (xdrproc_t)xdr_fx_lock_release_args, &a,
                     (xdrproc_t)xdr_fx_status_res, &r, NULL);
    if (rc == 0 && r.status && r.status != ESTALE)
        rc = -r.status;
    if (rc < 0)
        log_warn("inode %llu: releasing locks: %s",
                 (unsigned long long)ino, strerror(-rc));
}

void fs_locks_flush(struct client *cl, struct fnode *fn,
                    struct fuse_file_info *fi)
{
    /* Only files this mount ever locked cost a call on close. */
    pthread_mutex_lock(&fn->lock);
    int locked = fn->posix_locks;
    pthread_mutex_unlock(&fn->lock);
    if (locked)
        release_owner(cl, fn->ino, fi->lock_owner, FX_LOCK_POSIX);
}

void fs_locks_release(struct client *cl, struct fnode *fn,
                      struct fuse_file_info *fi)
{
    if (fi->flock_release)
        release_owner(cl, fn->ino, fi->lock_owner, FX_LOCK_FLOCK);
}
