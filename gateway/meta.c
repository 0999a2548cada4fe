/* meta.c - the metadata core's environment: opening (with recovery) and
 * closing the Berkeley DB environment and its databases, the superblock,
 * volumes, statfs figures and the background checkpoint that lets old log
 * files go. */
#include "config.h"
#include "meta_internal.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CACHE       (64ull << 20)
#define DEFAULT_BLOCK_SIZE  (4u << 20)
#define DEFAULT_LEASE       30u
#define CKPT_WAKE_SECS      2
#define CKPT_LOG_KB         (32u << 10)  /* checkpoint after this much log */
#define CKPT_MAX_MINUTES    1            /* ... or this long */
#define VOLUME_REC_MAX      64

static const char *const db_files[MDB_COUNT] = {
    [MDB_INODES] = "inodes.db",     [MDB_DIRENTS] = "dirents.db",
    [MDB_DIRSEQ] = "dirseq.db",     [MDB_XATTRS] = "xattrs.db",
    [MDB_BLOCKS] = "blocks.db",     [MDB_LOCKS] = "locks.db",
    [MDB_SESSIONS] = "sessions.db", [MDB_OPENS] = "opens.db",
    [MDB_SESSOPENS] = "sessopens.db", [MDB_GARBAGE] = "garbage.db",
    [MDB_VOLUMES] = "volumes.db",   [MDB_SUPER] = "super.db",
    [MDB_SEQUENCES] = "sequences.db",
};

const char *meta_db_file(enum meta_db d)
{
    return db_files[d];
}

/* Counters are DB_SEQUENCEs in a database of their own.  A cache
 * hands out values without a write per value; a restart skips the rest
 * of a cache, so values are never reused. */
static const struct {
    const char *key;
    int32_t cache;
} seq_defs[SEQ_COUNT] = {
    [SEQ_INO] = { "seq.ino", 64 },
    [SEQ_SESSION] = { "seq.session", 0 },
    [SEQ_GARBAGE] = { "seq.garbage", 256 },
    [SEQ_CHANGE] = { "seq.change", 1024 },
    [SEQ_VOLUME] = { "seq.volume", 0 },
};

static void db_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
    log_err("meta: Berkeley DB: %s", msg);
}

/* One gateway per metadata directory: a second would corrupt it. */
static int lock_dir(struct meta *m, const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        log_err("meta: cannot create %s: %s", dir, strerror(e));
        return -e;
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/flexfs-meta.lock", dir) >=
        sizeof(path))
        return -ENAMETOOLONG;
    m->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m->lock_fd < 0) {
        int e = errno;
        log_err("meta: %s: %s", path, strerror(e));
        return -e;
    }
    if (flock(m->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        log_err("meta: %s is in use by another process", dir);
        return e == EWOULDBLOCK ? -EBUSY : -e;
    }
    return 0;
}

static int env_open(struct meta *m, const struct meta_opts *o)
{
    DB_ENV *env;
    int rc = db_err(db_env_create(&env, 0));
    if (rc)
        return rc;
    m->env = env;
    env->set_errcall(env, db_errcall);
    uint64_t cache = o->cache_bytes ? o->cache_bytes : DEFAULT_CACHE;
    if ((rc = db_err(env->set_cachesize(env, (u_int32_t)(cache >> 30),
                                        (u_int32_t)(cache & ((1u << 30) - 1)),
                                        1))) ||
        (rc = db_err(env->set_lk_detect(env, DB_LOCK_DEFAULT))) ||
        (rc = db_err(env->set_lk_max_locks(env, 200000))) ||
        (rc = db_err(env->set_lk_max_objects(env, 200000))) ||
        (rc = db_err(env->set_lk_max_lockers(env, 20000))) ||
        (rc = db_err(env->set_tx_max(env, 2000))) ||
        (rc = db_err(env->set_lg_bsize(env, 1u << 20))) ||
        (rc = db_err(env->set_lg_max(env, 16u << 20))) ||
        (rc = db_err(env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1))) ||
        (rc = db_err(env->log_set_config(env, DB_LOG_ZERO, 1))))
        return rc;
    /* DB_LOG_ZERO writes each new log file out in full when it is made:
     * otherwise the file is sparse, every commit's write fills a hole and
     * its fdatasync must write the file system's allocation too (8-thread
     * NFS creates: 3.6-4.0k -> 4.0-4.4k/s). */
    /* DB_PRIVATE: only this process uses the environment (lock_dir makes
     * sure), so its regions live in our memory rather than in mapped
     * files the kernel would keep writing back. */
    uint32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
                     DB_INIT_MPOOL | DB_THREAD | DB_RECOVER | DB_PRIVATE;
    rc = db_err(env->open(env, o->dir, flags, 0600));
    if (rc)
        log_err("meta: cannot open the environment in %s", o->dir);
    return rc;
}

