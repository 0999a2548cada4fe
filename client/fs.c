/* fs.c - the FUSE low-level operations: each turns a kernel request into
 * native calls to the gateway (metadata) or into the data path (reads
 * and writes of blocks), shaped like libfuse's passthrough_hp.
 *
 * The FUSE node id is the gateway's inode number, except that the
 * volume's root and FUSE_ROOT_ID trade places.  Every call carries the
 * requester's uid, gid and groups and the gateway decides about access.
 * Kernel ACL support (FUSE_CAP_POSIX_ACL, which implies
 * default_permissions) makes the kernel check mode bits and ACLs too,
 * with the same rules, also on paths it has cached.  Errors from the
 * gateway are errnos and go back to the kernel as they are.  Extended
 * attributes, access(2) and locks are in fs_posix.c. */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 312
#include "config.h"
#include "fs.h"
#include "fs_int.h"
#include "client.h"
#include "credcache.h"
#include "inode.h"
#include "log.h"
#include "readpath.h"
#include "rpcpool.h"
#include "session.h"
#include "stats.h"
#include "writeback.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_BATCH_BYTES (64u * 1024)

static struct client *CL(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* Root and FUSE_ROOT_ID swap places; the mapping is its own inverse. */
static uint64_t swap_root(struct client *cl, uint64_t ino)
{
    uint64_t root = session_volume(cl->sess)->root;
    if (ino == root)
        return FUSE_ROOT_ID;
    if (ino == FUSE_ROOT_ID)
        return root;
    return ino;
}
#define GW(cl, ino) swap_root((cl), (ino))
#define NODE(cl, ino) swap_root((cl), (ino))

static void get_cred(fuse_req_t req, struct rpc_cred *cr)
{
    credcache_get(CL(req)->creds, req, cr);
}

/* A gateway call; transport failures become EIO for the application. */
static int transport_eio(int rc)
{
    if (rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EHOSTUNREACH ||
        rc == -ENETUNREACH || rc == -ECONNRESET || rc == -EOPNOTSUPP)
        rc = -EIO;
    return rc;
}

static int call(struct client *cl, const struct rpc_cred *cr, uint32_t proc,
                xdrproc_t xa, void *a, xdrproc_t xr, void *r, int *resent)
{
    return transport_eio(rpcpool_call(cl->pool, cr, proc, xa, a, xr, r,
                                      resent));
}

int fs_call_wait(struct client *cl, const struct rpc_cred *cr, uint32_t proc,
                 xdrproc_t xa, void *a, xdrproc_t xr, void *r)
{
    return transport_eio(rpcpool_call_wait(cl->pool, cr, proc, xa, a, xr,
                                           r));
}

struct client *fs_client(fuse_req_t req)
{
    return CL(req);
}

uint64_t fs_gw_ino(struct client *cl, fuse_ino_t ino)
{
    return GW(cl, ino);
}

void fs_get_cred(fuse_req_t req, struct rpc_cred *cr)
{
    get_cred(req, cr);
}

int fs_call(struct client *cl, const struct rpc_cred *cr, uint32_t proc,
            xdrproc_t xa, void *a, xdrproc_t xr, void *r, int *resent)
{
    return call(cl, cr, proc, xa, a, xr, r, resent);
}

/* A change on a read-only mount fails here, before the gateway sees it;
 * returns 1 when it has answered the request. */
static int refuse_read_only(fuse_req_t req)
{
    if (!CL(req)->opts.ro)
        return 0;
    fuse_reply_err(req, EROFS);
    return 1;
}

static fx_name mkname(const char *name)
{
    fx_name n = { .fx_name_len = (u_int)strlen(name),
                  .fx_name_val = (char *)name };
    return n;
}

int fs_refuse_read_only(fuse_req_t req)
{
    return refuse_read_only(req);
}

fx_name fs_name(const char *name)
{
    return mkname(name);
}

static void attr_to_stat(struct client *cl, const fx_attr *a, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = a->ino;
    st->st_mode = a->mode;
    st->st_nlink = a->nlink;
    st->st_uid = a->uid;
    st->st_gid = a->gid;
    st->st_rdev = a->rdev;
    st->st_size = (off_t)a->size;
    st->st_blocks = (blkcnt_t)a->blocks;
    /* The block is the unit of allocation: SEEK_HOLE finds holes at its
     * granularity, and tools that size their I/O by st_blksize (cp,
     * xfstests' seek_sanity_test) then agree with it. */
    st->st_blksize = session_volume(cl->sess)->block_size;
    st->st_atim.tv_sec = a->atime.sec;
    st->st_atim.tv_nsec = a->atime.nsec;
    st->st_mtim.tv_sec = a->mtime.sec;
    st->st_mtim.tv_nsec = a->mtime.nsec;
    st->st_ctim.tv_sec = a->ctime.sec;
    st->st_ctim.tv_nsec = a->ctime.nsec;
}

/* Takes in a from the gateway and fills st as the kernel should see the
 * file: with this client's uncommitted writes counted in. */
static void absorb_attr(struct client *cl, struct fnode *fn, const fx_attr *a,
                        struct stat *st)
{
    pthread_mutex_lock(&fn->lock);
    /* A reply overtaken by a newer one (our own commit, finished while
     * it was on the way) must not reach the kernel: without a write-back
     * cache it takes the size as it comes, and the file would shrink
     * under its writer.  fn->attr is the newer of the two. */
    fnode_set_attr(fn, a);
    attr_to_stat(cl, &fn->attr, st);
    if (wb_dirty(fn)) {
        if ((uint64_t)st->st_size < fn->dirty_end)
            st->st_size = (off_t)fn->dirty_end;
        /* write(2) marks both; the commit will set them for real. */
        st->st_mtim = fn->wtime;
        if (st->st_ctim.tv_sec < fn->wtime.tv_sec ||
            (st->st_ctim.tv_sec == fn->wtime.tv_sec &&
             st->st_ctim.tv_nsec < fn->wtime.tv_nsec))
            st->st_ctim = fn->wtime;
    }
    pthread_mutex_unlock(&fn->lock);
}

/* The node of gateway inode ino, held; NULL when there is no memory for
 * it, and then the request is answered (ENOMEM). */
static struct fnode *get_node(fuse_req_t req, uint64_t ino)
{
    struct fnode *fn = fnode_get(CL(req)->inodes, ino);
    if (!fn)
        fuse_reply_err(req, ENOMEM);
    return fn;
}

/* Replies with a new entry; the kernel takes a reference to the inode. */
static void reply_entry(fuse_req_t req, const fx_attr *a)
{
    struct client *cl = CL(req);
    struct fuse_entry_param e;
    memset(&e, 0, sizeof(e));
    struct fnode *fn = get_node(req, a->ino);
    if (!fn)
        return;
    absorb_attr(cl, fn, a, &e.attr);
    pthread_mutex_lock(&fn->lock);
    if (!fn->kcache_known) {
        /* The kernel's view starts from these attributes. */
        fn->kcache_known = 1;
        fn->kcache_change = a->change;
    }
    pthread_mutex_unlock(&fn->lock);
    e.ino = NODE(cl, a->ino);
    e.generation = a->gen;
    e.attr_timeout = cl->opts.attr_timeout;
    e.entry_timeout = cl->opts.entry_timeout;
    fnode_lookup_inc(cl->inodes, fn);
    if (fuse_reply_entry(req, &e) != 0)
        fnode_forget(cl->inodes, a->ino, 1);
    fnode_put(cl->inodes, fn);
}

static void reply_attr_res(fuse_req_t req, struct fnode *fn, const fx_attr *a)
{
    struct client *cl = CL(req);
    struct stat st;
    absorb_attr(cl, fn, a, &st);
    fuse_reply_attr(req, &st, cl->opts.attr_timeout);
}

/* A directory removed while the kernel still holds it (an open
 * descriptor, someone's working directory) is gone at the gateway, which
 * answers ESTALE.  POSIX has such a directory behave as empty, with no
 * links, and refuse new entries (ENOENT): its last attributes, with nlink
 * 0, stand for it.  Whether gw is one (then *last, if given). */
static int removed_dir(struct client *cl, uint64_t gw, fx_attr *last)
{
    if (gw == session_volume(cl->sess)->root)
        return 0;                       /* a volume never goes this way */
    struct fnode *fn = fnode_find(cl->inodes, gw);
    if (!fn)
        return 0;
    pthread_mutex_lock(&fn->lock);
    int dir = fn->have_attr && S_ISDIR(fn->attr.mode);
    if (dir && last) {
        *last = fn->attr;
        last->nlink = 0;
    }
    pthread_mutex_unlock(&fn->lock);
    fnode_put(cl->inodes, fn);
    return dir;
}

/* The error of a call naming an entry of directory gw: ENOENT in a
 * removed one. */
static int entry_errno(struct client *cl, uint64_t gw, int err)
{
    return err == ESTALE && removed_dir(cl, gw, NULL) ? ENOENT : err;
}

/* A call of ours that added, removed or moved a name answered with the
 * directory's new attributes.  The kernel drops a directory's cached
 * attributes whenever one of its entries changes and asks for them before
 * its next permission check there (every create in `cp -r`, every unlink
 * in `rm -r`), so fs_getattr answers that from these, for as long as the
 * kernel would have cached them. */
static void dir_changed(struct client *cl, const fx_attr *a)
{
    struct fnode *fn = fnode_find(cl->inodes, a->ino);
    if (!fn)
        return;
    pthread_mutex_lock(&fn->lock);
    fnode_set_attr(fn, a);
    fn->attr_until_ns = stats_now_ns() +
                        (uint64_t)(cl->opts.attr_timeout * 1e9);
    pthread_mutex_unlock(&fn->lock);
    fnode_put(cl->inodes, fn);
}

/* Answers a GETATTR from what dir_changed kept, if still fresh: with the
 * rest of its time as the kernel's timeout, so the kernel's view is never
 * older than attr_timeout.  Returns 0 if it did not answer. */
static int reply_fresh_attr(fuse_req_t req, uint64_t ino)
{
    struct client *cl = CL(req);
    struct fnode *fn = fnode_find(cl->inodes, ino);
    if (!fn)
        return 0;
    struct stat st;
    uint64_t now = stats_now_ns();
    pthread_mutex_lock(&fn->lock);
    uint64_t until = fn->attr_until_ns;
    int fresh = fn->have_attr && now < until;
    if (fresh)
        attr_to_stat(cl, &fn->attr, &st);
    pthread_mutex_unlock(&fn->lock);
    fnode_put(cl->inodes, fn);
    if (fresh)
        fuse_reply_attr(req, &st, (double)(until - now) / 1e9);
    return fresh;
}

/* ---- names ---- */

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct client *cl = CL(req);
    struct rpc_cred cr;
    get_cred(req, &cr);
    fx_lookup_args a = { .parent = GW(cl, parent), .name = mkname(name) };
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    int rc = call(cl, &cr, FXPROC_LOOKUP, (xdrproc_t)xdr_fx_lookup_args, &a,
                  (xdrproc_t)xdr_fx_attr_res, &r, NULL);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else if (r.status)
        fuse_reply_err(req, entry_errno(cl, a.parent, r.status));
    else
        reply_entry(req, &r.fx_attr_res_u.attr);
    xdr_free((xdrproc_t)xdr_fx_attr_res, (char *)&r);
}

