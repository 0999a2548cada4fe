/* admin.c - the admin program (rpc/flexfs_admin.x): a table of handlers
 * over the metadata core (meta.h, meta_admin.h), the metrics and the
 * job runner, plus the admission check every call but NULL goes through.
 *
 * Handlers fill results with malloc'd strings and arrays: the RPC server
 * frees them with xdr_free after encoding.  Every change an admin makes
 * is logged with the caller's address, for the audit trail. */
#include "config.h"
#include "admin.h"
#include "admin_acl.h"
#include "admin_jobs.h"
#include "blockkey.h"
#include "flexfs_admin.h"
#include "log.h"
#include "meta_admin.h"
#include "metrics.h"
#include "store.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GC_BATCH 256

struct admin {
    struct rpc_program prog;
    /* Set once by admin_attach before ready goes to 1 (release), read by
     * handlers after they see ready (acquire). */
    atomic_int ready;
    struct meta *meta;
    struct store *store;
    char *store_url;                    /* redacted */
    char *meta_dir, *listen;
    struct admin_acl acl;
    uint32_t gc_grace, default_block_size;
    admin_gc_fn gc;
    void *gc_arg;
    struct admin_jobs *jobs;
};

static struct admin *admin_of(const struct rpc_req *req)
{
    return req->ctx;
}

static int admin_ready(struct admin *a)
{
    return atomic_load_explicit(&a->ready, memory_order_acquire);
}

/* Every handler but NULL starts with this: the core may not be open yet
 * (results all start with their status). */
#define NEED_READY(a, res) do { if (!admin_ready(a)) { \
        *(int *)(res) = EAGAIN; return RPC_REPLY; } } while (0)

static void peer_str(const struct rpc_req *req, char *buf, size_t len)
{
    net_peer_format((const struct sockaddr *)&req->peer, buf, len);
}

/* A result's status from a core return value. */
static int status_of(int rc)
{
    return rc < 0 ? -rc : 0;
}

/* strdup that never returns NULL for a NULL input (empty string). */
static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

/* ---- admission ---- */

static const char *const proc_names[] = {
    "NULL", "STATUS", "VOLUME_CREATE", "VOLUME_LIST", "VOLUME_DELETE",
    "CLIENTS", "EVICT", "LOCKS", "GC_START", "FSCK_START", "JOB_STATUS",
    "BACKUP", "CHECKPOINT",
};

static int admit(const struct rpc_req *req)
{
    /* NULL is a ping: rpcinfo -t sends it with AUTH_NONE. */
    if (req->proc == FAPROC_NULL)
        return 0;
    struct admin *a = admin_of(req);
    int host_ok = a && admin_acl_allows(&a->acl,
                                        (const struct sockaddr *)&req->peer,
                                        req->peerlen);
    if (host_ok && req->auth_flavor == AUTH_SYS && req->cred.uid == 0)
        return 0;
    char peer[64];
    peer_str(req, peer, sizeof peer);
    const char *what = req->proc < sizeof proc_names / sizeof *proc_names
                       ? proc_names[req->proc] : "unknown";
    if (req->auth_flavor != AUTH_SYS)
        log_warn("admin: refused %s from %s: not AUTH_SYS (flavor %d)",
                 what, peer, req->auth_flavor);
    else
        log_warn("admin: refused %s from %s uid %u: %s", what, peer,
                 req->cred.uid, host_ok ? "not root"
                                        : "host not in admin_hosts");
    return 1;
}

/* ---- STATUS ---- */

