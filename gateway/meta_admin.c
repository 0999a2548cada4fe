/* meta_admin.c - the core's functions for the admin program (see
 * meta_admin.h): volume listing and deletion, session listing and
 * eviction, counts, Berkeley DB statistics, checkpoints and hot backups,
 * and the batch scanner fsck (meta_fsck.c) walks databases with. */
#include "config.h"
#include "meta_admin_int.h"
#include "log.h"
#include "grow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAL_MAX        (INODE_REC_LEN + META_PATH_MAX + 64)
#define PURGE_BATCH    64               /* inodes removed per transaction */
#define BACKUP_CACHE   (16u << 20)

/* ---- scanning ---- */

struct scan_batch {
    enum meta_db db;
    size_t vmax;
    uint8_t last[KV_KEY_MAX];
    size_t lastlen;
    int started;
    /* Filled by each attempt of the transaction. */
    uint8_t *buf;
    size_t len, cap;
    size_t n;
    int eof;
    uint8_t next[KV_KEY_MAX];
    size_t nextlen;
};

static int batch_append(struct scan_batch *b, const void *k, uint32_t klen,
                        const void *v, uint32_t vlen)
{
    size_t need = 8 + (size_t)klen + vlen;
    if (b->len + need > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + need)
            cap *= 2;
        uint8_t *p = realloc(b->buf, cap);
        if (!p)
            return -ENOMEM;
        b->buf = p;
        b->cap = cap;
    }
    be32_put(b->buf + b->len, klen);
    memcpy(b->buf + b->len + 4, k, klen);
    be32_put(b->buf + b->len + 4 + klen, vlen);
    memcpy(b->buf + b->len + 8 + klen, v, vlen);
    b->len += need;
    b->n++;
    return 0;
}

static int do_scan_batch(struct tx *tx, void *arg)
{
    struct scan_batch *b = arg;
    b->len = 0;
    b->n = 0;
    b->eof = 0;
    DBC *c;
    int rc = kv_cursor(tx, b->db, &c);
    if (rc)
        return rc;
    uint8_t kbuf[KV_KEY_MAX];
    uint8_t *vbuf = malloc(VAL_MAX);
    if (!vbuf) {
        c->close(c);
        return -ENOMEM;
    }
    DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
    DBT v = { .data = vbuf, .ulen = VAL_MAX, .flags = DB_DBT_USERMEM };
    if (b->vmax) {
        v.flags |= DB_DBT_PARTIAL;
        v.dlen = (u_int32_t)b->vmax;
    }
    uint32_t op = DB_FIRST;
    if (b->started) {
        memcpy(kbuf, b->last, b->lastlen);
        k.size = (u_int32_t)b->lastlen;
        op = DB_SET_RANGE;
    }
    while (b->n < SCAN_BATCH) {
        rc = c->get(c, &k, &v, op);
        op = DB_NEXT;
        if (rc == DB_NOTFOUND) {
            rc = 0;
            b->eof = 1;
            break;
        }
        if (rc == DB_BUFFER_SMALL) {
            log_err("meta: admin scan: record over %u bytes", VAL_MAX);
            rc = -EIO;
            break;
        }
        if ((rc = db_err(rc)))
            break;
        /* Resuming lands on the last key seen if it still exists. */
        if (b->started && k.size == b->lastlen &&
            memcmp(kbuf, b->last, b->lastlen) == 0)
            continue;
        if ((rc = batch_append(b, kbuf, k.size, vbuf, v.size)))
            break;
        memcpy(b->next, kbuf, k.size);
        b->nextlen = k.size;
    }
    free(vbuf);
    int rc2 = db_err(c->close(c));
    return rc ? rc : rc2;
}