/* A call that makes the entry parent/name (MKNOD, MKDIR, SYMLINK, LINK).
 * With made_here, a resent call that finds the name taken (EEXIST)
 * answers with the entry that is there: our first try made it before the
 * connection broke. */
static void make_call(fuse_req_t req, uint32_t proc, xdrproc_t xa, void *a,
                      fuse_ino_t parent, const char *name, int made_here)
{
    struct client *cl = CL(req);
    struct rpc_cred cr;
    get_cred(req, &cr);
    fx_entry_res r;
    memset(&r, 0, sizeof(r));
    int resent = 0;
    int rc = call(cl, &cr, proc, xa, a, (xdrproc_t)xdr_fx_entry_res, &r,
                  &resent);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    if (r.status == EEXIST && resent && made_here) {
        xdr_free((xdrproc_t)xdr_fx_entry_res, (char *)&r);
        fs_lookup(req, parent, name);
        return;
    }
    if (r.status) {
        fuse_reply_err(req, entry_errno(cl, GW(cl, parent), r.status));
    } else {
        dir_changed(cl, &r.fx_entry_res_u.ok.parent);
        reply_entry(req, &r.fx_entry_res_u.ok.attr);
    }
    xdr_free((xdrproc_t)xdr_fx_entry_res, (char *)&r);
}

/* A call that removes or moves a name (UNLINK, RMDIR, RENAME) in
 * directory gw (and, for RENAME, gw2).  A resent call that finds the name
 * gone (ENOENT) succeeded: our first try did the work before the
 * connection broke. */