static int fill_ops(fa_status_ok *ok)
{
    size_t cap = metrics_snapshot(NULL, 0) + 16;
    struct metrics_op *ops = calloc(cap, sizeof *ops);
    if (!ops)
        return -ENOMEM;
    size_t n = metrics_snapshot(ops, cap);
    if (n > cap)
        n = cap;
    int rc = 0;
    ok->ops.ops_val = calloc(n ? n : 1, sizeof(fa_op_stat));
    if (!ok->ops.ops_val)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        fa_op_stat *o = &ok->ops.ops_val[i];
        ok->ops.ops_len = (u_int)i + 1;
        o->prog = dup_str(ops[i].prog);
        o->name = dup_str(ops[i].name);
        if (!o->prog || !o->name)
            rc = -ENOMEM;
        o->count = ops[i].count;
        o->errors = ops[i].errors;
        o->total_ns = ops[i].sum_ns;
        o->max_ns = ops[i].max_ns;
        o->p50_ns = metrics_quantile_ns(&ops[i], 0.5);
        o->p99_ns = metrics_quantile_ns(&ops[i], 0.99);
    }
    free(ops);
    return rc;
}

static enum rpc_verdict h_status(struct rpc_req *req, void *args, void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_gwstatus_res *r = res;
    fa_status_ok *ok = &r->fa_gwstatus_res_u.ok;
    struct meta_admin_counts c;
    struct meta_admin_dbstats db;
    int rc = meta_admin_counts(a->meta, &c);
    if (rc == 0)
        rc = meta_admin_dbstats(a->meta, &db);
    if (rc < 0) {
        r->status = status_of(rc);
        return RPC_REPLY;
    }
    ok->release = dup_str(PACKAGE_VERSION);
    ok->start_time = metrics_start_time();
    ok->now = (int64_t)time(NULL);
    ok->listen = dup_str(a->listen);
    ok->meta_dir = dup_str(a->meta_dir);
    ok->store_url = dup_str(a->store_url);
    ok->volumes = (u_int)c.volumes;
    ok->sessions = (u_int)c.sessions;
    ok->locks = c.locks;
    ok->garbage = c.garbage;
    ok->store_errors = metrics_store_errors();
    ok->db_cache_hits = db.cache_hits;
    ok->db_cache_misses = db.cache_misses;
    ok->db_cache_bytes = db.cache_bytes;
    ok->db_log_bytes = db.log_bytes;
    ok->db_log_files = db.log_files;
    if (!ok->release || !ok->listen || !ok->meta_dir || !ok->store_url ||
        fill_ops(ok) < 0)
        return RPC_SYSTEM_ERR;
    return RPC_REPLY;
}

/* ---- volumes ---- */

static int fill_volume(fa_volume *v, const struct meta_volume *mv,
                       uint64_t inodes, uint64_t bytes)
{
    v->id = mv->id;
    v->root = mv->root;
    v->block_size = mv->block_size;
    v->inodes = inodes;
    v->bytes = bytes;
    v->name = dup_str(mv->name);
    return v->name ? 0 : -ENOMEM;
}

static enum rpc_verdict h_volume_create(struct rpc_req *req, void *args,
                                        void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_volume_create_args *ar = args;
    fa_volume_res *r = res;
    uint32_t bs = ar->block_size ? ar->block_size : a->default_block_size;
    struct meta_volume v;
    int rc = meta_volume_create(a->meta, ar->name, bs, &v);
    char peer[64];
    peer_str(req, peer, sizeof peer);
    if (rc < 0) {
        log_info("admin: volume create \"%s\" from %s: %s", ar->name, peer,
                 strerror(-rc));
        r->status = status_of(rc);
        return RPC_REPLY;
    }
    log_notice("admin: volume \"%s\" (id %llu, block size %u) created by %s",
               v.name, (unsigned long long)v.id, v.block_size, peer);
    if (fill_volume(&r->fa_volume_res_u.volume, &v, 1, 0) < 0)
        return RPC_SYSTEM_ERR;
    return RPC_REPLY;
}

