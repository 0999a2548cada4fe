/* native.c - the native program's procedures (see native.h): a table
 * indexed by procedure number, one handler each, in the style of Linux
 * nfsd's nfs4proc.c.  Handlers only convert: every rule lives in the core. */
#include "config.h"
#include "native.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flexfs_prot.h"
#include "log.h"
#include "native_posix.h"
#include "grow.h"

/* Space reported by STATFS for a store without a capacity (S3). */
#define UNLIMITED_BYTES (1ull << 50)
#define STATFS_BSIZE    4096u

static struct meta *meta_of(const struct rpc_req *req)
{
    return ((struct gateway *)req->ctx)->meta;
}

/* An empty name decodes to a NULL pointer; the core gets "" instead. */
#define NAME(n) ((n).fx_name_val ? (n).fx_name_val : "")

static int status_of(int rc)
{
    return rc < 0 ? -rc : 0;
}

/* ---- conversions ---- */

static void time_out(fx_time *o, const struct meta_time *t)
{
    o->sec = t->sec;
    o->nsec = t->nsec;
}

static void attr_out(fx_attr *o, const struct meta_attr *a)
{
    o->ino = a->ino;
    o->gen = a->gen;
    o->mode = a->mode;
    o->nlink = a->nlink;
    o->uid = a->uid;
    o->gid = a->gid;
    o->rdev = a->rdev;
    o->size = a->size;
    o->blocks = a->blocks;
    time_out(&o->atime, &a->atime);
    time_out(&o->mtime, &a->mtime);
    time_out(&o->ctime, &a->ctime);
    o->change = a->change;
    o->flags = a->flags & META_ATTR_NO_XATTRS ? FX_ATTR_NO_XATTRS : 0;
}

void native_attr_out(fx_attr *o, const struct meta_attr *a)
{
    attr_out(o, a);
}

static int settime_in(struct meta_settime *o, const fx_settime *t)
{
    switch (t->how) {
    case FX_TIME_DONT:
        o->how = META_TIME_DONT;
        return 0;
    case FX_TIME_SERVER:
        o->how = META_TIME_SERVER;
        return 0;
    case FX_TIME_CLIENT:
        if (t->time.nsec >= 1000000000u)
            return -EINVAL;
        o->how = META_TIME_CLIENT;
        o->time.sec = t->time.sec;
        o->time.nsec = t->time.nsec;
        return 0;
    }
    return -EINVAL;
}

/* mode for CREATE (want S_IFREG) or MKDIR (S_IFDIR): the type bits may be
 * left out, but may not name another type. */
static int mode_of_type(uint32_t mode, uint32_t type, uint32_t *out)
{
    if ((mode & S_IFMT) && (mode & S_IFMT) != type)
        return -EINVAL;
    *out = (mode & ~(uint32_t)S_IFMT) | type;
    return 0;
}

static enum rpc_verdict attr_reply(fx_attr_res *res, int rc,
                                   const struct meta_attr *at)
{
    res->status = status_of(rc);
    if (rc >= 0)
        attr_out(&res->fx_attr_res_u.attr, at);
    return RPC_REPLY;
}

static enum rpc_verdict status_reply(fx_status_res *res, int rc)
{
    res->status = status_of(rc);
    return RPC_REPLY;
}

static enum rpc_verdict entry_reply(fx_entry_res *res, int rc,
                                    const struct meta_attr *at,
                                    const struct meta_dirchange *dc)
{
    res->status = status_of(rc);
    if (rc >= 0) {
        attr_out(&res->fx_entry_res_u.ok.attr, at);
        attr_out(&res->fx_entry_res_u.ok.parent, &dc->after);
    }
    return RPC_REPLY;
}

static enum rpc_verdict remove_reply(fx_remove_res *res, int rc,
                                     const struct meta_dirchange *dc)
{
    res->status = status_of(rc);
    if (rc >= 0)
        attr_out(&res->fx_remove_res_u.parent, &dc->after);
    return RPC_REPLY;
}

/* ---- sessions ---- */

static enum rpc_verdict fx_null(struct rpc_req *req, void *a, void *r)
{
    return RPC_REPLY;
}

/* "" and "/" name the default volume; "/NAME" is NAME. */
static const char *volume_name(const char *v)
{
    if (!v || !*v || strcmp(v, "/") == 0)
        return "default";
    return *v == '/' ? v + 1 : v;
}