static void unname_call(fuse_req_t req, uint32_t proc, xdrproc_t xa, void *a,
                        uint64_t gw, uint64_t gw2)
{
    struct client *cl = CL(req);
    struct rpc_cred cr;
    get_cred(req, &cr);
    int rename = proc == FXPROC_RENAME;
    xdrproc_t xr = rename ? (xdrproc_t)xdr_fx_rename_res
                          : (xdrproc_t)xdr_fx_remove_res;
    union {
        fx_remove_res rm;
        fx_rename_res mv;
    } r;
    memset(&r, 0, sizeof(r));
    int resent = 0;
    int rc = call(cl, &cr, proc, xa, a, xr, &r, &resent);
    if (rc == 0) {
        rc = -(rename ? r.mv.status : r.rm.status);
        if (rc == 0 && rename) {
            dir_changed(cl, &r.mv.fx_rename_res_u.ok.from_parent);
            dir_changed(cl, &r.mv.fx_rename_res_u.ok.to_parent);
        } else if (rc == 0) {
            dir_changed(cl, &r.rm.fx_remove_res_u.parent);
        }
        xdr_free(xr, (char *)&r);
        if (rc == -ENOENT && resent)
            rc = 0;
        if (rc == -ESTALE &&
            (removed_dir(cl, gw, NULL) || removed_dir(cl, gw2, NULL)))
            rc = -ENOENT;
    }
    fuse_reply_err(req, -rc);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    struct client *cl = CL(req);
    fnode_forget(cl->inodes, GW(cl, ino), nlookup);
    fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count,
                            struct fuse_forget_data *forgets)
{
    struct client *cl = CL(req);
    for (size_t i = 0; i < count; i++)
        fnode_forget(cl->inodes, GW(cl, forgets[i].ino), forgets[i].nlookup);
    fuse_reply_none(req);
}

static int do_getattr(struct client *cl, const struct rpc_cred *cr,
                      uint64_t ino, fx_attr *out)
{
    fx_getattr_args a = { .ino = ino };
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    int rc = call(cl, cr, FXPROC_GETATTR, (xdrproc_t)xdr_fx_getattr_args, &a,
                  (xdrproc_t)xdr_fx_attr_res, &r, NULL);
    if (rc < 0)
        return rc;
    if (r.status)
        rc = -r.status;
    else
        *out = r.fx_attr_res_u.attr;
    xdr_free((xdrproc_t)xdr_fx_attr_res, (char *)&r);
    return rc;
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
    struct client *cl = CL(req);
    if (reply_fresh_attr(req, GW(cl, ino)))
        return;
    struct rpc_cred cr;
    get_cred(req, &cr);
    fx_attr a;
    int rc = do_getattr(cl, &cr, GW(cl, ino), &a);
    if (rc == -ESTALE && removed_dir(cl, GW(cl, ino), &a)) {
        struct stat st;
        attr_to_stat(cl, &a, &st);
        fuse_reply_attr(req, &st, 0);
        return;
    }
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    struct fnode *fn = get_node(req, a.ino);
    if (!fn)
        return;
    reply_attr_res(req, fn, &a);
    fnode_put(cl->inodes, fn);
}

static void set_time(fx_settime *t, int now, int given,
                     const struct timespec *ts)
{
    if (now) {
        t->how = FX_TIME_SERVER;
    } else if (given) {
        t->how = FX_TIME_CLIENT;
        t->time.sec = ts->tv_sec;
        t->time.nsec = (u_int)ts->tv_nsec;
    } else {
        t->how = FX_TIME_DONT;
    }
}

/* Takes in the attributes of our own metadata change: the kernel applied
 * it to its cache too, so its pages still match unless someone else
 * changed the file in between. */
static void own_change(struct fnode *fn, const fx_attr *a)
{
    pthread_mutex_lock(&fn->lock);
    if (fn->have_attr && fn->kcache_known &&
        fn->kcache_change == fn->attr.change &&
        a->change == fn->attr.change + 1)
        fn->kcache_change = a->change;
    pthread_mutex_unlock(&fn->lock);
}

/* A call that names our session (*session, inside the arguments a) and
 * answers with attributes.  ESTALE for a session that has since been
 * replaced (the gateway restarted) is tried again with the new one. */
static int session_attr_call(struct client *cl, const struct rpc_cred *cr,
                             uint32_t proc, xdrproc_t xa, void *a,
                             uint64_t *session, fx_attr *out)
{
    for (int tries = 0; tries < 3; tries++) {
        *session = session_id(cl->sess);
        fx_attr_res r;
        memset(&r, 0, sizeof(r));
        int rc = call(cl, cr, proc, xa, a, (xdrproc_t)xdr_fx_attr_res, &r,
                      NULL);
        if (rc < 0)
            return rc;
        int st = r.status;
        if (st == 0)
            *out = r.fx_attr_res_u.attr;
        xdr_free((xdrproc_t)xdr_fx_attr_res, (char *)&r);
        if (st == ESTALE && session_stale(cl->sess, *session))
            continue;
        return -st;
    }
    return -ESTALE;
}

static int do_setattr(struct client *cl, const struct rpc_cred *cr,
                      fx_setattr_args *a, fx_attr *out)
{
    return session_attr_call(cl, cr, FXPROC_SETATTR,
                             (xdrproc_t)xdr_fx_setattr_args, a, &a->session,
                             out);
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
                       int to_set, struct fuse_file_info *fi)
{
    struct client *cl = CL(req);
    struct rpc_cred cr;
    get_cred(req, &cr);
    uint64_t gw = GW(cl, ino);
    struct fnode *fn = get_node(req, gw);
    if (!fn)
        return;
    /* Uncommitted data first, so that a truncation or a new mtime is
     * not undone by a later commit. */
    pthread_mutex_lock(&fn->lock);
    int dirty = wb_dirty(fn);
    pthread_mutex_unlock(&fn->lock);
    int rc = dirty ? wb_flush(cl, fn) : 0;
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        fnode_put(cl->inodes, fn);
        return;
    }
    fx_setattr_args a;
    memset(&a, 0, sizeof(a));
    a.ino = gw;
    if (to_set & FUSE_SET_ATTR_MODE) {
        a.valid |= FX_SET_MODE;
        a.mode = attr->st_mode & 07777;
    }
    if (to_set & FUSE_SET_ATTR_UID) {
        a.valid |= FX_SET_UID;
        a.uid = attr->st_uid;
    }
    if (to_set & FUSE_SET_ATTR_GID) {
        a.valid |= FX_SET_GID;
        a.gid = attr->st_gid;
    }
    if (to_set & FUSE_SET_ATTR_SIZE) {
        if (cl->opts.ro) {
            fuse_reply_err(req, EROFS);
            fnode_put(cl->inodes, fn);
            return;
        }
        a.valid |= FX_SET_SIZE;
        a.size = (uint64_t)attr->st_size;
        if (fi)                 /* ftruncate: open() checked access */
            a.valid |= FX_SET_BY_HANDLE;
    }
    set_time(&a.atime, to_set & FUSE_SET_ATTR_ATIME_NOW,
             to_set & FUSE_SET_ATTR_ATIME, &attr->st_atim);
    set_time(&a.mtime, to_set & FUSE_SET_ATTR_MTIME_NOW,
             to_set & FUSE_SET_ATTR_MTIME, &attr->st_mtim);
    fx_attr out;
    rc = do_setattr(cl, &cr, &a, &out);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
    } else {
        own_change(fn, &out);
        if (to_set & FUSE_SET_ATTR_SIZE) {
            pthread_mutex_lock(&fn->lock);
            fnode_map_drop(fn);
            fn->ra_upto = 0;
            pthread_mutex_unlock(&fn->lock);
        }
        reply_attr_res(req, fn, &out);
    }
    fnode_put(cl->inodes, fn);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
    struct client *cl = CL(req);
    struct rpc_cred cr;
    get_cred(req, &cr);
    fx_getattr_args a = { .ino = GW(cl, ino) };
    fx_readlink_res r;
    memset(&r, 0, sizeof(r));
    int rc = call(cl, &cr, FXPROC_READLINK, (xdrproc_t)xdr_fx_getattr_args,
                  &a, (xdrproc_t)xdr_fx_readlink_res, &r, NULL);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    if (r.status)
        fuse_reply_err(req, r.status);
    else
        fuse_reply_readlink(req, r.fx_readlink_res_u.target);
    xdr_free((xdrproc_t)xdr_fx_readlink_res, (char *)&r);
}