int scan_db(struct meta *m, enum meta_db db, size_t vmax, scan_fn fn,
            void *arg, int (*cancelled)(void *), void *carg)
{
    struct scan_batch *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->db = db;
    b->vmax = vmax;
    int rc = 0;
    for (;;) {
        if (cancelled && cancelled(carg)) {
            rc = -ECANCELED;
            break;
        }
        rc = tx_run(m, do_scan_batch, b);
        if (rc < 0)
            break;
        size_t off = 0;
        for (size_t i = 0; i < b->n && rc == 0; i++) {
            uint32_t klen = be32_get(b->buf + off);
            const uint8_t *k = b->buf + off + 4;
            uint32_t vlen = be32_get(b->buf + off + 4 + klen);
            const uint8_t *v = b->buf + off + 8 + klen;
            off += 8 + (size_t)klen + vlen;
            rc = fn(arg, k, klen, v, vlen);
        }
        if (rc < 0)
            break;
        if (b->n) {
            memcpy(b->last, b->next, b->nextlen);
            b->lastlen = b->nextlen;
            b->started = 1;
        }
        if (b->eof)
            break;
    }
    free(b->buf);
    free(b);
    return rc < 0 ? rc : 0;
}

/* ---- record decoders ---- */

int block_rec_decode(const uint8_t *v, size_t len, uint64_t *version,
                     uint32_t *length)
{
    struct rbuf r;
    rb_init(&r, v, len);
    uint8_t ver = rb_u8(&r);
    *version = rb_u64(&r);
    *length = rb_u32(&r);
    return r.bad || ver != REC_V1 ? -EIO : 0;
}

int dirent_rec_decode(const uint8_t *v, size_t len, struct dirent_rec *out)
{
    struct rbuf r;
    rb_init(&r, v, len);
    uint8_t ver = rb_u8(&r);
    out->ino = rb_u64(&r);
    out->type = rb_u32(&r);
    out->cookie = rb_u64(&r);
    return r.bad || ver != REC_V1 ? -EIO : 0;
}

int garbage_rec_decode(const uint8_t *v, size_t len, int64_t *when,
                       struct meta_garbage *out)
{
    struct rbuf r;
    rb_init(&r, v, len);
    uint8_t ver = rb_u8(&r);
    *when = (int64_t)rb_u64(&r);
    out->volume = rb_u64(&r);
    out->ino = rb_u64(&r);
    out->index = rb_u64(&r);
    out->version = rb_u64(&r);
    return r.bad || ver != REC_V1 ? -EIO : 0;
}

/* ---- counting records ---- */

static int count_rec(void *arg, const struct kv_rec *r)
{
    (void)r;
    ++*(uint64_t *)arg;
    return 0;
}

/* Records in db, read in this transaction (keys only). */
static int count_records(struct tx *tx, enum meta_db db, uint64_t *n)
{
    *n = 0;
    return kv_walk(tx, db, NULL, 0, NULL, 0, NULL, 0, 0, count_rec, n);
}

struct counts_args {
    struct meta_admin_counts *out;
};

static int do_counts(struct tx *tx, void *arg)
{
    struct counts_args *a = arg;
    int rc;
    if ((rc = count_records(tx, MDB_VOLUMES, &a->out->volumes)) ||
        (rc = count_records(tx, MDB_SESSIONS, &a->out->sessions)) ||
        (rc = count_records(tx, MDB_LOCKS, &a->out->locks)))
        return rc;
    return 0;
}

int meta_admin_counts(struct meta *m, struct meta_admin_counts *out)
{
    memset(out, 0, sizeof *out);
    struct counts_args a = { .out = out };
    int rc = tx_run(m, do_counts, &a);
    out->garbage = meta_garbage_count(m);
    return rc;
}

/* ---- volumes ---- */

static int vol_cmp(const void *x, const void *y)
{
    const struct meta_admin_volume *a = x, *b = y;
    return a->vol.id < b->vol.id ? -1 : a->vol.id > b->vol.id;
}