static int dbs_open(struct meta *m)
{
    for (int i = 0; i < MDB_COUNT; i++) {
        DB *db;
        int rc = db_err(db_create(&db, m->env, 0));
        if (rc)
            return rc;
        m->db[i] = db;
        rc = db_err(db->open(db, NULL, db_files[i], NULL, DB_BTREE,
                             DB_CREATE | DB_AUTO_COMMIT | DB_THREAD, 0600));
        if (rc) {
            log_err("meta: cannot open %s", db_files[i]);
            return rc;
        }
    }
    return 0;
}

static int seqs_open(struct meta *m)
{
    for (int i = 0; i < SEQ_COUNT; i++) {
        DB_SEQUENCE *s;
        int rc = db_err(db_sequence_create(&s, m->db[MDB_SEQUENCES], 0));
        if (rc)
            return rc;
        m->seq[i] = s;
        DBT k;
        memset(&k, 0, sizeof(k));
        k.data = (void *)seq_defs[i].key;
        k.size = (u_int32_t)strlen(seq_defs[i].key);
        if ((rc = db_err(s->initial_value(s, 1))) ||
            (seq_defs[i].cache &&
             (rc = db_err(s->set_cachesize(s, seq_defs[i].cache)))) ||
            (rc = db_err(s->open(s, NULL, &k, DB_CREATE | DB_THREAD))))
            return rc;
    }
    return 0;
}

/* ---- volumes ---- */

static int volume_decode(const void *key, size_t klen, const void *buf,
                         size_t len, struct meta_volume *out)
{
    struct rbuf r;
    rb_init(&r, buf, len);
    uint8_t ver = rb_u8(&r);
    out->id = rb_u64(&r);
    out->root = rb_u64(&r);
    out->block_size = rb_u32(&r);
    if (r.bad || ver != REC_V1 || klen > META_NAME_MAX) {
        log_err("meta: malformed volume record");
        return -EIO;
    }
    memcpy(out->name, key, klen);
    out->name[klen] = 0;
    return 0;
}

struct volume_find {
    uint64_t id;
    struct meta_volume *out;
    int found;
};

static int volume_match(void *arg, const struct kv_rec *r)
{
    struct volume_find *f = arg;
    int rc = volume_decode(r->key, r->klen, r->val, r->vlen, f->out);
    if (rc)
        return rc;
    f->found = f->out->id == f->id;
    return f->found ? KV_STOP : 0;
}

int volume_by_id(struct tx *tx, uint64_t id, struct meta_volume *out)
{
    uint8_t vbuf[VOLUME_REC_MAX];
    struct volume_find f = { .id = id, .out = out };
    int rc = kv_walk(tx, MDB_VOLUMES, NULL, 0, NULL, 0, vbuf, sizeof(vbuf),
                     0, volume_match, &f);
    return rc ? rc : f.found ? 0 : -ENOENT;
}