/* MKNOD and MKDIR. */
static void make_node(fuse_req_t req, uint32_t proc, fuse_ino_t parent,
                      const char *name, mode_t mode, dev_t rdev)
{
    if (refuse_read_only(req))
        return;
    fx_create_args a;
    memset(&a, 0, sizeof(a));
    a.parent = GW(CL(req), parent);
    a.name = mkname(name);
    a.mode = mode;
    a.umask = fuse_req_ctx(req)->umask;
    a.rdev = rdev;
    make_call(req, proc, (xdrproc_t)xdr_fx_create_args, &a, parent, name, 1);
}

static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode, dev_t rdev)
{
    make_node(req, FXPROC_MKNOD, parent, name, mode, rdev);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode)
{
    make_node(req, FXPROC_MKDIR, parent, name, S_IFDIR | (mode & 07777), 0);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
                       const char *name)
{
    if (refuse_read_only(req))
        return;
    fx_symlink_args a = { .parent = GW(CL(req), parent), .name = mkname(name),
                          .target = { .target_len = (u_int)strlen(link),
                                      .target_val = (char *)link } };
    make_call(req, FXPROC_SYMLINK, (xdrproc_t)xdr_fx_symlink_args, &a,
              parent, name, 1);
}

/* A resent LINK that finds the name taken is not taken for our own
 * result: the name may be another file's. */
static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                    const char *newname)
{
    struct client *cl = CL(req);
    if (refuse_read_only(req))
        return;
    fx_link_args a = { .ino = GW(cl, ino), .newparent = GW(cl, newparent),
                       .newname = mkname(newname) };
    make_call(req, FXPROC_LINK, (xdrproc_t)xdr_fx_link_args, &a, newparent,
              newname, 0);
}

static void remove_name(fuse_req_t req, uint32_t proc, fuse_ino_t parent,
                        const char *name)
{
    if (refuse_read_only(req))
        return;
    fx_unlink_args a = { .parent = GW(CL(req), parent), .name = mkname(name) };
    unname_call(req, proc, (xdrproc_t)xdr_fx_unlink_args, &a, a.parent,
                a.parent);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    remove_name(req, FXPROC_UNLINK, parent, name);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    remove_name(req, FXPROC_RMDIR, parent, name);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                      fuse_ino_t newparent, const char *newname,
                      unsigned int flags)
{
    struct client *cl = CL(req);
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    if (refuse_read_only(req))
        return;
    fx_rename_args a = {
        .parent = GW(cl, parent), .name = mkname(name),
        .newparent = GW(cl, newparent), .newname = mkname(newname),
        .flags = (flags & RENAME_NOREPLACE ? FX_RENAME_NOREPLACE : 0) |
                 (flags & RENAME_EXCHANGE ? FX_RENAME_EXCHANGE : 0),
    };
    unname_call(req, FXPROC_RENAME, (xdrproc_t)xdr_fx_rename_args, &a,
                a.parent, a.newparent);
}

/* ---- open files ---- */

/* Takes in the attributes an open returned: close-to-open.  Returns
 * whether the kernel may keep its cached pages; *inval is set when its
 * cached attributes must go too, *grew (if asked) to the new size when
 * the kernel may hold a smaller one (else 0). */
static int open_revalidate(struct fnode *fn, const fx_attr *a, int *inval,
                           uint64_t *grew)
{
    pthread_mutex_lock(&fn->lock);
    if (grew)
        *grew = fn->have_attr && fn->kcache_known && a->size > fn->attr.size
                ? a->size : 0;
    fnode_set_attr(fn, a);
    uint64_t change = fn->attr.change;  /* the newer of ours and a's */
    int keep = fn->kcache_known && fn->kcache_change == change;
    *inval = fn->kcache_known && !keep;
    if (!keep) {
        fnode_map_drop(fn);
        fn->kcache_known = 1;
        fn->kcache_change = change;
    }
    pthread_mutex_unlock(&fn->lock);
    return keep;
}

/* What a file handle carries (fi->fh): its opener's identity, and
 * whether it appends at the end this client knows (see opened). */
struct handle {
    struct rpc_cred cr;
    int append;
};

/* Counts the open, and gives the handle its opener's identity: reads
 * and writes through it are that process's, whoever opened the file
 * since (a write by root keeps setuid bits, one by a user clears them).
 * The kernel appends at the size it has cached and does not ask again;
 * an open that finds the file grown tells it the new size
 * (kernel_learns_size), which takes reading the last byte.  A write-only
 * O_APPEND handle may have no right to read, so it writes where this
 * client knows the file to end instead, bypassing the page cache so that
 * no page holds the bytes at the offset the kernel meant (such a handle
 * cannot be mapped anyway). */
static void opened(struct fnode *fn, const struct rpc_cred *cr,
                   struct fuse_file_info *fi)
{
    struct handle *mine = malloc(sizeof(*mine));
    if (mine) {
        mine->cr = *cr;
        mine->append = (fi->flags & O_APPEND) &&
                       (fi->flags & O_ACCMODE) == O_WRONLY;
        if (mine->append)
            fi->direct_io = 1;
    }
    fi->fh = (uintptr_t)mine;           /* NULL: the inode's, below */
    pthread_mutex_lock(&fn->lock);
    fn->opens++;
    fn->open_cred = *cr;
    pthread_mutex_unlock(&fn->lock);
}

static void handle_free(struct fuse_file_info *fi)
{
    free((void *)(uintptr_t)fi->fh);
    fi->fh = 0;
}

/* The kernel learns a size only from attributes it asks for, and a page
 * fault in a mapping does not ask: after another client grew the file, an
 * mmap of the new part would get SIGBUS until the attribute cache runs
 * out.  Storing the file's real last byte in the kernel's cache (notify
 * store) moves its size there at open.  Read through our cache, where
 * the reader will likely look next. */