static enum rpc_verdict h_volume_list(struct rpc_req *req, void *args,
                                      void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_volume_list_res *r = res;
    struct meta_admin_volume *vols;
    size_t n;
    int rc = meta_admin_volume_list(a->meta, &vols, &n);
    if (rc < 0) {
        r->status = status_of(rc);
        return RPC_REPLY;
    }
    enum rpc_verdict verdict = RPC_REPLY;
    fa_volume *out = calloc(n ? n : 1, sizeof *out);
    r->fa_volume_list_res_u.volumes.volumes_val = out;
    if (!out)
        verdict = RPC_SYSTEM_ERR;
    for (size_t i = 0; out && i < n; i++) {
        r->fa_volume_list_res_u.volumes.volumes_len = (u_int)i + 1;
        if (fill_volume(&out[i], &vols[i].vol, vols[i].inodes,
                        vols[i].bytes) < 0) {
            verdict = RPC_SYSTEM_ERR;
            break;
        }
    }
    free(vols);
    return verdict;
}

static enum rpc_verdict h_volume_delete(struct rpc_req *req, void *args,
                                        void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_volume_delete_args *ar = args;
    fa_volume_delete_res *r = res;
    struct meta_admin_deleted d;
    int rc = meta_admin_volume_delete(a->meta, ar->name, ar->force, &d);
    char peer[64];
    peer_str(req, peer, sizeof peer);
    if (rc < 0) {
        log_info("admin: volume delete \"%s\" from %s: %s", ar->name, peer,
                 strerror(-rc));
        r->status = status_of(rc);
        return RPC_REPLY;
    }
    log_notice("admin: volume \"%s\" deleted by %s%s: %llu inodes, %llu "
               "block versions to garbage", ar->name, peer,
               ar->force ? " (forced)" : "", (unsigned long long)d.inodes,
               (unsigned long long)d.blocks);
    r->fa_volume_delete_res_u.ok.inodes = d.inodes;
    r->fa_volume_delete_res_u.ok.blocks = d.blocks;
    return RPC_REPLY;
}

/* ---- sessions ---- */

static enum rpc_verdict h_clients(struct rpc_req *req, void *args, void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_session_list_res *r = res;
    struct meta_admin_session *ss;
    size_t n;
    int rc = meta_admin_session_list(a->meta, &ss, &n);
    if (rc < 0) {
        r->status = status_of(rc);
        return RPC_REPLY;
    }
    enum rpc_verdict verdict = RPC_REPLY;
    fa_session *out = calloc(n ? n : 1, sizeof *out);
    r->fa_session_list_res_u.sessions.sessions_val = out;
    if (!out)
        verdict = RPC_SYSTEM_ERR;
    for (size_t i = 0; out && i < n; i++) {
        fa_session *o = &out[i];
        r->fa_session_list_res_u.sessions.sessions_len = (u_int)i + 1;
        o->id = ss[i].id;
        o->uid = ss[i].uid;
        o->mount_time = ss[i].mount_time;
        o->lease_expiry = ss[i].lease_expiry;
        o->lease_secs = meta_lease_secs(a->meta);
        o->opens = ss[i].opens;
        o->locks = ss[i].locks;
        o->volume = dup_str(ss[i].volume);
        o->client_name = dup_str(ss[i].client_name);
        o->client_addr = dup_str(ss[i].client_addr);
        if (!o->volume || !o->client_name || !o->client_addr) {
            verdict = RPC_SYSTEM_ERR;
            break;
        }
    }
    free(ss);
    return verdict;
}

static enum rpc_verdict h_evict(struct rpc_req *req, void *args, void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_evict_args *ar = args;
    fa_status_res *r = res;
    int rc = meta_admin_evict(a->meta, ar->session);
    char peer[64];
    peer_str(req, peer, sizeof peer);
    if (rc == 0)
        log_notice("admin: session %llu evicted by %s",
                   (unsigned long long)ar->session, peer);
    r->status = status_of(rc);
    return RPC_REPLY;
}

/* ---- locks ---- */

/* The inode at path (components separated by '/') in volume, looked up
 * as root. */