int volume_block_size(struct tx *tx, uint64_t vol, uint32_t *bs)
{
    struct meta_volume v;
    int rc = volume_by_id(tx, vol, &v);
    if (rc == -ENOENT) {
        log_err("meta: inode of unknown volume %llu", (unsigned long long)vol);
        return -EIO;
    }
    if (rc == 0)
        *bs = v.block_size;
    return rc;
}

static int block_size_ok(uint32_t bs)
{
    return bs >= 4096 && bs <= (64u << 20) && (bs & (bs - 1)) == 0;
}

int volume_make(struct tx *tx, const char *name, uint32_t block_size,
                struct meta_volume *out)
{
    size_t len = strlen(name);
    int rc = name_check(name, len, 1);
    if (rc)
        return rc;
    if (!block_size_ok(block_size))
        return -EINVAL;
    uint8_t vbuf[VOLUME_REC_MAX];
    rc = kv_get(tx, MDB_VOLUMES, name, len, vbuf, sizeof(vbuf), NULL, DB_RMW);
    if (rc != -ENOENT)
        return rc ? rc : -EEXIST;

    struct inode root;
    uint64_t id;
    if ((rc = tx_next(tx, SEQ_VOLUME, &id)) ||
        (rc = inode_new(tx, id, S_IFDIR | 0755, 0, 0, &root)))
        return rc;
    root.parent = root.ino;
    if ((rc = inode_put_new(tx, &root, NULL, 0)))
        return rc;

    struct wbuf w;
    wb_init(&w, vbuf, sizeof(vbuf));
    wb_u8(&w, REC_V1);
    wb_u64(&w, id);
    wb_u64(&w, root.ino);
    wb_u32(&w, block_size);
    wb_u64(&w, (uint64_t)tx->now.sec);
    if ((rc = kv_put(tx, MDB_VOLUMES, name, len, vbuf, w.len)))
        return rc;
    out->id = id;
    memcpy(out->name, name, len + 1);
    out->root = root.ino;
    out->block_size = block_size;
    return 0;
}

struct volume_args {
    const char *name;
    uint32_t block_size;
    uint64_t ino;
    struct meta_volume *out;
    uint32_t max;
};

static int do_volume_create(struct tx *tx, void *arg)
{
    struct volume_args *a = arg;
    return volume_make(tx, a->name, a->block_size, a->out);
}

int meta_volume_create(struct meta *m, const char *name, uint32_t block_size,
                       struct meta_volume *out)
{
    struct volume_args a = { .name = name, .block_size = block_size,
                             .out = out };
    return tx_run(m, do_volume_create, &a);
}

int volume_get(struct tx *tx, const char *name, struct meta_volume *out)
{
    size_t len = strlen(name), vlen;
    uint8_t vbuf[VOLUME_REC_MAX];
    if (len > META_NAME_MAX)
        return -ENAMETOOLONG;
    int rc = kv_get(tx, MDB_VOLUMES, name, len, vbuf, sizeof(vbuf), &vlen, 0);
    return rc ? rc : volume_decode(name, len, vbuf, vlen, out);
}

static int do_volume_get(struct tx *tx, void *arg)
{
    struct volume_args *a = arg;
    return volume_get(tx, a->name, a->out);
}

int meta_volume_get(struct meta *m, const char *name, struct meta_volume *out)
{
    struct volume_args a = { .name = name, .out = out };
    return tx_run(m, do_volume_get, &a);
}

static int do_volume_of(struct tx *tx, void *arg)
{
    struct volume_args *a = arg;
    struct inode in;
    int rc = inode_get(tx, a->ino, &in, 0);
    if (rc)
        return rc;
    rc = volume_by_id(tx, in.vol, a->out);
    return rc == -ENOENT ? -EIO : rc;
}

int meta_volume_of(struct meta *m, uint64_t ino, struct meta_volume *out)
{
    struct volume_args a = { .ino = ino, .out = out };
    /* Only reads what never changes (an inode's volume is set when it is
     * made), and the answer is no promise to a client: no log flush, so
     * the exports check costs no fsync when writers are about. */
    return tx_run_lazy(m, do_volume_of, &a);
}