static void kernel_learns_size(struct client *cl, fuse_ino_t ino,
                               struct fnode *fn, const struct rpc_cred *cr,
                               uint64_t size)
{
    struct rp_data d;
    if (rp_read(cl, fn, cr, size - 1, 1, 0, &d) < 0)
        return;
    if (d.got == 1 && d.niov > 0) {
        char byte = *(const char *)d.iov[0].iov_base;
        struct fuse_bufvec bv = FUSE_BUFVEC_INIT(1);
        bv.buf[0].mem = &byte;
        int rc = fuse_lowlevel_notify_store(cl->se, ino, (off_t)(size - 1),
                                            &bv, 0);
        if (rc < 0)
            log_debug("inode %llu: notify_store: %s",
                      (unsigned long long)fn->ino, strerror(-rc));
    }
    rp_done(cl, &d);
}

static void release_at_gateway(struct client *cl, struct fnode *fn)
{
    for (int tries = 0; tries < 3; tries++) {
        uint64_t sess = session_id(cl->sess);
        fx_release_args a = { .ino = fn->ino, .session = sess };
        fx_status_res r = { 0 };
        int rc = call(cl, NULL, FXPROC_RELEASE,
                      (xdrproc_t)xdr_fx_release_args, &a,
                      (xdrproc_t)xdr_fx_status_res, &r, NULL);
        if (rc == 0 && r.status == ESTALE && session_stale(cl->sess, sess))
            continue;
        if (rc == 0 && r.status && r.status != ESTALE)
            rc = -r.status;
        if (rc < 0)
            log_warn("RELEASE of inode %llu: %s",
                     (unsigned long long)fn->ino, strerror(-rc));
        return;
    }
}

/* One close of fn in this mount.  The gateway counts opens per session,
 * so every OPEN and CREATE is matched by one RELEASE; the last close in
 * this mount first commits what is still dirty, while the inode is
 * surely alive. */
static void close_file(struct client *cl, struct fnode *fn)
{
    pthread_mutex_lock(&fn->lock);
    int last = fn->opens > 0 && --fn->opens == 0;
    if (last)
        fn->posix_locks = 0;            /* each close released its own */
    pthread_mutex_unlock(&fn->lock);
    if (last) {
        int rc = wb_flush(cl, fn);
        if (rc < 0) {
            /* close() already reported the failure to the application. */
            log_err("inode %llu: dropping data that could not be written: "
                    "%s", (unsigned long long)fn->ino, strerror(-rc));
            wb_discard(cl, fn);
        }
    }
    release_at_gateway(cl, fn);
}

static int do_open(struct client *cl, const struct rpc_cred *cr,
                   uint64_t ino, uint32_t flags, fx_attr *out)
{
    fx_open_args a = { .ino = ino, .flags = flags };
    return session_attr_call(cl, cr, FXPROC_OPEN,
                             (xdrproc_t)xdr_fx_open_args, &a, &a.session,
                             out);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct client *cl = CL(req);
    if (cl->opts.ro && ((fi->flags & O_ACCMODE) != O_RDONLY ||
                        (fi->flags & O_TRUNC))) {
        fuse_reply_err(req, EROFS);
        return;
    }
    struct rpc_cred cr;
    get_cred(req, &cr);
    uint64_t gw = GW(cl, ino);
    struct fnode *fn = get_node(req, gw);
    if (!fn)
        return;
    int rc = 0;
    if (fi->flags & O_TRUNC)
        rc = wb_flush(cl, fn);
    fx_attr a;
    if (rc == 0)
        rc = do_open(cl, &cr, gw, (uint32_t)(fi->flags & (O_ACCMODE | O_TRUNC)),
                     &a);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        fnode_put(cl->inodes, fn);
        return;
    }
    int inval;
    uint64_t grew;
    fi->keep_cache = open_revalidate(fn, &a, &inval, &grew);
    if (fi->flags & O_DIRECT)
        fi->direct_io = 1;
    opened(fn, &cr, fi);
    if (inval)
        fuse_lowlevel_notify_inval_inode(cl->se, ino, 0, 0);
    if (grew)
        kernel_learns_size(cl, ino, fn, &cr, grew);
    if (fuse_reply_open(req, fi) != 0) {
        handle_free(fi);
        close_file(cl, fn);     /* the kernel will not release it */
    }
    fnode_put(cl->inodes, fn);
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, struct fuse_file_info *fi)
{
    struct client *cl = CL(req);
    if (refuse_read_only(req))
        return;
    struct rpc_cred cr;
    get_cred(req, &cr);
    fx_create_ok ok;
    int rc = 0;
    /* An exclusive create resent after a lost reply finds its own file:
     * then it is ours, so open it without O_EXCL. */
    int exclusive = (fi->flags & O_EXCL) != 0;
    for (int tries = 0; tries < 3; tries++) {
        int resent = 0;
        fx_create_args a;
        memset(&a, 0, sizeof(a));
        a.parent = GW(cl, parent);
        a.name = mkname(name);
        a.mode = S_IFREG | (mode & 07777);
        a.umask = fuse_req_ctx(req)->umask;
        a.exclusive = exclusive;
        a.truncate = (fi->flags & O_TRUNC) != 0;
        a.session = session_id(cl->sess);
        fx_create_res r;
        memset(&r, 0, sizeof(r));
        rc = call(cl, &cr, FXPROC_CREATE, (xdrproc_t)xdr_fx_create_args, &a,
                  (xdrproc_t)xdr_fx_create_res, &r, &resent);
        if (rc < 0)
            break;
        int st = r.status;
        if (st == 0) {
            ok = r.fx_create_res_u.ok;
            dir_changed(cl, &ok.parent);
        }
        xdr_free((xdrproc_t)xdr_fx_create_res, (char *)&r);
        if (st == ESTALE && session_stale(cl->sess, a.session))
            continue;
        if (st == EEXIST && resent && exclusive) {
            exclusive = 0;
            continue;
        }
        rc = -entry_errno(cl, a.parent, st);
        break;
    }
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    struct fnode *fn = get_node(req, ok.attr.ino);
    if (!fn)
        return;
    struct fuse_entry_param e;
    memset(&e, 0, sizeof(e));
    absorb_attr(cl, fn, &ok.attr, &e.attr);
    if (ok.created) {
        /* The kernel asks for the capability before the first write; a
         * new file has none. */
        pthread_mutex_lock(&fn->lock);
        fnode_xattr_remember(fn, "security.capability", ok.attr.change,
                             NULL, 0);
        pthread_mutex_unlock(&fn->lock);
    }
    int inval = 0;
    /* The entry reply gives the kernel the size: no *grew wanted. */
    fi->keep_cache = open_revalidate(fn, &ok.attr, &inval, NULL);
    if (fi->flags & O_DIRECT)
        fi->direct_io = 1;
    opened(fn, &cr, fi);
    e.ino = NODE(cl, ok.attr.ino);
    e.generation = ok.attr.gen;
    e.attr_timeout = cl->opts.attr_timeout;
    e.entry_timeout = cl->opts.entry_timeout;
    if (inval)
        fuse_lowlevel_notify_inval_inode(cl->se, e.ino, 0, 0);
    fnode_lookup_inc(cl->inodes, fn);
    if (fuse_reply_create(req, &e, fi) != 0) {
        handle_free(fi);
        fnode_forget(cl->inodes, ok.attr.ino, 1);
        close_file(cl, fn);
    }
    fnode_put(cl->inodes, fn);
}