static int resolve_path(struct admin *a, const char *volume, const char *path,
                        uint64_t *ino)
{
    struct meta_volume v;
    int rc = meta_volume_get(a->meta, volume[0] ? volume : "default", &v);
    if (rc < 0)
        return rc;
    struct meta_cred root = { .uid = META_ROOT_UID, .gid = 0 };
    uint64_t cur = v.root;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = p;
        while (*end && *end != '/')
            end++;
        size_t len = (size_t)(end - p);
        if (len == 0)
            break;
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return -EINVAL;             /* paths are resolved downward only */
        if (!(len == 1 && p[0] == '.')) {
            struct meta_attr at;
            rc = meta_lookup(a->meta, &root, cur, p, len, &at);
            if (rc < 0)
                return rc;
            cur = at.ino;
        }
        p = end;
    }
    *ino = cur;
    return 0;
}

static const char *session_addr(const struct meta_admin_session *ss, size_t n,
                                uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ss[i].id == id)
            return ss[i].client_addr;
    return "";
}

static enum rpc_verdict h_locks(struct rpc_req *req, void *args, void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_locks_args *ar = args;
    fa_locks_res *r = res;
    uint64_t ino = ar->ino;
    int rc = 0;
    if (ar->path[0])
        rc = resolve_path(a, ar->volume, ar->path, &ino);
    struct meta_admin_lock *locks = NULL;
    struct meta_admin_session *ss = NULL;
    size_t n = 0, nss = 0;
    if (rc == 0)
        rc = meta_admin_lock_list(a->meta, ino, &locks, &n);
    if (rc == 0 && n)
        rc = meta_admin_session_list(a->meta, &ss, &nss);
    if (rc < 0) {
        free(locks);
        r->status = status_of(rc);
        return RPC_REPLY;
    }
    enum rpc_verdict verdict = RPC_REPLY;
    fa_lock *out = calloc(n ? n : 1, sizeof *out);
    r->fa_locks_res_u.locks.locks_val = out;
    if (!out)
        verdict = RPC_SYSTEM_ERR;
    for (size_t i = 0; out && i < n; i++) {
        fa_lock *o = &out[i];
        r->fa_locks_res_u.locks.locks_len = (u_int)i + 1;
        o->ino = locks[i].ino;
        o->session = locks[i].session;
        o->owner = locks[i].owner;
        o->type = locks[i].type;
        o->kind = locks[i].kind;
        o->start = locks[i].start;
        o->end = locks[i].end;
        o->waiting = locks[i].waiting;
        o->pid = locks[i].pid;
        o->client_addr = dup_str(session_addr(ss, nss, locks[i].session));
        if (!o->client_addr) {
            verdict = RPC_SYSTEM_ERR;
            break;
        }
    }
    free(locks);
    free(ss);
    return verdict;
}

/* ---- gc ---- */

static void gc_progress(void *parg, uint64_t done, uint64_t total)
{
    admin_job_progress(parg, "deleting", done, total);
}

/* One collection pass of our own (when the gateway offers none): what is
 * past the grace goes from the store, then from the garbage table. */
static int own_gc_pass(struct admin *a, struct admin_job *j,
                       uint64_t *deleted)
{
    struct meta_garbage g[GC_BATCH];
    char keys[GC_BATCH][BLOCKKEY_MAX];
    const char *kp[GC_BATCH];
    uint64_t ids[GC_BATCH];
    uint64_t total = meta_garbage_count(a->meta);
    int64_t before = (int64_t)time(NULL) - a->gc_grace;
    *deleted = 0;
    for (;;) {
        if (admin_job_cancelled(j))
            return -ECANCELED;
        int n = meta_garbage_list(a->meta, before, g, GC_BATCH);
        if (n <= 0)
            return n;
        for (int i = 0; i < n; i++) {
            struct blockkey k = { g[i].volume, g[i].ino, g[i].index,
                                  g[i].version };
            int rc = blockkey_format(keys[i], sizeof keys[i], &k);
            if (rc < 0)
                return rc;
            kp[i] = keys[i];
            ids[i] = g[i].id;
        }
        int rc = store_delete_many(a->store, kp, (size_t)n);
        if (rc < 0) {
            metrics_store_error();
            return rc;
        }
        rc = meta_garbage_done(a->meta, ids, (uint32_t)n);
        if (rc < 0)
            return rc;
        *deleted += (uint64_t)n;
        if (*deleted > total)
            total = *deleted;
        admin_job_progress(j, "deleting", *deleted, total);
    }
}