struct volume_listing {
    struct volume_args *a;
    uint32_t n;
};

static int volume_list_one(void *arg, const struct kv_rec *r)
{
    struct volume_listing *l = arg;
    int rc = volume_decode(r->key, r->klen, r->val, r->vlen,
                           &l->a->out[l->n]);
    if (rc)
        return rc;
    return ++l->n < l->a->max ? 0 : KV_STOP;
}

static int do_volume_list(struct tx *tx, void *arg)
{
    struct volume_args *a = arg;
    uint8_t vbuf[VOLUME_REC_MAX];
    struct volume_listing l = { a, 0 };
    int rc = a->max ? kv_walk(tx, MDB_VOLUMES, NULL, 0, NULL, 0, vbuf,
                              sizeof(vbuf), 0, volume_list_one, &l) : 0;
    return rc ? rc : (int)l.n;
}

int meta_volume_list(struct meta *m, struct meta_volume *out, uint32_t max)
{
    struct volume_args a = { .out = out, .max = max };
    return tx_run(m, do_volume_list, &a);
}

/* ---- statfs ---- */

int meta_statfs(struct meta *m, uint64_t ino, struct meta_statfs *out)
{
    struct meta_volume v;
    struct volume_args a = { .ino = ino, .out = &v };
    int rc = tx_run(m, do_volume_of, &a);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->nvols; i++) {
        if (m->vols[i].vol == v.id) {
            out->files = m->vols[i].files > 0 ? (uint64_t)m->vols[i].files : 0;
            out->bytes_used =
                m->vols[i].bytes > 0 ? (uint64_t)m->vols[i].bytes : 0;
        }
    }
    pthread_mutex_unlock(&m->mu);
    /* Inode numbers are 64-bit and never run out in practice. */
    out->ffree = (1ull << 48) - out->files;
    out->block_size = v.block_size;
    out->namemax = META_NAME_MAX;
    return 0;
}

uint32_t meta_lease_secs(const struct meta *m)
{
    return m->lease_secs;
}

void meta_incarnation(const struct meta *m, uint8_t out[META_INCARNATION_LEN])
{
    memcpy(out, m->incarnation, META_INCARNATION_LEN);
}

/* ---- first start, counts ---- */

struct incarnation_args {
    uint8_t *inc;
    int made;                           /* INC_* */
};

enum { INC_KEPT, INC_FIRST, INC_RESTORED };

/* Loads the incarnation, or makes one where there is none (a first
 * start, a restored backup, metadata older than incarnations). */
static int do_incarnation(struct tx *tx, void *arg)
{
    struct incarnation_args *a = arg;
    uint8_t *inc = a->inc;
    size_t len;
    int rc = kv_get(tx, MDB_SUPER, META_INCARNATION_KEY,
                    strlen(META_INCARNATION_KEY), inc, META_INCARNATION_LEN,
                    &len, DB_RMW);
    static const uint8_t restored[META_INCARNATION_LEN];
    if (rc == 0 && len == META_INCARNATION_LEN &&
        memcmp(inc, restored, sizeof restored) != 0)
        return 0;
    if (rc != 0 && rc != -ENOENT)
        return rc;
    a->made = rc == 0 ? INC_RESTORED : INC_FIRST;
    if (getrandom(inc, META_INCARNATION_LEN, 0) != META_INCARNATION_LEN)
        return -EIO;
    return kv_put(tx, MDB_SUPER, META_INCARNATION_KEY,
                  strlen(META_INCARNATION_KEY), inc, META_INCARNATION_LEN);
}

/* A new incarnation over a restored backup: the sessions in it belong to
 * the old timeline, whose clients may have kept blocks under keys this
 * one will hand out again.  Ending them makes each client mount again and
 * so learn the new incarnation.  (Metadata from before incarnations gets
 * one too, and keeps its sessions: its clients kept no blocks by one.) */