/* The identity for data-path calls of an open file: its opener's, as
 * access was checked when it was opened (as POSIX wants); reading the
 * caller's groups from /proc on every read or write would also cost more
 * than the I/O. */
static void data_cred(fuse_req_t req, struct fnode *fn,
                      const struct fuse_file_info *fi, struct rpc_cred *cr)
{
    if (fi && fi->fh) {
        *cr = ((const struct handle *)(uintptr_t)fi->fh)->cr;
        return;
    }
    pthread_mutex_lock(&fn->lock);
    int open = fn->opens > 0;
    if (open)
        *cr = fn->open_cred;
    pthread_mutex_unlock(&fn->lock);
    if (!open)
        get_cred(req, cr);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct client *cl = CL(req);
    struct fnode *fn = get_node(req, GW(cl, ino));
    if (!fn)
        return;
    struct rpc_cred cr;
    data_cred(req, fn, fi, &cr);
    struct rp_data d;
    int rc = rp_read(cl, fn, &cr, (uint64_t)off, size, !fi->direct_io, &d);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
    } else {
        atomic_fetch_add(&cl->stats->bytes_read, d.got);
        fuse_reply_iov(req, d.iov, d.niov);
        rp_done(cl, &d);
    }
    fnode_put(cl->inodes, fn);
}

/* SEEK_DATA and SEEK_HOLE (the kernel answers the other whences): so
 * cp, tar and rsync skip holes instead of reading and writing zeros. */
static void fs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                     struct fuse_file_info *fi)
{
    struct client *cl = CL(req);
    if (whence != SEEK_DATA && whence != SEEK_HOLE) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    if (off < 0) {
        fuse_reply_err(req, ENXIO);
        return;
    }
    struct fnode *fn = get_node(req, GW(cl, ino));
    if (!fn)
        return;
    struct rpc_cred cr;
    data_cred(req, fn, fi, &cr);
    uint64_t pos = 0;
    int rc = wb_flush(cl, fn);
    if (rc == 0)
        rc = rp_seek(cl, fn, &cr, (uint64_t)off, whence, &pos);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_lseek(req, (off_t)pos);
    fnode_put(cl->inodes, fn);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
                     size_t size, off_t off, struct fuse_file_info *fi)
{
    struct client *cl = CL(req);
    if (refuse_read_only(req))
        return;
    struct fnode *fn = get_node(req, GW(cl, ino));
    if (!fn)
        return;
    struct rpc_cred cr;
    data_cred(req, fn, fi, &cr);
    uint64_t at = (uint64_t)off;
    const struct handle *h = (const struct handle *)(uintptr_t)fi->fh;
    if (h && h->append) {
        /* The kernel serializes writes to the inode: nothing moves the
         * end between here and wb_write but this write. */
        pthread_mutex_lock(&fn->lock);
        at = fn->have_attr ? fn->attr.size : 0;
        if (fn->dirty_end > at)
            at = fn->dirty_end;
        pthread_mutex_unlock(&fn->lock);
    }
    int rc = wb_write(cl, fn, &cr, at, buf, size);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
    } else {
        atomic_fetch_add(&cl->stats->bytes_written, size);
        fuse_reply_write(req, size);
    }
    fnode_put(cl->inodes, fn);
}

static void flush_reply(fuse_req_t req, fuse_ino_t ino)
{
    struct client *cl = CL(req);
    struct fnode *fn = fnode_find(cl->inodes, GW(cl, ino));
    int rc = fn ? wb_flush(cl, fn) : 0;
    fuse_reply_err(req, -rc);
    fnode_put(cl->inodes, fn);
}

/* close() of a descriptor: commits what is dirty, then (as POSIX wants
 * for any close) drops the closing process's fcntl locks on the file,
 * after the data, so the next holder reads it. */
static void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct client *cl = CL(req);
    struct fnode *fn = fnode_find(cl->inodes, GW(cl, ino));
    int rc = fn ? wb_flush(cl, fn) : 0;
    if (fn)
        fs_locks_flush(cl, fn, fi);
    fuse_reply_err(req, -rc);
    fnode_put(cl->inodes, fn);
}

static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                     struct fuse_file_info *fi)
{
    flush_reply(req, ino);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
    struct client *cl = CL(req);
    struct fnode *fn = fnode_find(cl->inodes, GW(cl, ino));
    if (fn) {
        fs_locks_release(cl, fn, fi);
        close_file(cl, fn);
        fnode_put(cl->inodes, fn);
    }
    handle_free(fi);
    fuse_reply_err(req, 0);
}

/* Grows fn's size to at least end (fallocate without KEEP_SIZE). */
static int grow_size(struct client *cl, struct fnode *fn,
                     const struct rpc_cred *cr, uint64_t end)
{
    fx_setattr_args a;
    memset(&a, 0, sizeof(a));
    a.ino = fn->ino;
    /* fallocate(2) needs a descriptor open for writing, as ftruncate.
     * The gateway grows the size only if it is smaller, in one
     * transaction: a size read here first could be stale by then, and
     * setting it would cut off what another client just wrote. */
    a.valid = FX_SET_SIZE | FX_SET_SIZE_GROW | FX_SET_BY_HANDLE;
    a.size = end;
    fx_attr out;
    int rc = do_setattr(cl, cr, &a, &out);
    if (rc == 0) {
        own_change(fn, &out);
        pthread_mutex_lock(&fn->lock);
        fnode_set_attr(fn, &out);
        fnode_map_drop(fn);
        pthread_mutex_unlock(&fn->lock);
    }
    return rc;
}

/* Blocks are made when written, so there is nothing to reserve: plain
 * fallocate only grows the size (the range reads as zeros).  PUNCH_HOLE
 * and ZERO_RANGE make the range read as zeros, whole blocks becoming
 * holes. */