static int gc_job(struct admin_job *j, void *arg)
{
    struct admin *a = arg;
    uint64_t deleted = 0;
    admin_job_counter(j, "backlog_before", meta_garbage_count(a->meta));
    admin_job_progress(j, "deleting", 0, meta_garbage_count(a->meta));
    int rc = a->gc ? a->gc(a->gc_arg, gc_progress, j, &deleted)
                   : own_gc_pass(a, j, &deleted);
    admin_job_counter(j, "deleted", deleted);
    admin_job_counter(j, "backlog_after", meta_garbage_count(a->meta));
    admin_job_counter(j, "grace_seconds", a->gc_grace);
    admin_job_progress(j, rc < 0 ? "failed" : "done", deleted, deleted);
    return rc;
}

static enum rpc_verdict h_gc_start(struct rpc_req *req, void *args, void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_job_res *r = res;
    uint64_t id;
    int rc = admin_jobs_start(a->jobs, "gc", gc_job, a, NULL, &id);
    if (rc == 0)
        r->fa_job_res_u.job = id;
    r->status = status_of(rc);
    return RPC_REPLY;
}

/* ---- fsck ---- */

struct fsck_arg {
    struct admin *a;
    struct admin_job *j;
    int repair;
};

static void fsck_progress(void *arg, const char *phase, uint64_t done,
                          uint64_t total)
{
    struct fsck_arg *f = arg;
    admin_job_progress(f->j, phase, done, total);
}

static void fsck_problem(void *arg, const char *msg)
{
    struct fsck_arg *f = arg;
    admin_job_message(f->j, msg);
}

static int fsck_cancelled(void *arg)
{
    struct fsck_arg *f = arg;
    return admin_job_cancelled(f->j);
}

static int fsck_job(struct admin_job *j, void *arg)
{
    struct fsck_arg *f = arg;
    f->j = j;
    struct meta_fsck_opts o = {
        .store = f->a->store,
        .repair = f->repair,
        .gc_grace = f->a->gc_grace,
        .arg = f,
        .progress = fsck_progress,
        .problem = fsck_problem,
        .cancelled = fsck_cancelled,
    };
    struct meta_fsck_result r;
    memset(&r, 0, sizeof r);
    int rc = meta_admin_fsck(f->a->meta, &o, &r);
    for (uint64_t i = 0; i < r.store_errors; i++)
        metrics_store_error();
    const struct { const char *name; uint64_t v; } c[] = {
        { "inodes", r.inodes }, { "entries", r.entries },
        { "blocks", r.blocks }, { "objects", r.objects },
        { "dangling_entries", r.dangling_entries },
        { "wrong_nlink", r.wrong_nlink },
        { "orphan_inodes", r.orphan_inodes },
        { "missing_blocks", r.missing_blocks },
        { "unreferenced_objects", r.unreferenced_objects },
        { "young_objects", r.young_objects },
        { "foreign_objects", r.foreign_objects },
        { "repaired", r.repaired }, { "repair", (uint64_t)f->repair },
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++)
        admin_job_counter(j, c[i].name, c[i].v);
    admin_job_progress(j, rc < 0 ? "failed" : "done", 1, 1);
    return rc;
}