int meta_admin_volume_list(struct meta *m, struct meta_admin_volume **out,
                           size_t *n)
{
    uint32_t cap = 64;
    struct meta_volume *v = NULL;
    int got;
    for (;;) {
        struct meta_volume *p = realloc(v, cap * sizeof *v);
        if (!p) {
            free(v);
            return -ENOMEM;
        }
        v = p;
        got = meta_volume_list(m, v, cap);
        if (got < 0 || (uint32_t)got < cap)
            break;
        cap *= 2;
    }
    if (got < 0) {
        free(v);
        return got;
    }
    struct meta_admin_volume *res = calloc(got ? (size_t)got : 1, sizeof *res);
    if (!res) {
        free(v);
        return -ENOMEM;
    }
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < got; i++) {
        res[i].vol = v[i];
        for (size_t j = 0; j < m->nvols; j++) {
            if (m->vols[j].vol != v[i].id)
                continue;
            res[i].inodes = m->vols[j].files > 0 ? (uint64_t)m->vols[j].files
                                                 : 0;
            res[i].bytes = m->vols[j].bytes > 0 ? (uint64_t)m->vols[j].bytes
                                                : 0;
        }
    }
    pthread_mutex_unlock(&m->mu);
    free(v);
    qsort(res, (size_t)got, sizeof *res, vol_cmp);
    *out = res;
    *n = (size_t)got;
    return 0;
}

static void voldel_key(uint8_t *key, uint64_t id)
{
    memcpy(key, VOLDEL_PREFIX, VOLDEL_PREFIX_LEN);
    be64_put(key + VOLDEL_PREFIX_LEN, id);
}

int voldel_pending(struct tx *tx, uint64_t id)
{
    uint8_t key[VOLDEL_PREFIX_LEN + 8], val[16];
    voldel_key(key, id);
    int rc = kv_get(tx, MDB_SUPER, key, sizeof key, val, sizeof val, NULL, 0);
    return rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
}

struct voldel_args {
    const char *name;
    int force;
    struct meta_volume vol;
    const uint64_t *inos;
    size_t n;
    uint64_t inodes, blocks;
};

static int mounts_volume(struct tx *tx, DBC *c, struct session_rec *s,
                         void *arg)
{
    return s->vol == *(const uint64_t *)arg;    /* 1 ends the scan */
}

/* 1 if some session has volume id mounted. */
static int volume_mounted(struct tx *tx, uint64_t id)
{
    return sessions_scan(tx, 0, mounts_volume, &id);
}

/* The first step, all or nothing: the checks, the volume's name goes
 * (no new mount can find it) and a marker says its inodes are to go. */
static int do_voldel_begin(struct tx *tx, void *arg)
{
    struct voldel_args *a = arg;
    int rc = volume_get(tx, a->name, &a->vol);
    if (rc)
        return rc;
    if ((rc = volume_mounted(tx, a->vol.id)))
        return rc < 0 ? rc : -EBUSY;
    if (!a->force) {
        rc = dir_empty(tx, a->vol.root);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return -ENOTEMPTY;
    }
    if ((rc = kv_del(tx, MDB_VOLUMES, a->name, strlen(a->name))))
        return rc;
    uint8_t key[VOLDEL_PREFIX_LEN + 8], val[16];
    voldel_key(key, a->vol.id);
    be64_put(val, a->vol.root);
    be64_put(val + 8, (uint64_t)tx->now.sec);
    return kv_put(tx, MDB_SUPER, key, sizeof key, val, sizeof val);
}