static void fs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
                         off_t offset, off_t length,
                         struct fuse_file_info *fi)
{
    struct client *cl = CL(req);
    (void)fi;
    int zero = mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE);
    if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE |
                  FALLOC_FL_ZERO_RANGE)) ||
        zero == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE) ||
        ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))) {
        fuse_reply_err(req, EOPNOTSUPP);
        return;
    }
    if (offset < 0 || length <= 0) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    if (length > INT64_MAX - offset) {
        fuse_reply_err(req, EFBIG);
        return;
    }
    if (refuse_read_only(req))
        return;
    if (mode == FALLOC_FL_KEEP_SIZE) {
        fuse_reply_err(req, 0);
        return;
    }
    struct rpc_cred cr;
    get_cred(req, &cr);
    struct fnode *fn = get_node(req, GW(cl, ino));
    if (!fn)
        return;
    uint64_t end = (uint64_t)offset + (uint64_t)length;
    int rc = zero ? wb_punch(cl, fn, &cr, (uint64_t)offset, end)
                  : wb_flush(cl, fn);
    if (rc == 0 && !(mode & FALLOC_FL_KEEP_SIZE))
        rc = grow_size(cl, fn, &cr, end);
    fuse_reply_err(req, -rc);
    fnode_put(cl->inodes, fn);
}

/* ---- directories ---- */

/* The last batch of entries read from the gateway, kept so that the
 * kernel's small readdir buffers do not each cost a call. */
struct dirh {
    pthread_mutex_t lock;
    int valid, plus;
    uint64_t after;             /* the cookie the batch started after */
    fx_readdir_res res;
};

static void fs_opendir(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
    struct dirh *d = calloc(1, sizeof(*d));
    if (!d) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    pthread_mutex_init(&d->lock, NULL);
    fi->fh = (uintptr_t)d;
    if (fuse_reply_open(req, fi) != 0) {
        pthread_mutex_destroy(&d->lock);
        free(d);
    }
}

static void dirh_clear(struct dirh *d)
{
    if (d->valid)
        xdr_free((xdrproc_t)xdr_fx_readdir_res, (char *)&d->res);
    memset(&d->res, 0, sizeof(d->res));
    d->valid = 0;
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino,
                          struct fuse_file_info *fi)
{
    struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;
    dirh_clear(d);
    pthread_mutex_destroy(&d->lock);
    free(d);
    fuse_reply_err(req, 0);
}

/* Makes sure d holds a batch that contains the entry after `cookie`;
 * returns the index of that entry in it (== length at the end). */
static int dir_fill(struct client *cl, const struct rpc_cred *cr,
                    struct dirh *d, uint64_t dir, uint64_t cookie, int plus,
                    u_int *start)
{
    if (d->valid && d->plus == plus) {
        fx_readdir_ok *ok = &d->res.fx_readdir_res_u.ok;
        if (d->after == cookie) {
            *start = 0;
            return 0;
        }
        for (u_int i = 0; i < ok->entries.entries_len; i++)
            if (ok->entries.entries_val[i].cookie == cookie &&
                (i + 1 < ok->entries.entries_len || ok->eof)) {
                *start = i + 1;
                return 0;
            }
    }
    dirh_clear(d);
    fx_readdir_args a = { .dir = dir, .cookie = cookie,
                          .max_bytes = DIR_BATCH_BYTES };
    int rc = call(cl, cr, plus ? FXPROC_READDIRPLUS : FXPROC_READDIR,
                  (xdrproc_t)xdr_fx_readdir_args, &a,
                  (xdrproc_t)xdr_fx_readdir_res, &d->res, NULL);
    if (rc < 0)
        return rc;
    if (d->res.status) {
        rc = -d->res.status;
        xdr_free((xdrproc_t)xdr_fx_readdir_res, (char *)&d->res);
        memset(&d->res, 0, sizeof(d->res));
        return rc;
    }
    d->valid = 1;
    d->plus = plus;
    d->after = cookie;
    *start = 0;
    return 0;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi, int plus)
{
    struct client *cl = CL(req);
    struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;
    struct rpc_cred cr;
    get_cred(req, &cr);
    char *buf = calloc(1, size);
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    uint64_t gw = GW(cl, ino);
    size_t used = 0;
    int rc = 0;
    pthread_mutex_lock(&d->lock);
    /* "." and ".." are ours, at offsets 1 and 2; gateway cookies start
     * after them. */
    for (off_t o = off; o < 2; o++) {
        struct stat st;
        memset(&st, 0, sizeof(st));
        st.st_mode = S_IFDIR;
        st.st_ino = o == 0 ? gw : session_volume(cl->sess)->root;
        const char *name = o == 0 ? "." : "..";
        size_t n;
        if (plus) {
            struct fuse_entry_param e;
            memset(&e, 0, sizeof(e));
            e.attr = st;
            n = fuse_add_direntry_plus(req, buf + used, size - used, name,
                                       &e, o + 1);
        } else {
            n = fuse_add_direntry(req, buf + used, size - used, name, &st,
                                  o + 1);
        }
        if (n > size - used)
            goto out;
        used += n;
    }
    uint64_t cookie = off > 2 ? (uint64_t)off : 0;
    for (;;) {
        u_int i = 0;
        rc = dir_fill(cl, &cr, d, gw, cookie, plus, &i);
        if (rc < 0)
            break;
        fx_readdir_ok *ok = &d->res.fx_readdir_res_u.ok;
        int full = 0;
        for (; i < ok->entries.entries_len; i++) {
            fx_dirent *de = &ok->entries.entries_val[i];
            char name[FX_NAME_MAX + 1];
            if (de->name.fx_name_len > FX_NAME_MAX)
                continue;
            memcpy(name, de->name.fx_name_val, de->name.fx_name_len);
            name[de->name.fx_name_len] = '\0';
            size_t n;
            if (plus && de->attr) {
                struct fuse_entry_param e;
                memset(&e, 0, sizeof(e));
                struct fnode *fn = fnode_get(cl->inodes, de->ino);
                if (!fn) {
                    rc = -ENOMEM;
                    break;
                }
                absorb_attr(cl, fn, de->attr, &e.attr);
                e.ino = NODE(cl, de->ino);
                e.generation = de->attr->gen;
                e.attr_timeout = cl->opts.attr_timeout;
                e.entry_timeout = cl->opts.entry_timeout;
                n = fuse_add_direntry_plus(req, buf + used, size - used, name,
                                           &e, (off_t)de->cookie);
                if (n <= size - used) {
                    pthread_mutex_lock(&fn->lock);
                    if (!fn->kcache_known) {
                        fn->kcache_known = 1;
                        fn->kcache_change = de->attr->change;
                    }
                    pthread_mutex_unlock(&fn->lock);
                    fnode_lookup_inc(cl->inodes, fn);
                }
                fnode_put(cl->inodes, fn);
            } else {
                struct stat st;
                memset(&st, 0, sizeof(st));
                st.st_ino = de->ino;
                st.st_mode = de->type & S_IFMT;
                if (plus) {
                    /* No attributes: an entry the kernel must look up. */
                    struct fuse_entry_param e;
                    memset(&e, 0, sizeof(e));
                    e.attr = st;
                    n = fuse_add_direntry_plus(req, buf + used, size - used,
                                               name, &e, (off_t)de->cookie);
                } else {
                    n = fuse_add_direntry(req, buf + used, size - used, name,
                                          &st, (off_t)de->cookie);
                }
            }
            if (n > size - used) {
                full = 1;
                break;
            }
            used += n;
            cookie = de->cookie;
        }
        if (rc < 0 || full || ok->eof)
            break;
        if (ok->entries.entries_len == 0) {
            log_warn("directory %llu: empty batch without eof",
                     (unsigned long long)gw);
            break;
        }
    }
out:
    pthread_mutex_unlock(&d->lock);
    if (rc == -ESTALE && removed_dir(cl, gw, NULL)) {
        rc = 0;                         /* empty, not even "." and ".." */
        used = 0;
    }
    /* Entries already placed must reach the kernel: an error only counts
     * when nothing was. */
    if (rc < 0 && used == 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_buf(req, buf, used);
    free(buf);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    do_readdir(req, ino, size, off, fi, 0);
}

static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
                           off_t off, struct fuse_file_info *fi)
{
    do_readdir(req, ino, size, off, fi, 1);
}