/* The caller's numeric address: what MOUNT records with a session and
 * what a call naming the session is compared with, so one format. */
static void peer_host(const struct rpc_req *req, char *buf, size_t len)
{
    if (getnameinfo((const struct sockaddr *)&req->peer, req->peerlen, buf,
                    (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(buf, len, "?");
}

static enum rpc_verdict fx_mount(struct rpc_req *req, void *a, void *r)
{
    struct gateway *gw = req->ctx;
    fx_mount_args *args = a;
    fx_mount_res *res = r;
    fx_mount_ok *ok = &res->fx_mount_res_u.ok;
    struct meta_volume vol;
    char addr[NI_MAXHOST];
    uint64_t session;

    peer_host(req, addr, sizeof(addr));
    struct export_rule rule;
    exports_rule(gw->exports, volume_name(args->volume),
                 (struct sockaddr *)&req->peer, req->peerlen, &rule);
    if (rule.access == EXPORT_DENIED) {
        log_notice("mount of volume '%s' from %s refused: not exported to "
                   "it", args->volume, addr);
        res->status = EACCES;
        return RPC_REPLY;
    }
    export_squash_cred(&rule, &req->cred);
    char *url = strdup(gw->store_url);
    if (!url)
        return RPC_SYSTEM_ERR;
    int rc = meta_session_open(gw->meta, volume_name(args->volume),
                               args->client_name, addr, &req->cred, &session,
                               &vol);
    res->status = status_of(rc);
    if (rc < 0) {
        free(url);
        log_info("mount of volume '%s' from %s refused: %s", args->volume,
                 addr, strerror(-rc));
        return RPC_REPLY;
    }
    ok->session = session;
    ok->lease_secs = meta_lease_secs(gw->meta);
    ok->root = vol.root;
    ok->volume_id = vol.id;
    ok->block_size = vol.block_size;
    ok->store_url = url;
    ok->flags = rule.access == EXPORT_RO ? FX_MOUNT_RDONLY : 0;
    _Static_assert(sizeof ok->incarnation == META_INCARNATION_LEN,
                   "the protocol carries the whole incarnation");
    meta_incarnation(gw->meta, (uint8_t *)ok->incarnation);
    log_info("mount of volume '%s' by %s (%s, uid %u%s): session %" PRIu64,
             vol.name, args->client_name, addr, req->cred.uid,
             ok->flags & FX_MOUNT_RDONLY ? ", read-only" : "", session);
    return RPC_REPLY;
}

static enum rpc_verdict fx_renew(struct rpc_req *req, void *a, void *r)
{
    fx_session_args *args = a;
    return status_reply(r, meta_session_renew(meta_of(req), args->session));
}

static enum rpc_verdict fx_unmount(struct rpc_req *req, void *a, void *r)
{
    fx_session_args *args = a;
    int rc = meta_session_close(meta_of(req), args->session);
    if (rc == 0)
        log_info("session %" PRIu64 " unmounted", (uint64_t)args->session);
    return status_reply(r, rc);
}

/* ---- names and attributes ---- */

static enum rpc_verdict fx_lookup(struct rpc_req *req, void *a, void *r)
{
    fx_lookup_args *args = a;
    struct meta_attr at;
    int rc = meta_lookup_x(meta_of(req), &req->cred, args->parent,
                           NAME(args->name), args->name.fx_name_len, &at);
    return attr_reply(r, rc, &at);
}

static enum rpc_verdict fx_getattr(struct rpc_req *req, void *a, void *r)
{
    fx_getattr_args *args = a;
    struct meta_attr at;
    int rc = meta_getattr_x(meta_of(req), &req->cred, args->ino, &at);
    return attr_reply(r, rc, &at);
}

static enum rpc_verdict fx_setattr(struct rpc_req *req, void *a, void *r)
{
    fx_setattr_args *args = a;
    struct meta_setattr sa;
    struct meta_attr at = { 0 };
    const uint32_t known = FX_SET_MODE | FX_SET_UID | FX_SET_GID |
                           FX_SET_SIZE | FX_SET_BY_HANDLE | FX_SET_SIZE_GROW;
    int rc = 0;

    memset(&sa, 0, sizeof(sa));
    if (args->valid & ~known)
        rc = -EINVAL;
    if (rc == 0)
        rc = settime_in(&sa.atime, &args->atime);
    if (rc == 0)
        rc = settime_in(&sa.mtime, &args->mtime);
    if (rc == 0) {
        sa.valid = ((args->valid & FX_SET_MODE) ? META_SET_MODE : 0) |
                   ((args->valid & FX_SET_UID) ? META_SET_UID : 0) |
                   ((args->valid & FX_SET_GID) ? META_SET_GID : 0) |
                   ((args->valid & FX_SET_SIZE) ? META_SET_SIZE : 0) |
                   ((args->valid & FX_SET_SIZE_GROW) ? META_SET_GROW : 0);
        sa.mode = args->mode;
        sa.uid = args->uid;
        sa.gid = args->gid;
        sa.size = args->size;
        if (args->valid & FX_SET_BY_HANDLE)
            sa.open_session = args->session;
        rc = meta_setattr(meta_of(req), &req->cred, args->ino, &sa, &at);
    }
    return attr_reply(r, rc, &at);
}

static void mk_in(struct meta_mk *mk, const fx_create_args *args)
{
    *mk = (struct meta_mk){ .name = NAME(args->name),
                            .namelen = args->name.fx_name_len,
                            .mode = args->mode, .umask = args->umask,
                            .rdev = args->rdev };
}

static enum rpc_verdict fx_create(struct rpc_req *req, void *a, void *r)
{
    fx_create_args *args = a;
    fx_create_res *res = r;
    struct meta_mk mk;
    struct meta_attr at = { 0 };
    struct meta_dirchange dc = { 0 };
    int created = 0;

    mk_in(&mk, args);
    int rc = mode_of_type(args->mode, S_IFREG, &mk.mode);
    if (rc == 0) {
        uint32_t flags = (args->exclusive ? META_CREATE_EXCL : 0) |
                         (args->truncate ? META_CREATE_TRUNC : 0);
        rc = meta_create(meta_of(req), &req->cred, args->parent, &mk, flags,
                         args->session, &at, &created, &dc);
    }
    res->status = status_of(rc);
    if (rc >= 0) {
        attr_out(&res->fx_create_res_u.ok.attr, &at);
        res->fx_create_res_u.ok.created = created != 0;
        attr_out(&res->fx_create_res_u.ok.parent, &dc.after);
    }
    return RPC_REPLY;
}

static enum rpc_verdict fx_mknod(struct rpc_req *req, void *a, void *r)
{
    struct meta_mk mk;
    struct meta_attr at;
    struct meta_dirchange dc;
    mk_in(&mk, a);
    int rc = meta_mknod(meta_of(req), &req->cred,
                        ((fx_create_args *)a)->parent, &mk, &at, &dc);
    return entry_reply(r, rc, &at, &dc);
}

static enum rpc_verdict fx_mkdir(struct rpc_req *req, void *a, void *r)
{
    fx_create_args *args = a;
    struct meta_mk mk;
    struct meta_attr at = { 0 };
    struct meta_dirchange dc;
    mk_in(&mk, args);
    int rc = mode_of_type(args->mode, S_IFDIR, &mk.mode);
    if (rc == 0)
        rc = meta_mkdir(meta_of(req), &req->cred, args->parent, &mk, &at,
                        &dc);
    return entry_reply(r, rc, &at, &dc);
}

static enum rpc_verdict fx_symlink(struct rpc_req *req, void *a, void *r)
{
    fx_symlink_args *args = a;
    struct meta_attr at;
    struct meta_dirchange dc;
    char target[FX_PATH_MAX + 1];
    u_int len = args->target.target_len;
    int rc = -EINVAL;                   /* a NUL inside: no such path */
    if (!memchr(args->target.target_val, '\0', len)) {
        memcpy(target, args->target.target_val, len);
        target[len] = '\0';
        rc = meta_symlink(meta_of(req), &req->cred, args->parent,
                          NAME(args->name), args->name.fx_name_len, target,
                          &at, &dc);
    }
    return entry_reply(r, rc, &at, &dc);
}

static enum rpc_verdict fx_readlink(struct rpc_req *req, void *a, void *r)
{
    fx_getattr_args *args = a;
    fx_readlink_res *res = r;
    char *buf = malloc(META_PATH_MAX + 1);
    if (!buf)
        return RPC_SYSTEM_ERR;
    int rc = meta_readlink(meta_of(req), &req->cred, args->ino, buf,
                           META_PATH_MAX + 1);
    res->status = status_of(rc);
    if (rc >= 0)
        res->fx_readlink_res_u.target = buf;    /* freed with the reply */
    else
        free(buf);
    return RPC_REPLY;
}

static enum rpc_verdict fx_link(struct rpc_req *req, void *a, void *r)
{
    fx_link_args *args = a;
    struct meta_attr at;
    struct meta_dirchange dc;
    int rc = meta_link(meta_of(req), &req->cred, args->ino, args->newparent,
                       NAME(args->newname), args->newname.fx_name_len,
                       &at, &dc);
    return entry_reply(r, rc, &at, &dc);
}

static enum rpc_verdict fx_unlink(struct rpc_req *req, void *a, void *r)
{
    fx_unlink_args *args = a;
    struct meta_dirchange dc;
    int rc = meta_unlink(meta_of(req), &req->cred, args->parent,
                         NAME(args->name), args->name.fx_name_len, &dc);
    return remove_reply(r, rc, &dc);
}

static enum rpc_verdict fx_rmdir(struct rpc_req *req, void *a, void *r)
{
    fx_unlink_args *args = a;
    struct meta_dirchange dc;
    int rc = meta_rmdir(meta_of(req), &req->cred, args->parent,
                        NAME(args->name), args->name.fx_name_len, &dc);
    return remove_reply(r, rc, &dc);
}

static enum rpc_verdict fx_rename(struct rpc_req *req, void *a, void *r)
{
    fx_rename_args *args = a;
    fx_rename_res *res = r;
    const uint32_t known = FX_RENAME_NOREPLACE | FX_RENAME_EXCHANGE;
    struct meta_dirchange dcs[2];
    int rc = -EINVAL;
    if (!(args->flags & ~known) && args->flags != known) {
        uint32_t flags =
            ((args->flags & FX_RENAME_NOREPLACE) ? META_RENAME_NOREPLACE : 0) |
            ((args->flags & FX_RENAME_EXCHANGE) ? META_RENAME_EXCHANGE : 0);
        rc = meta_rename(meta_of(req), &req->cred, args->parent,
                         NAME(args->name), args->name.fx_name_len,
                         args->newparent, NAME(args->newname),
                         args->newname.fx_name_len, flags, dcs);
    }
    res->status = status_of(rc);
    if (rc >= 0) {
        attr_out(&res->fx_rename_res_u.ok.from_parent, &dcs[0].after);
        attr_out(&res->fx_rename_res_u.ok.to_parent, &dcs[1].after);
    }
    return RPC_REPLY;
}

/* ---- open files ---- */

static enum rpc_verdict fx_open(struct rpc_req *req, void *a, void *r)
{
    fx_open_args *args = a;
    struct meta_attr at;
    int rc = meta_open_file(meta_of(req), &req->cred, args->ino,
                            args->session, args->flags, &at);
    return attr_reply(r, rc, &at);
}

static enum rpc_verdict fx_release(struct rpc_req *req, void *a, void *r)
{
    fx_release_args *args = a;
    return status_reply(r, meta_release(meta_of(req), args->ino,
                                        args->session));
}

/* ---- directories ---- */

struct dirfill {
    fx_dirent *ents;
    size_t n, cap;
    size_t used, max;
    int full, err;
};

static int dirfill_add(void *arg, const char *name, size_t namelen,
                       uint64_t ino, uint32_t type, uint64_t cookie,
                       const struct meta_attr *attr)
{
    struct dirfill *f = arg;
    size_t sz = NATIVE_DIRENT_BASE + ((namelen + 3) & ~(size_t)3) +
                (attr ? NATIVE_ATTR_SIZE : 0);
    if (f->used + sz > f->max) {
        f->full = 1;
        return 1;
    }
    fx_dirent *p = grow_room(f->ents, f->n, &f->cap, sizeof(*p), 64);
    if (!p)
        goto nomem;
    f->ents = p;
    fx_dirent *e = &f->ents[f->n];
    memset(e, 0, sizeof(*e));
    e->name.fx_name_val = malloc(namelen ? namelen : 1);
    if (!e->name.fx_name_val)
        goto nomem;
    memcpy(e->name.fx_name_val, name, namelen);
    e->name.fx_name_len = (u_int)namelen;
    e->ino = ino;
    e->type = type & S_IFMT;
    e->cookie = cookie;
    if (attr) {
        e->attr = malloc(sizeof(*e->attr));
        if (!e->attr) {
            free(e->name.fx_name_val);
            goto nomem;
        }
        attr_out(e->attr, attr);
    }
    f->n++;
    f->used += sz;
    return 0;
nomem:
    f->err = -ENOMEM;
    return 1;
}

static enum rpc_verdict readdir_common(struct rpc_req *req, void *a, void *r,
                                       int plus)
{
    fx_readdir_args *args = a;
    fx_readdir_res *res = r;
    fx_readdir_ok *ok = &res->fx_readdir_res_u.ok;
    struct dirfill f;
    int eof = 0;

    memset(&f, 0, sizeof(f));
    f.used = NATIVE_DIR_BASE;
    f.max = args->max_bytes < FX_MAX_DIRBYTES ? args->max_bytes
                                              : FX_MAX_DIRBYTES;
    int rc = meta_readdir(meta_of(req), &req->cred, args->dir, args->cookie,
                          plus ? 1 | META_READDIR_XATTRS : 0, dirfill_add,
                          &f, &eof);
    if (rc == 0 && f.err)
        rc = f.err;
    if (rc == 0 && f.n == 0 && f.full)
        rc = -EINVAL;                   /* max_bytes too small for one */
    res->status = status_of(rc);
    if (rc < 0) {
        for (size_t i = 0; i < f.n; i++) {
            free(f.ents[i].name.fx_name_val);
            free(f.ents[i].attr);
        }
        free(f.ents);
        return RPC_REPLY;
    }
    /* Freed with the reply by xdr_free. */
    ok->entries.entries_val = f.ents;
    ok->entries.entries_len = (u_int)f.n;
    ok->eof = eof && !f.full;
    return RPC_REPLY;
}

static enum rpc_verdict fx_readdir(struct rpc_req *req, void *a, void *r)
{
    return readdir_common(req, a, r, 0);
}

static enum rpc_verdict fx_readdirplus(struct rpc_req *req, void *a, void *r)
{
    return readdir_common(req, a, r, 1);
}

static enum rpc_verdict fx_statfs(struct rpc_req *req, void *a, void *r)
{
    struct gateway *gw = req->ctx;
    fx_statfs_args *args = a;
    fx_statfs_res *res = r;
    fx_statfs_ok *ok = &res->fx_statfs_res_u.ok;
    struct meta_statfs ms;
    uint64_t total = 0, avail = 0;

    int rc = meta_statfs(gw->meta, args->ino, &ms);
    if (rc == 0) {
        rc = store_statfs(gw->store, &total, &avail);
        if (rc == -ENOSYS) {
            total = UNLIMITED_BYTES;
            avail = total > ms.bytes_used ? total - ms.bytes_used : 0;
            rc = 0;
        } else if (rc < 0) {
            log_warn("statfs of the block store: %s", strerror(-rc));
        }
    }
    res->status = status_of(rc);
    if (rc < 0)
        return RPC_REPLY;
    ok->bsize = STATFS_BSIZE;
    ok->blocks = total / STATFS_BSIZE;
    ok->bfree = avail / STATFS_BSIZE;
    ok->bavail = avail / STATFS_BSIZE;
    ok->files = ms.files + ms.ffree;
    ok->ffree = ms.ffree;
    ok->namemax = ms.namemax ? ms.namemax : FX_NAME_MAX;
    return RPC_REPLY;
}

/* ---- block maps ---- */

static void block_out(fx_block *o, const struct meta_block *b)
{
    o->index = b->index;
    o->ver = b->version;
    o->length = b->length;
}

static enum rpc_verdict fx_get_blocks(struct rpc_req *req, void *a, void *r)
{
    fx_get_blocks_args *args = a;
    fx_get_blocks_res *res = r;
    fx_get_blocks_ok *ok = &res->fx_get_blocks_res_u.ok;
    uint32_t max = args->count < FX_MAX_BLOCKS ? args->count : FX_MAX_BLOCKS;
    uint32_t n = 0;
    struct meta_attr at;

    struct meta_block *b = malloc((max ? max : 1) * sizeof(*b));
    fx_block *out = malloc((max ? max : 1) * sizeof(*out));
    if (!b || !out) {
        free(b);
        free(out);
        return RPC_SYSTEM_ERR;
    }
    int rc = meta_get_blocks(meta_of(req), &req->cred, args->ino, args->first,
                             args->count, b, max, &n, &at);
    res->status = status_of(rc);
    if (rc >= 0) {
        attr_out(&ok->attr, &at);
        for (uint32_t i = 0; i < n; i++)
            block_out(&out[i], &b[i]);
        ok->blocks.blocks_val = out;
        ok->blocks.blocks_len = n;
    } else {
        free(out);
    }
    free(b);
    return RPC_REPLY;
}

static enum rpc_verdict fx_commit_write(struct rpc_req *req, void *a, void *r)
{
    fx_commit_args *args = a;
    fx_commit_res *res = r;
    u_int n = args->blocks.blocks_len;
    struct meta_settime mtime;
    struct meta_attr at;
    uint32_t nconf = 0;

    int rc = settime_in(&mtime, &args->mtime);
    if (rc < 0) {
        res->status = status_of(rc);
        return RPC_REPLY;
    }
    struct meta_commit_block *blk = malloc((n ? n : 1) * sizeof(*blk));
    struct meta_block *conf = malloc((n ? n : 1) * sizeof(*conf));
    if (!blk || !conf) {
        free(blk);
        free(conf);
        return RPC_SYSTEM_ERR;
    }
    for (u_int i = 0; i < n; i++) {
        const fx_commit_block *c = &args->blocks.blocks_val[i];
        blk[i] = (struct meta_commit_block){ c->index, c->ver, c->base_ver,
                                             c->length, c->base_length };
    }
    rc = meta_commit_write(meta_of(req), &req->cred, args->ino, args->session,
                           blk, n, args->write_end, &mtime, &at, conf, n,
                           &nconf);
    if (rc == -EAGAIN && nconf > 0) {
        fx_block *cur = malloc(nconf * sizeof(*cur));
        if (cur) {
            for (uint32_t i = 0; i < nconf; i++)
                block_out(&cur[i], &conf[i]);
            res->status = FX_CONFLICT;
            res->fx_commit_res_u.conflict.current.current_val = cur;
            res->fx_commit_res_u.conflict.current.current_len = nconf;
            goto out;
        }
        rc = -ENOMEM;
    }
    res->status = status_of(rc);
    if (rc >= 0)
        attr_out(&res->fx_commit_res_u.attr, &at);
out:
    free(blk);
    free(conf);
    return RPC_REPLY;
}

/* ---- the table ---- */

/* Whether a call changes the namespace or data, for read-only exports. */
static int always(const void *args)
{
    (void)args;
    return 1;
}

static int open_writes(const void *args)
{
    const fx_open_args *o = args;
    return (o->flags & O_ACCMODE) != O_RDONLY || (o->flags & O_TRUNC);
}

static int access_writes(const void *args)
{
    return (((const fx_access_args *)args)->mask & W_OK) != 0;
}

/* Each procedure's handler and what the checks before it need: where its
 * arguments name the inode it works on (a second inode, as RENAME's or
 * LINK's, is in the same volume or the core refuses with EXDEV), whether
 * it writes, and where they name the session it acts for.  Offsets are
 * stored plus one, so 0 means none. */
struct native_op {
    enum rpc_verdict (*fn)(struct rpc_req *req, void *args, void *res);
    size_t ino_at;
    int (*writes)(const void *args);    /* NULL: never */
    size_t session_at;
};

#define AT(atype, field) (offsetof(atype, field) + 1)
#define NONE 0

static uint64_t field_u64(const void *args, size_t at)
{
    return *(const uint64_t *)((const char *)args + at - 1);
}

/* A call acting for a session must come from the host that opened it:
 * sessions are small numbers, and one names the opens whose access
 * open(2) checked (ftruncate, writes) and the locks held. */
static int session_check(struct rpc_req *req, const struct native_op *op,
                         const void *args)
{
    if (op->session_at == NONE)
        return 0;
    uint64_t session = field_u64(args, op->session_at);
    if (session == 0 || session == rpc_conn_memo(req))
        return 0;                       /* none named, or known to be ours */
    char addr[NI_MAXHOST];
    peer_host(req, addr, sizeof(addr));
    int rc = meta_session_from(meta_of(req), session, addr);
    if (rc < 0)
        log_info("native: session %llu named from %s, not its host",
                 (unsigned long long)session, addr);
    else
        rpc_conn_set_memo(req, session);    /* ids are never reused */
    return rc;
}

/* With an exports file in force, a call on an inode is checked against
 * the rule for its volume: not exported is EACCES, a write to a
 * read-only export EROFS, and the credentials are squashed as the rule
 * says.  Without one this costs nothing. */
static int export_check(struct rpc_req *req, const struct native_op *op,
                        const void *args)
{
    struct gateway *gw = req->ctx;
    if (op->ino_at == NONE || !exports_active(gw->exports))
        return 0;
    struct meta_volume vol;
    int rc = meta_volume_of(gw->meta, field_u64(args, op->ino_at), &vol);
    if (rc < 0)
        return rc;
    struct export_rule rule;
    exports_rule(gw->exports, vol.name, (struct sockaddr *)&req->peer,
                 req->peerlen, &rule);
    if (rule.access == EXPORT_DENIED)
        return -EACCES;
    if (rule.access != EXPORT_RW && op->writes && op->writes(args))
        return -EROFS;
    export_squash_cred(&rule, &req->cred);
    return 0;
}

/* Every procedure comes through here; its result starts with the int
 * status (see rpc/flexfs_prot.x), so a refusal is just that status. */
static enum rpc_verdict native_call(struct rpc_req *req, void *args, void *res)
{
    const struct native_op *op = req->proc_info;
    int rc = export_check(req, op, args);
    if (rc == 0)
        rc = session_check(req, op, args);
    if (rc < 0) {
        *(int *)res = -rc;
        return RPC_REPLY;
    }
    return op->fn(req, args, res);
}

/* One procedure: its arguments' inode (AT(...) or NONE), whether it
 * writes, and its session (AT(...) or NONE). */
#define PROC(num, name, atype, rtype, fn, ino, writes, session) \
    [num] = { name, (xdrproc_t)xdr_##atype, sizeof(atype), \
              (xdrproc_t)xdr_##rtype, sizeof(rtype), native_call, \
              &(const struct native_op){ fn, ino, writes, session } }

static const struct rpc_proc native_procs[] = {
    [FXPROC_NULL] = { "NULL", RPC_XDR_VOID, 0, RPC_XDR_VOID, 0, native_call,
                      &(const struct native_op){ fx_null, NONE, NULL,
                                                 NONE } },
    PROC(FXPROC_MOUNT, "MOUNT", fx_mount_args, fx_mount_res, fx_mount,
         NONE, NULL, NONE),
    PROC(FXPROC_RENEW, "RENEW", fx_session_args, fx_status_res, fx_renew,
         NONE, NULL, AT(fx_session_args, session)),
    PROC(FXPROC_UNMOUNT, "UNMOUNT", fx_session_args, fx_status_res,
         fx_unmount, NONE, NULL, AT(fx_session_args, session)),
    PROC(FXPROC_LOOKUP, "LOOKUP", fx_lookup_args, fx_attr_res, fx_lookup,
         AT(fx_lookup_args, parent), NULL, NONE),
    PROC(FXPROC_GETATTR, "GETATTR", fx_getattr_args, fx_attr_res,
         fx_getattr, AT(fx_getattr_args, ino), NULL, NONE),
    PROC(FXPROC_SETATTR, "SETATTR", fx_setattr_args, fx_attr_res,
         fx_setattr, AT(fx_setattr_args, ino), always,
         AT(fx_setattr_args, session)),
    PROC(FXPROC_CREATE, "CREATE", fx_create_args, fx_create_res, fx_create,
         AT(fx_create_args, parent), always, AT(fx_create_args, session)),
    PROC(FXPROC_MKNOD, "MKNOD", fx_create_args, fx_entry_res, fx_mknod,
         AT(fx_create_args, parent), always, NONE),
    PROC(FXPROC_MKDIR, "MKDIR", fx_create_args, fx_entry_res, fx_mkdir,
         AT(fx_create_args, parent), always, NONE),
    PROC(FXPROC_SYMLINK, "SYMLINK", fx_symlink_args, fx_entry_res,
         fx_symlink, AT(fx_symlink_args, parent), always, NONE),
    PROC(FXPROC_READLINK, "READLINK", fx_getattr_args, fx_readlink_res,
         fx_readlink, AT(fx_getattr_args, ino), NULL, NONE),
    PROC(FXPROC_LINK, "LINK", fx_link_args, fx_entry_res, fx_link,
         AT(fx_link_args, ino), always, NONE),
    PROC(FXPROC_UNLINK, "UNLINK", fx_unlink_args, fx_remove_res, fx_unlink,
         AT(fx_unlink_args, parent), always, NONE),
    PROC(FXPROC_RMDIR, "RMDIR", fx_unlink_args, fx_remove_res, fx_rmdir,
         AT(fx_unlink_args, parent), always, NONE),
    PROC(FXPROC_RENAME, "RENAME", fx_rename_args, fx_rename_res, fx_rename,
         AT(fx_rename_args, parent), always, NONE),
    PROC(FXPROC_READDIR, "READDIR", fx_readdir_args, fx_readdir_res,
         fx_readdir, AT(fx_readdir_args, dir), NULL, NONE),
    PROC(FXPROC_READDIRPLUS, "READDIRPLUS", fx_readdir_args,
         fx_readdir_res, fx_readdirplus, AT(fx_readdir_args, dir), NULL,
         NONE),
    PROC(FXPROC_STATFS, "STATFS", fx_statfs_args, fx_statfs_res, fx_statfs,
         AT(fx_statfs_args, ino), NULL, NONE),
    PROC(FXPROC_GET_BLOCKS, "GET_BLOCKS", fx_get_blocks_args,
         fx_get_blocks_res, fx_get_blocks, AT(fx_get_blocks_args, ino),
         NULL, NONE),
    PROC(FXPROC_COMMIT_WRITE, "COMMIT_WRITE", fx_commit_args, fx_commit_res,
         fx_commit_write, AT(fx_commit_args, ino), always,
         AT(fx_commit_args, session)),
    PROC(FXPROC_OPEN, "OPEN", fx_open_args, fx_attr_res, fx_open,
         AT(fx_open_args, ino), open_writes, AT(fx_open_args, session)),
    PROC(FXPROC_RELEASE, "RELEASE", fx_release_args, fx_status_res,
         fx_release, AT(fx_release_args, ino), NULL,
         AT(fx_release_args, session)),
    /* native_posix.c */
    PROC(FXPROC_ACCESS, "ACCESS", fx_access_args, fx_status_res, fx_access,
         AT(fx_access_args, ino), access_writes, NONE),
    PROC(FXPROC_GETXATTR, "GETXATTR", fx_xattr_args, fx_getxattr_res,
         fx_getxattr, AT(fx_xattr_args, ino), NULL, NONE),
    PROC(FXPROC_SETXATTR, "SETXATTR", fx_setxattr_args, fx_attr_res,
         fx_setxattr, AT(fx_setxattr_args, ino), always, NONE),
    PROC(FXPROC_LISTXATTR, "LISTXATTR", fx_getattr_args, fx_listxattr_res,
         fx_listxattr, AT(fx_getattr_args, ino), NULL, NONE),
    PROC(FXPROC_REMOVEXATTR, "REMOVEXATTR", fx_xattr_args, fx_attr_res,
         fx_removexattr, AT(fx_xattr_args, ino), always, NONE),
    PROC(FXPROC_GETLK, "GETLK", fx_lock_args, fx_getlk_res, fx_getlk,
         AT(fx_lock_args, ino), NULL, NONE),
    PROC(FXPROC_SETLK, "SETLK", fx_setlk_args, fx_status_res, fx_setlk,
         AT(fx_setlk_args, ino), NULL, AT(fx_setlk_args, lock.session)),
    PROC(FXPROC_LOCK_CANCEL, "LOCK_CANCEL", fx_lock_cancel_args,
         fx_status_res, fx_lock_cancel, NONE, NULL,
         AT(fx_lock_cancel_args, session)),
    PROC(FXPROC_LOCK_RELEASE, "LOCK_RELEASE", fx_lock_release_args,
         fx_status_res, fx_lock_release, AT(fx_lock_release_args, ino), NULL,
         AT(fx_lock_release_args, session)),
};

void native_program(struct gateway *gw, struct rpc_program *out)
{
    memset(out, 0, sizeof(*out));
    out->prog = FLEXFS_PROG;
    out->vers = FLEXFS_V1;
    out->procs = native_procs;
    out->nprocs = sizeof(native_procs) / sizeof(native_procs[0]);
    out->ctx = gw;
}