static int incarnation_begins(struct meta *m, int made)
{
    if (made == INC_KEPT)
        return 0;
    if (made == INC_FIRST) {
        log_info("meta: a new incarnation");
        return 0;
    }
    int n = meta_session_expire(m, INT64_MAX);
    if (n < 0)
        return n;
    if (n)
        log_notice("meta: a new incarnation: the %d sessions of the old one "
                   "ended; blocks kept on disk from before it are not used",
                   n);
    else
        log_notice("meta: a new incarnation: blocks kept on disk from "
                   "before it are not used");
    return 0;
}

static int do_format(struct tx *tx, void *arg)
{
    const struct meta_opts *o = arg;
    uint8_t buf[8];
    size_t len;
    int rc = kv_get(tx, MDB_SUPER, "format", 6, buf, sizeof(buf), &len,
                    DB_RMW);
    if (rc == 0) {
        struct rbuf r;
        rb_init(&r, buf, len);
        uint8_t ver = rb_u8(&r);
        uint32_t fmt = rb_u32(&r);
        if (r.bad || ver != REC_V1 || fmt != META_FORMAT) {
            log_err("meta: %s holds metadata format %u; this gateway "
                    "reads format %u", o->dir, fmt, META_FORMAT);
            return -EINVAL;
        }
        return 0;
    }
    if (rc != -ENOENT)
        return rc;
    struct wbuf w;
    wb_init(&w, buf, sizeof(buf));
    wb_u8(&w, REC_V1);
    wb_u32(&w, META_FORMAT);
    if ((rc = kv_put(tx, MDB_SUPER, "format", 6, buf, w.len)))
        return rc;
    struct meta_volume v;
    uint32_t bs = o->default_block_size ? o->default_block_size
                                        : DEFAULT_BLOCK_SIZE;
    rc = volume_make(tx, "default", bs, &v);
    if (rc == 0)
        log_notice("meta: created volume \"default\" (block size %u) in %s",
                   bs, o->dir);
    return rc;
}

/* Statfs figures are kept in memory; count them once at start.  Nothing
 * else runs yet, so a plain cursor (no transaction) is enough. */
static int counts_load(struct meta *m)
{
    /* What the first start's format counted is counted again below. */
    m->nvols = 0;
    m->garbage = 0;
    DBC *c;
    uint8_t kbuf[8], vbuf[INODE_REC_LEN];
    DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
    DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .dlen = INODE_REC_LEN,
              .flags = DB_DBT_USERMEM | DB_DBT_PARTIAL };
    int rc = db_err(m->db[MDB_INODES]->cursor(m->db[MDB_INODES], NULL, &c, 0));
    if (rc)
        return rc;
    struct tx tx = { .m = m };
    while ((rc = c->get(c, &k, &v, DB_NEXT)) == 0) {
        struct inode in;
        if (k.size != 8 ||
            (rc = inode_decode(vbuf, v.size, be64_get(kbuf), &in)) != 0)
            break;
        tx_count(&tx, in.vol, 1, (int64_t)in.bytes);
        if (tx.ndv == TX_MAX_VOLS)
            tx_apply_counts(&tx);
    }
    c->close(c);
    if (rc != DB_NOTFOUND)
        return rc == 0 || rc == -EIO ? -EIO : db_err(rc);

    DBT g = { .flags = DB_DBT_USERMEM | DB_DBT_PARTIAL };
    uint8_t gk[16];
    DBT gkey = { .data = gk, .ulen = sizeof(gk), .flags = DB_DBT_USERMEM };
    rc = db_err(m->db[MDB_GARBAGE]->cursor(m->db[MDB_GARBAGE], NULL, &c, 0));
    if (rc)
        return rc;
    while ((rc = c->get(c, &gkey, &g, DB_NEXT)) == 0)
        tx.dgarbage++;
    c->close(c);
    if (rc != DB_NOTFOUND)
        return db_err(rc);
    tx_apply_counts(&tx);
    return 0;
}