/* Removes one inode with everything keyed by it. */
static int purge_inode(struct tx *tx, uint64_t ino, uint64_t *blocks)
{
    struct inode in;
    int rc = inode_get(tx, ino, &in, DB_RMW);
    if (rc == -ESTALE)
        return 0;
    if (rc)
        return rc;
    uint8_t key[8];
    be64_put(key, ino);
    int64_t before = tx->dgarbage;
    /* Entries in it, its xattrs, opens, locks (all keyed by inode first),
     * and its blocks (to garbage, so the collector deletes them). */
    if ((rc = blocks_drop_from(tx, &in, 0)) ||
        (rc = kv_del_prefix(tx, MDB_DIRENTS, key, 8)) ||
        (rc = kv_del_prefix(tx, MDB_DIRSEQ, key, 8)) ||
        (rc = kv_del_prefix(tx, MDB_XATTRS, key, 8)) ||
        (rc = kv_del_prefix(tx, MDB_OPENS, key, 8)) ||
        (rc = kv_del_prefix(tx, MDB_LOCKS, key, 8)))
        return rc;
    rc = kv_del(tx, MDB_INODES, key, 8);
    if (rc)
        return rc == -ENOENT ? -EIO : rc;
    tx_count(tx, in.vol, -1, 0);
    *blocks += (uint64_t)(tx->dgarbage - before);
    return 1;
}

static int do_purge_batch(struct tx *tx, void *arg)
{
    struct voldel_args *a = arg;
    uint64_t inodes = 0, blocks = 0;
    for (size_t i = 0; i < a->n; i++) {
        int rc = purge_inode(tx, a->inos[i], &blocks);
        if (rc < 0)
            return rc;
        inodes += (uint64_t)rc;
    }
    /* Counted here, after the attempt that commits. */
    a->inodes = inodes;
    a->blocks = blocks;
    return 0;
}

static int do_voldel_end(struct tx *tx, void *arg)
{
    struct voldel_args *a = arg;
    uint8_t key[VOLDEL_PREFIX_LEN + 8];
    voldel_key(key, a->vol.id);
    int rc = kv_del(tx, MDB_SUPER, key, sizeof key);
    return rc == -ENOENT ? 0 : rc;
}

struct ino_list {
    uint64_t vol;
    uint64_t *inos;
    size_t n, cap;
};

static int collect_volume_inodes(void *arg, const uint8_t *k, size_t klen,
                                 const uint8_t *v, size_t vlen)
{
    struct ino_list *l = arg;
    struct inode in;
    if (klen != 8 || inode_decode(v, vlen, be64_get(k), &in))
        return -EIO;
    if (in.vol != l->vol)
        return 0;
    uint64_t *p = grow_room(l->inos, l->n, &l->cap, sizeof *p, 1024);
    if (!p)
        return -ENOMEM;
    l->inos = p;
    l->inos[l->n++] = in.ino;
    return 0;
}

/* Removes every inode of a volume whose marker is set, in batches (each
 * a transaction of its own, so the rest of the gateway keeps going), and
 * then the marker.  Safe to repeat after a crash. */
static int volume_purge(struct meta *m, uint64_t vol,
                        struct meta_admin_deleted *out)
{
    struct ino_list l = { .vol = vol };
    int rc = scan_db(m, MDB_INODES, INODE_REC_LEN, collect_volume_inodes, &l,
                     NULL, NULL);
    struct voldel_args a = { .vol = { .id = vol } };
    for (size_t i = 0; rc == 0 && i < l.n; i += PURGE_BATCH) {
        a.inos = l.inos + i;
        a.n = l.n - i < PURGE_BATCH ? l.n - i : PURGE_BATCH;
        rc = tx_run(m, do_purge_batch, &a);
        out->inodes += a.inodes;
        out->blocks += a.blocks;
    }
    free(l.inos);
    if (rc == 0)
        rc = tx_run(m, do_voldel_end, &a);
    return rc;
}

int meta_admin_volume_delete(struct meta *m, const char *name, int force,
                             struct meta_admin_deleted *out)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(name);
    if (len == 0 || strchr(name, '/'))
        return -EINVAL;
    if (len > META_NAME_MAX)
        return -ENAMETOOLONG;
    struct voldel_args a = { .name = name, .force = force };
    int rc = tx_run(m, do_voldel_begin, &a);
    if (rc)
        return rc;
    log_notice("meta: volume \"%s\" (id %llu) deleted; removing its inodes",
               name, (unsigned long long)a.vol.id);
    rc = volume_purge(m, a.vol.id, out);
    if (rc)
        log_err("meta: removing the inodes of volume %llu: %s (resumed at "
                "the next start)", (unsigned long long)a.vol.id,
                strerror(-rc));
    return rc;
}