static enum rpc_verdict h_fsck_start(struct rpc_req *req, void *args,
                                     void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_fsck_args *ar = args;
    fa_job_res *r = res;
    struct fsck_arg *f = calloc(1, sizeof *f);
    if (!f)
        return RPC_SYSTEM_ERR;
    f->a = a;
    f->repair = ar->repair;
    uint64_t id;
    int rc = admin_jobs_start(a->jobs, "fsck", fsck_job, f, free, &id);
    if (rc == 0) {
        char peer[64];
        peer_str(req, peer, sizeof peer);
        log_notice("admin: fsck%s (job %llu) started by %s",
                   ar->repair ? " --repair" : "", (unsigned long long)id,
                   peer);
        r->fa_job_res_u.job = id;
    }
    r->status = status_of(rc);
    return RPC_REPLY;
}

static enum rpc_verdict h_job_status(struct rpc_req *req, void *args,
                                     void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_job_args *ar = args;
    fa_job_status_res *r = res;
    int rc = admin_jobs_status(a->jobs, ar->job, &r->fa_job_status_res_u.ok);
    if (rc == -ENOMEM)
        return RPC_SYSTEM_ERR;          /* the server frees what was filled */
    r->status = status_of(rc);
    return RPC_REPLY;
}

/* ---- backup and checkpoint ---- */

static enum rpc_verdict h_backup(struct rpc_req *req, void *args, void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_backup_args *ar = args;
    fa_backup_res *r = res;
    char peer[64];
    peer_str(req, peer, sizeof peer);
    if (ar->dir[0] != '/') {
        r->status = EINVAL;
        return RPC_REPLY;
    }
    uint32_t files = 0;
    uint64_t bytes = 0;
    int rc = meta_admin_backup(a->meta, ar->dir, &files, &bytes);
    if (rc < 0)
        log_warn("admin: backup to %s (asked by %s) failed: %s", ar->dir,
                 peer, strerror(-rc));
    else
        log_notice("admin: backup to %s by %s: %u files, %llu bytes",
                   ar->dir, peer, files, (unsigned long long)bytes);
    r->status = status_of(rc);
    r->fa_backup_res_u.ok.files = files;
    r->fa_backup_res_u.ok.bytes = bytes;
    return RPC_REPLY;
}

static enum rpc_verdict h_checkpoint(struct rpc_req *req, void *args,
                                     void *res)
{
    struct admin *a = admin_of(req);
    NEED_READY(a, res);
    fa_status_res *r = res;
    int rc = meta_admin_checkpoint(a->meta);
    if (rc < 0)
        log_warn("admin: checkpoint failed: %s", strerror(-rc));
    r->status = status_of(rc);
    return RPC_REPLY;
}

static enum rpc_verdict h_null(struct rpc_req *req, void *args, void *res)
{
    return RPC_REPLY;
}

/* ---- the table ---- */

#define PROC(n, a, r, h) { n, (xdrproc_t)xdr_##a, sizeof(a), \
                           (xdrproc_t)xdr_##r, sizeof(r), h }
#define PROC_VOID_ARGS(n, r, h) { n, RPC_XDR_VOID, 0, \
                                  (xdrproc_t)xdr_##r, sizeof(r), h }

static const struct rpc_proc admin_procs[] = {
    [FAPROC_NULL] = { "NULL", RPC_XDR_VOID, 0, RPC_XDR_VOID, 0, h_null },
    [FAPROC_STATUS] = PROC_VOID_ARGS("STATUS", fa_gwstatus_res, h_status),
    [FAPROC_VOLUME_CREATE] = PROC("VOLUME_CREATE", fa_volume_create_args,
                                  fa_volume_res, h_volume_create),
    [FAPROC_VOLUME_LIST] = PROC_VOID_ARGS("VOLUME_LIST", fa_volume_list_res,
                                          h_volume_list),
    [FAPROC_VOLUME_DELETE] = PROC("VOLUME_DELETE", fa_volume_delete_args,
                                  fa_volume_delete_res, h_volume_delete),
    [FAPROC_CLIENTS] = PROC_VOID_ARGS("CLIENTS", fa_session_list_res,
                                      h_clients),
    [FAPROC_EVICT] = PROC("EVICT", fa_evict_args, fa_status_res, h_evict),
    [FAPROC_LOCKS] = PROC("LOCKS", fa_locks_args, fa_locks_res, h_locks),
    [FAPROC_GC_START] = PROC_VOID_ARGS("GC_START", fa_job_res, h_gc_start),
    [FAPROC_FSCK_START] = PROC("FSCK_START", fa_fsck_args, fa_job_res,
                               h_fsck_start),
    [FAPROC_JOB_STATUS] = PROC("JOB_STATUS", fa_job_args, fa_job_status_res,
                               h_job_status),
    [FAPROC_BACKUP] = PROC("BACKUP", fa_backup_args, fa_backup_res,
                           h_backup),
    [FAPROC_CHECKPOINT] = PROC_VOID_ARGS("CHECKPOINT", fa_status_res,
                                         h_checkpoint),
};