static void fs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
                        struct fuse_file_info *fi)
{
    /* Every metadata change is durable at the gateway before its reply. */
    fuse_reply_err(req, 0);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct client *cl = CL(req);
    struct rpc_cred cr;
    get_cred(req, &cr);
    fx_statfs_args a = { .ino = GW(cl, ino) };
    fx_statfs_res r;
    memset(&r, 0, sizeof(r));
    int rc = call(cl, &cr, FXPROC_STATFS, (xdrproc_t)xdr_fx_statfs_args, &a,
                  (xdrproc_t)xdr_fx_statfs_res, &r, NULL);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    if (r.status) {
        fuse_reply_err(req, r.status);
        return;
    }
    fx_statfs_ok *ok = &r.fx_statfs_res_u.ok;
    struct statvfs sv;
    memset(&sv, 0, sizeof(sv));
    sv.f_bsize = ok->bsize;
    sv.f_frsize = ok->bsize;
    sv.f_blocks = ok->blocks;
    sv.f_bfree = ok->bfree;
    sv.f_bavail = ok->bavail;
    sv.f_files = ok->files;
    sv.f_ffree = ok->ffree;
    sv.f_favail = ok->ffree;
    sv.f_namemax = ok->namemax;
    fuse_reply_statfs(req, &sv);
}

/* ---- session ---- */

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
    struct client *cl = userdata;
    /* POSIX_ACL: the kernel enforces mode bits and ACLs on its cached
     * view as well (default_permissions) and leaves the umask to the
     * gateway (DONT_MASK), which skips it under a default ACL.
     * HANDLE_KILLPRIV: the gateway clears setuid/setgid on write,
     * truncation and chown; otherwise the kernel would try a chmod as the
     * writer, which a writer who is not the owner may not do. */
    unsigned want = FUSE_CAP_ASYNC_READ | FUSE_CAP_ATOMIC_O_TRUNC |
                    FUSE_CAP_DONT_MASK | FUSE_CAP_READDIRPLUS |
                    FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_AUTO_INVAL_DATA |
                    FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_ASYNC_DIO |
                    FUSE_CAP_POSIX_ACL | FUSE_CAP_POSIX_LOCKS |
                    FUSE_CAP_FLOCK_LOCKS | FUSE_CAP_HANDLE_KILLPRIV;
    conn->want |= want & conn->capable;
    /* No writeback cache: two mounts must see each other's closed writes
     * and every write must reach our dirty buffers (see the README). */
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
    conn->max_write = 1u << 20;
    conn->max_background = 64;
    conn->congestion_threshold = 48;
    conn->time_gran = 1;
    log_debug("FUSE init: capable %#x, want %#x", conn->capable, conn->want);
    (void)cl;
}

static void fs_destroy(void *userdata)
{
    struct client *cl = userdata;
    wb_flush_all(cl);
}

/* After a new session: open again what is open here, so the gateway
 * keeps unlinked-but-open inodes alive for us. */
static void reopen_one(struct fnode *fn, void *arg)
{
    struct client *cl = arg;
    pthread_mutex_lock(&fn->lock);
    unsigned opens = fn->opens;
    struct rpc_cred cr = fn->open_cred;
    pthread_mutex_unlock(&fn->lock);
    /* Once per open handle: each will be released once. */
    for (unsigned i = 0; i < opens; i++) {
        fx_open_args a = { .ino = fn->ino, .session = session_id(cl->sess),
                           .flags = O_RDONLY };
        fx_attr_res r;
        memset(&r, 0, sizeof(r));
        int rc = call(cl, &cr, FXPROC_OPEN, (xdrproc_t)xdr_fx_open_args, &a,
                      (xdrproc_t)xdr_fx_attr_res, &r, NULL);
        if (rc == 0) {
            if (r.status)
                rc = -r.status;
            xdr_free((xdrproc_t)xdr_fx_attr_res, (char *)&r);
        }
        if (rc < 0) {
            log_warn("inode %llu: cannot open it again: %s",
                     (unsigned long long)fn->ino, strerror(-rc));
            return;
        }
    }
}

void fs_reopen_all(void *client, uint64_t session)
{
    struct client *cl = client;
    itable_foreach(cl->inodes, reopen_one, cl);
}

const struct fuse_lowlevel_ops fs_ops = {
    .init = fs_init,
    .destroy = fs_destroy,
    .lookup = fs_lookup,
    .forget = fs_forget,
    .forget_multi = fs_forget_multi,
    .getattr = fs_getattr,
    .setattr = fs_setattr,
    .readlink = fs_readlink,
    .mknod = fs_mknod,
    .mkdir = fs_mkdir,
    .symlink = fs_symlink,
    .link = fs_link,
    .unlink = fs_unlink,
    .rmdir = fs_rmdir,
    .rename = fs_rename,
    .open = fs_open,
    .create = fs_create,
    .read = fs_read,
    .write = fs_write,
    .flush = fs_flush,
    .fsync = fs_fsync,
    .release = fs_release,
    .fallocate = fs_fallocate,
    .lseek = fs_lseek,
    .opendir = fs_opendir,
    .readdir = fs_readdir,
    .readdirplus = fs_readdirplus,
    .releasedir = fs_releasedir,
    .fsyncdir = fs_fsyncdir,
    .statfs = fs_statfs,
    .access = fs_access,
    .getxattr = fs_getxattr,
    .setxattr = fs_setxattr,
    .listxattr = fs_listxattr,
    .removexattr = fs_removexattr,
    .getlk = fs_getlk,
    .setlk = fs_setlk,
    .flock = fs_flock,
};