struct voldel_list {
    uint64_t ids[64];
    size_t n;
};

static int collect_voldel(void *arg, const uint8_t *k, size_t klen,
                          const uint8_t *v, size_t vlen)
{
    struct voldel_list *l = arg;
    if (klen == VOLDEL_PREFIX_LEN + 8 &&
        memcmp(k, VOLDEL_PREFIX, VOLDEL_PREFIX_LEN) == 0 &&
        l->n < sizeof l->ids / sizeof *l->ids)
        l->ids[l->n++] = be64_get(k + VOLDEL_PREFIX_LEN);
    return 0;
}

int meta_admin_resume(struct meta *m)
{
    struct voldel_list l = { .n = 0 };
    int rc = scan_db(m, MDB_SUPER, 16, collect_voldel, &l, NULL, NULL);
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        struct meta_admin_deleted d = { 0, 0 };
        log_notice("meta: finishing the deletion of volume %llu",
                   (unsigned long long)l.ids[i]);
        rc = volume_purge(m, l.ids[i], &d);
    }
    return rc;
}

/* ---- sessions ---- */

struct session_list {
    struct meta_admin_session *s;
    size_t n, cap;
};

/* Opens held by a session: its sessopens records. */
static int session_opens(struct tx *tx, uint64_t id, uint32_t *n)
{
    uint8_t prefix[8];
    be64_put(prefix, id);
    uint64_t count = 0;
    int rc = kv_walk(tx, MDB_SESSOPENS, prefix, 8, NULL, 0, NULL, 0, 0,
                     count_rec, &count);
    *n = (uint32_t)count;
    return rc;
}

static int list_session(struct tx *tx, DBC *c, struct session_rec *s,
                        void *arg)
{
    struct session_list *l = arg;
    struct meta_admin_session *p = grow_room(l->s, l->n, &l->cap,
                                             sizeof *p, 32);
    if (!p)
        return -ENOMEM;
    l->s = p;
    struct meta_admin_session *o = &l->s[l->n];
    memset(o, 0, sizeof *o);
    o->id = s->id;
    o->uid = s->uid;
    o->mount_time = s->mount_time;
    o->lease_expiry = s->expiry;
    memcpy(o->client_name, s->client_name, sizeof o->client_name);
    memcpy(o->client_addr, s->client_addr, sizeof o->client_addr);
    struct meta_volume vol;
    int rc = volume_by_id(tx, s->vol, &vol);
    if (rc == 0)
        memcpy(o->volume, vol.name, sizeof o->volume);
    else if (rc == -ENOENT)
        snprintf(o->volume, sizeof o->volume, "#%llu",
                 (unsigned long long)s->vol);
    else
        return rc;
    if ((rc = session_opens(tx, s->id, &o->opens)))
        return rc;
    l->n++;
    return 0;
}

static int do_session_list(struct tx *tx, void *arg)
{
    struct session_list *l = arg;
    l->n = 0;
    return sessions_scan(tx, 0, list_session, l);
}

int meta_admin_session_list(struct meta *m, struct meta_admin_session **out,
                            size_t *n)
{
    struct session_list l = { 0 };
    int rc = tx_run(m, do_session_list, &l);
    if (rc < 0) {
        free(l.s);
        return rc;
    }
    /* Locks held per session (waiting requests are not held). */
    struct meta_admin_lock *locks;
    size_t nlocks;
    rc = meta_admin_lock_list(m, 0, &locks, &nlocks);
    if (rc < 0) {
        free(l.s);
        return rc;
    }
    for (size_t i = 0; i < nlocks; i++)
        for (size_t j = 0; j < l.n && !locks[i].waiting; j++)
            if (l.s[j].id == locks[i].session)
                l.s[j].locks++;
    free(locks);
    if (!l.s && !(l.s = calloc(1, sizeof *l.s)))
        return -ENOMEM;
    *out = l.s;
    *n = l.n;
    return 0;
}