int admin_create(const struct admin_opts *o, struct admin **out)
{
    struct admin *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    int rc = admin_acl_parse(o->admin_hosts, &a->acl);
    if (rc < 0) {
        free(a);
        return rc;
    }
    a->gc_grace = o->gc_grace;
    a->default_block_size = o->default_block_size;
    a->meta_dir = dup_str(o->meta_dir);
    a->listen = dup_str(o->listen);
    const char *url = o->store_url ? o->store_url : "";
    size_t ulen = strlen(url) + 1;
    a->store_url = malloc(ulen);
    if (a->store_url)
        store_url_redact(url, a->store_url, ulen);
    rc = admin_jobs_create(&a->jobs);
    if (rc < 0 || !a->meta_dir || !a->listen || !a->store_url) {
        admin_destroy(a);
        return rc < 0 ? rc : -ENOMEM;
    }
    a->prog.prog = FLEXFS_ADMIN_PROG;
    a->prog.vers = FLEXFS_ADMIN_V1;
    a->prog.procs = admin_procs;
    a->prog.nprocs = sizeof admin_procs / sizeof *admin_procs;
    a->prog.ctx = a;
    a->prog.admit = admit;
    if (a->acl.n)
        log_info("admin: %zu admin_hosts entries", a->acl.n);
    *out = a;
    return 0;
}

static int resume_job(struct admin_job *j, void *arg)
{
    struct admin *a = arg;
    admin_job_progress(j, "volume deletions", 0, 0);
    return meta_admin_resume(a->meta);
}

void admin_attach(struct admin *a, struct meta *m, struct store *s,
                  admin_gc_fn gc, void *gc_arg)
{
    a->meta = m;
    a->store = s;
    a->gc = gc;
    a->gc_arg = gc_arg;
    atomic_store_explicit(&a->ready, 1, memory_order_release);
    /* A volume deletion that a crash interrupted finishes now, in the
     * background. */
    uint64_t id;
    int rc = admin_jobs_start(a->jobs, "resume", resume_job, a, NULL, &id);
    if (rc < 0)
        log_warn("admin: cannot resume volume deletions: %s", strerror(-rc));
}

const struct rpc_program *admin_program(struct admin *a)
{
    return &a->prog;
}

void admin_gauges(void *arg, struct metrics_gauges *g)
{
    struct admin *a = arg;
    if (!admin_ready(a))
        return;
    struct meta_admin_counts c;
    struct meta_admin_dbstats db;
    if (meta_admin_counts(a->meta, &c) == 0) {
        g->volumes = c.volumes;
        g->sessions = c.sessions;
        g->locks = c.locks;
        g->garbage = c.garbage;
    }
    if (meta_admin_dbstats(a->meta, &db) == 0) {
        g->have_db = 1;
        g->db_cache_hits = db.cache_hits;
        g->db_cache_misses = db.cache_misses;
        g->db_log_bytes = db.log_bytes;
    }
}

void admin_destroy(struct admin *a)
{
    if (!a)
        return;
    admin_jobs_destroy(a->jobs);
    free(a->store_url);
    free(a->meta_dir);
    free(a->listen);
    free(a);
}