/* ---- checkpoints ---- */

/* Checkpoints bound recovery time and let DB_LOG_AUTO_REMOVE drop old
 * log files; Berkeley DB skips one when little has been logged. */
static void *ckpt_main(void *arg)
{
    struct meta *m = arg;
    pthread_mutex_lock(&m->ckpt_mu);
    while (!m->ckpt_stop) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_sec += CKPT_WAKE_SECS;
        pthread_cond_timedwait(&m->ckpt_cv, &m->ckpt_mu, &t);
        if (m->ckpt_stop)
            break;
        pthread_mutex_unlock(&m->ckpt_mu);
        int rc = m->env->txn_checkpoint(m->env, CKPT_LOG_KB,
                                        CKPT_MAX_MINUTES, 0);
        if (rc)
            log_warn("meta: checkpoint: %s", db_strerror(rc));
        pthread_mutex_lock(&m->ckpt_mu);
    }
    pthread_mutex_unlock(&m->ckpt_mu);
    return NULL;
}

static int ckpt_start(struct meta *m)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&m->ckpt_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc)
        return -rc;
    rc = pthread_create(&m->ckpt_thread, NULL, ckpt_main, m);
    if (rc) {
        pthread_cond_destroy(&m->ckpt_cv);
        return -rc;
    }
    m->ckpt_started = 1;
    return 0;
}

static void ckpt_stop(struct meta *m)
{
    if (!m->ckpt_started)
        return;
    pthread_mutex_lock(&m->ckpt_mu);
    m->ckpt_stop = 1;
    pthread_cond_signal(&m->ckpt_cv);
    pthread_mutex_unlock(&m->ckpt_mu);
    pthread_join(m->ckpt_thread, NULL);
    pthread_cond_destroy(&m->ckpt_cv);
    m->ckpt_started = 0;
}

/* ---- open and close ---- */

static void meta_free(struct meta *m)
{
    ckpt_stop(m);
    locks_close(m);
    for (int i = 0; i < SEQ_COUNT; i++)
        if (m->seq[i])
            m->seq[i]->close(m->seq[i], 0);
    for (int i = MDB_COUNT - 1; i >= 0; i--)
        if (m->db[i])
            m->db[i]->close(m->db[i], 0);
    if (m->env)
        m->env->close(m->env, 0);
    if (m->lock_fd >= 0)
        close(m->lock_fd);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->ckpt_mu);
    free(m->vols);
    free(m);
}

int meta_open(const struct meta_opts *opts, struct meta **out)
{
    if (!opts->dir || !*opts->dir)
        return -EINVAL;
    if (opts->default_block_size && !block_size_ok(opts->default_block_size)) {
        log_err("meta: block size %u is not a power of two from 4 KiB to "
                "64 MiB", opts->default_block_size);
        return -EINVAL;
    }
    struct meta *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->lock_fd = -1;
    m->lease_secs = opts->lease_secs ? opts->lease_secs : DEFAULT_LEASE;
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->ckpt_mu, NULL);

    int rc;
    struct incarnation_args inc = { .inc = m->incarnation };
    if ((rc = lock_dir(m, opts->dir)) ||
        (rc = env_open(m, opts)) ||
        (rc = dbs_open(m)) ||
        (rc = seqs_open(m)) ||
        (rc = tx_run(m, do_format, (void *)opts)) ||
        (rc = tx_run(m, do_incarnation, &inc)) ||
        (rc = counts_load(m)) ||
        (rc = sessions_refresh(m)) ||
        (rc = locks_open(m, opts)) ||
        (rc = ckpt_start(m)) ||
        (rc = incarnation_begins(m, inc.made))) {
        meta_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void meta_close(struct meta *m)
{
    if (!m)
        return;
    ckpt_stop(m);
    int rc = m->env->txn_checkpoint(m->env, 0, 0, 0);
    if (rc)
        log_warn("meta: checkpoint at close: %s", db_strerror(rc));
    meta_free(m);
}