int meta_admin_evict(struct meta *m, uint64_t session)
{
    return meta_session_close(m, session);
}

/* ---- locks ---- */

struct lock_list {
    struct meta_admin_lock *l;
    size_t n, cap;
};

static int collect_lock(void *arg, uint64_t ino, const struct meta_lock *lk,
                        int waiting)
{
    struct lock_list *a = arg;
    struct meta_admin_lock *p = grow_room(a->l, a->n, &a->cap, sizeof *p,
                                          32);
    if (!p)
        return -ENOMEM;
    a->l = p;
    struct meta_admin_lock *o = &a->l[a->n++];
    o->ino = ino;
    o->session = lk->session;
    o->owner = lk->owner;
    o->type = lk->type == META_LOCK_WRITE ? META_ADMIN_LOCK_WRITE
                                          : META_ADMIN_LOCK_READ;
    o->kind = lk->kind == META_LOCK_FLOCK ? META_ADMIN_LOCK_FLOCK
                                          : META_ADMIN_LOCK_POSIX;
    /* A flock covers the whole file whatever its range says. */
    o->start = lk->kind == META_LOCK_FLOCK ? 0 : lk->start;
    o->end = lk->kind == META_LOCK_FLOCK ? UINT64_MAX : lk->end;
    o->waiting = waiting;
    o->pid = lk->pid;
    return 0;
}

int meta_admin_lock_list(struct meta *m, uint64_t ino,
                         struct meta_admin_lock **out, size_t *n)
{
    struct lock_list a = { 0 };
    int rc = meta_lock_list(m, ino, collect_lock, &a);
    if (rc == 0 && !a.l && !(a.l = calloc(1, sizeof *a.l)))
        rc = -ENOMEM;
    if (rc < 0) {
        free(a.l);
        return rc;
    }
    *out = a.l;
    *n = a.n;
    return 0;
}

/* ---- statistics ---- */

int meta_admin_dbstats(struct meta *m, struct meta_admin_dbstats *out)
{
    memset(out, 0, sizeof *out);
    DB_MPOOL_STAT *gsp;
    int rc = m->env->memp_stat(m->env, &gsp, NULL, 0);
    if (rc)
        return db_err(rc);
    out->cache_hits = gsp->st_cache_hit;
    out->cache_misses = gsp->st_cache_miss;
    out->cache_bytes = (uint64_t)gsp->st_gbytes * (1u << 30) + gsp->st_bytes;
    free(gsp);
    char **list = NULL;
    rc = m->env->log_archive(m->env, &list, DB_ARCH_ABS | DB_ARCH_LOG);
    if (rc)
        return db_err(rc);
    for (char **p = list; p && *p; p++) {
        struct stat st;
        /* Log files are made sparse at their full size: count what is
         * on disk. */
        if (stat(*p, &st) == 0) {
            out->log_bytes += (uint64_t)st.st_blocks * 512;
            out->log_files++;
        }
    }
    free(list);
    return 0;
}

/* ---- checkpoint, backup ---- */

int meta_admin_checkpoint(struct meta *m)
{
    int rc = m->env->txn_checkpoint(m->env, 0, 0, DB_FORCE);
    if (rc) {
        log_err("meta: checkpoint: %s", db_strerror(rc));
        return db_err(rc);
    }
    rc = m->env->log_archive(m->env, NULL, DB_ARCH_REMOVE);
    if (rc)
        log_warn("meta: removing old log files: %s", db_strerror(rc));
    return db_err(rc);
}

/* 0 if dir is missing (then made) or empty, else -ENOTEMPTY/-ENOTDIR. */
static int backup_dir_ready(const char *dir, int *made)
{
    *made = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno != ENOENT)
            return -errno;
        if (mkdir(dir, 0700) != 0)
            return -errno;
        *made = 1;
        return 0;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            rc = -ENOTEMPTY;
    closedir(d);
    return rc;
}

/* Files and bytes in dir; with wipe, removes them (a failed backup). */
static void backup_dir_walk(const char *dir, int wipe, uint32_t *files,
                            uint64_t *bytes)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[4096 + 256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (wipe) {
            unlink(path);
            continue;
        }
        (*files)++;
        *bytes += (uint64_t)st.st_size;
    }
    closedir(d);
}

static void db_errcall_backup(const DB_ENV *env, const char *pfx,
                              const char *msg)
{
    log_err("meta: backup copy: %s", msg);
}

/* A gateway started on the copy makes itself a new incarnation and ends
 * the sessions in it (see meta_incarnation): from the backup on, the two
 * timelines hand out the same session ids and so the same block keys for
 * other data.  Zeros mark it. */
static int mark_restored(DB_ENV *e)
{
    static const uint8_t restored[META_INCARNATION_LEN];
    DB *db;
    int rc = db_create(&db, e, 0);
    if (rc)
        return rc;
    rc = db->open(db, NULL, meta_db_file(MDB_SUPER), NULL, DB_BTREE,
                  DB_AUTO_COMMIT, 0600);
    if (rc == 0) {
        DBT k = { .data = META_INCARNATION_KEY,
                  .size = strlen(META_INCARNATION_KEY) };
        DBT v = { .data = (void *)restored, .size = sizeof restored };
        rc = db->put(db, NULL, &k, &v, DB_AUTO_COMMIT);
    }
    int rc2 = db->close(db, 0);
    return rc ? rc : rc2;
}

/* Catastrophic recovery in the copy, as db_hotbackup does, so that the
 * copy opens as a consistent environment of its own; then the log files
 * it no longer needs go. */
static int recover_copy(const char *dir)
{
    DB_ENV *e;
    int rc = db_env_create(&e, 0);
    if (rc)
        return db_err(rc);
    e->set_errcall(e, db_errcall_backup);
    e->set_cachesize(e, 0, BACKUP_CACHE, 1);
    rc = e->open(e, dir, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
                 DB_INIT_LOG | DB_INIT_MPOOL | DB_RECOVER_FATAL |
                 DB_PRIVATE, 0600);
    if (rc == 0)
        rc = mark_restored(e);
    if (rc == 0)
        rc = e->txn_checkpoint(e, 0, 0, DB_FORCE);
    if (rc == 0)
        rc = e->log_archive(e, NULL, DB_ARCH_REMOVE);
    int rc2 = e->close(e, 0);
    return db_err(rc ? rc : rc2);
}

int meta_admin_backup(struct meta *m, const char *dir, uint32_t *files,
                      uint64_t *bytes)
{
    *files = 0;
    *bytes = 0;
    if (dir[0] != '/')
        return -EINVAL;
    int made;
    int rc = backup_dir_ready(dir, &made);
    if (rc)
        return rc;
    /* A fresh checkpoint keeps the log the copy needs short. */
    rc = m->env->txn_checkpoint(m->env, 0, 0, DB_FORCE);
    if (rc == 0)
        rc = m->env->backup(m->env, dir, DB_CREATE);
    rc = db_err(rc);
    if (rc == 0)
        rc = recover_copy(dir);
    if (rc) {
        log_err("meta: backup to %s failed: %s", dir, strerror(-rc));
        backup_dir_walk(dir, 1, files, bytes);
        if (made)
            rmdir(dir);
        return rc;
    }
    backup_dir_walk(dir, 0, files, bytes);
    return 0;
}
