/* meta_tx.c - transactions of the metadata core: the retry-on-deadlock
 * runner every public call goes through, counters from DB_SEQUENCEs,
 * record codecs and plain key/value access inside a transaction. */
#include "config.h"
#include "meta_internal.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define TX_ATTEMPTS 200

int db_err(int rc)
{
    if (rc == 0)
        return 0;
    if (rc > 0)                         /* Berkeley DB passes errno on */
        return -rc;
    if (rc == DB_LOCK_DEADLOCK || rc == DB_LOCK_NOTGRANTED ||
        rc == DB_NOTFOUND)
        return rc;
    if (rc == DB_KEYEXIST)
        return -EEXIST;
    log_err("meta: Berkeley DB: %s", db_strerror(rc));
    return -EIO;
}

static int is_deadlock(int rc)
{
    return rc == DB_LOCK_DEADLOCK || rc == DB_LOCK_NOTGRANTED;
}

/* A short randomized pause so that the retried transactions of a deadlock
 * do not collide again in lockstep. */
static void backoff(int attempt)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long us = 20 + (long)((unsigned long)t.tv_nsec % 200) *
              (attempt < 10 ? attempt : 10);
    struct timespec d = { 0, us * 1000 };
    nanosleep(&d, NULL);
}

void tx_apply_counts(struct tx *tx)
{
    struct meta *m = tx->m;
    if (tx->ndv == 0 && tx->dgarbage == 0)
        return;
    pthread_mutex_lock(&m->mu);
    m->garbage += tx->dgarbage;
    for (int i = 0; i < tx->ndv; i++) {
        size_t j;
        for (j = 0; j < m->nvols; j++)
            if (m->vols[j].vol == tx->dv[i].vol)
                break;
        if (j == m->nvols) {
            struct vol_count *v = realloc(m->vols, (j + 1) * sizeof(*v));
            if (!v) {
                log_err("meta: out of memory counting volume %llu",
                        (unsigned long long)tx->dv[i].vol);
                continue;
            }
            m->vols = v;
            m->vols[j] = (struct vol_count){ tx->dv[i].vol, 0, 0 };
            m->nvols++;
        }
        m->vols[j].files += tx->dv[i].files;
        m->vols[j].bytes += tx->dv[i].bytes;
    }
    pthread_mutex_unlock(&m->mu);
    tx->ndv = 0;
    tx->dgarbage = 0;
}

/* Commits without waiting for the disk, so the transaction's locks go at
 * once (a transaction holding its pages through its own fsync would make
 * every other one wait for it), then flushes the log before the caller
 * replies: concurrent flushes share one fsync (group commit).
 *
 * Nothing reaches a client before it is durable, so a transaction that
 * only read must flush too when it may have read what another committed
 * but has not flushed yet.  Writers count themselves in m->unflushed from
 * before their commit (when their changes become visible) to the end of
 * their flush, so a reader that finds the count at zero after its reads
 * saw only durable data and skips the flush. */
static int tx_commit(struct tx *tx, int lazy)
{
    struct meta *m = tx->m;
    int counted = tx->dirty && !lazy && !m->nosync;
    if (counted)
        atomic_fetch_add(&m->unflushed, 1);
    int rc = db_err(tx->txn->commit(tx->txn, DB_TXN_NOSYNC));
    int flush = rc == 0 && !m->nosync && !lazy &&
                (tx->dirty || atomic_load(&m->unflushed) > 0);
    if (flush)
        rc = tx_flush_log(m);
    if (counted)
        atomic_fetch_sub(&m->unflushed, 1);
    return rc;
}

int tx_flush_log(struct meta *m)
{
    if (m->nosync)
        return 0;
    int rc = db_err(m->env->log_flush(m->env, NULL));
    if (rc)
        log_err("meta: cannot flush the log: %s", strerror(-rc));
    return rc;
}

static int tx_run_mode(struct meta *m, tx_fn fn, void *arg, int lazy)
{
    int rc = 0;
    for (int attempt = 0; attempt < TX_ATTEMPTS; attempt++) {
        struct tx tx = { .m = m };
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        tx.now.sec = ts.tv_sec;
        tx.now.nsec = (uint32_t)ts.tv_nsec;

        rc = db_err(m->env->txn_begin(m->env, NULL, &tx.txn, 0));
        if (rc)
            break;
        rc = fn(&tx, arg);
        if (rc >= 0) {
            int c = tx_commit(&tx, lazy);
            if (c == 0) {
                tx_apply_counts(&tx);
                return rc;
            }
            rc = c;
        } else {
            int a = tx.txn->abort(tx.txn);
            if (a)
                log_err("meta: abort: %s", db_strerror(a));
        }
        if (!is_deadlock(rc))
            break;
        backoff(attempt);
    }
    if (is_deadlock(rc)) {
        log_err("meta: transaction still deadlocked after %d attempts",
                TX_ATTEMPTS);
        return -EIO;
    }
    if (rc == DB_NOTFOUND) {
        log_err("meta: unexpected missing record");
        return -EIO;
    }
    return rc;
}

int tx_run(struct meta *m, tx_fn fn, void *arg)
{
    return tx_run_mode(m, fn, arg, 0);
}

int tx_run_lazy(struct meta *m, tx_fn fn, void *arg)
{
    return tx_run_mode(m, fn, arg, 1);
}

int tx_next(struct tx *tx, enum meta_seq s, uint64_t *out)
{
    db_seq_t v;
    /* The sequence reserves its values in a transaction of its own; not
     * waiting for its log write is safe, because a value only matters once
     * a later durable commit, which flushes the log up to itself, uses it. */
    int rc = db_err(tx->m->seq[s]->get(tx->m->seq[s], NULL, 1, &v,
                                       DB_TXN_NOSYNC));
    if (rc)
        return rc == DB_NOTFOUND ? -EIO : rc;
    *out = (uint64_t)v;
    return 0;
}

void tx_count(struct tx *tx, uint64_t vol, int64_t files, int64_t bytes)
{
    for (int i = 0; i < tx->ndv; i++) {
        if (tx->dv[i].vol == vol) {
            tx->dv[i].files += files;
            tx->dv[i].bytes += bytes;
            return;
        }
    }
    if (tx->ndv == TX_MAX_VOLS) {
        log_warn("meta: too many volumes in one transaction; statfs drifts");
        return;
    }
    tx->dv[tx->ndv++] = (struct vol_count){ vol, files, bytes };
}

void meta_test_nosync(struct meta *m)
{
    m->nosync = 1;
}


/* ---- codecs ---- */

void wb_init(struct wbuf *w, void *buf, size_t cap)
{
    w->p = buf;
    w->len = 0;
    w->cap = cap;
    w->overflow = 0;
}

static uint8_t *wb_room(struct wbuf *w, size_t n)
{
    if (w->overflow || w->cap - w->len < n) {
        w->overflow = 1;
        return NULL;
    }
    uint8_t *p = w->p + w->len;
    w->len += n;
    return p;
}

void wb_u8(struct wbuf *w, uint8_t v)
{
    uint8_t *p = wb_room(w, 1);
    if (p)
        *p = v;
}

void wb_u16(struct wbuf *w, uint16_t v)
{
    uint8_t *p = wb_room(w, 2);
    if (p)
        be16_put(p, v);
}

void wb_u32(struct wbuf *w, uint32_t v)
{
    uint8_t *p = wb_room(w, 4);
    if (p)
        be32_put(p, v);
}

void wb_u64(struct wbuf *w, uint64_t v)
{
    uint8_t *p = wb_room(w, 8);
    if (p)
        be64_put(p, v);
}

void wb_bytes(struct wbuf *w, const void *b, size_t n)
{
    uint8_t *p = wb_room(w, n);
    if (p && n)
        memcpy(p, b, n);
}

void rb_init(struct rbuf *r, const void *buf, size_t len)
{
    r->p = buf;
    r->len = len;
    r->off = 0;
    r->bad = 0;
}

const uint8_t *rb_bytes(struct rbuf *r, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

uint8_t rb_u8(struct rbuf *r)
{
    const uint8_t *p = rb_bytes(r, 1);
    return p ? *p : 0;
}

uint16_t rb_u16(struct rbuf *r)
{
    const uint8_t *p = rb_bytes(r, 2);
    return p ? be16_get(p) : 0;
}

uint32_t rb_u32(struct rbuf *r)
{
    const uint8_t *p = rb_bytes(r, 4);
    return p ? be32_get(p) : 0;
}

uint64_t rb_u64(struct rbuf *r)
{
    const uint8_t *p = rb_bytes(r, 8);
    return p ? be64_get(p) : 0;
}

/* ---- key/value access ---- */

static void dbt_in(DBT *d, const void *p, size_t len)
{
    memset(d, 0, sizeof(*d));
    d->data = (void *)p;
    d->size = (u_int32_t)len;
}

int kv_get(struct tx *tx, enum meta_db d, const void *key, size_t klen,
           void *buf, size_t cap, size_t *len, uint32_t flags)
{
    DBT k, v;
    dbt_in(&k, key, klen);
    memset(&v, 0, sizeof(v));
    v.data = buf;
    v.ulen = (u_int32_t)cap;
    v.flags = DB_DBT_USERMEM;
    DB *db = tx->m->db[d];
    int rc = db->get(db, tx->txn, &k, &v, flags);
    if (rc == DB_NOTFOUND || rc == DB_KEYEMPTY)
        return -ENOENT;
    if (rc == DB_BUFFER_SMALL) {
        log_err("meta: record larger than %zu bytes", cap);
        return -EIO;
    }
    rc = db_err(rc);
    if (rc == 0 && len)
        *len = v.size;
    return rc;
}

int kv_put(struct tx *tx, enum meta_db d, const void *key, size_t klen,
           const void *val, size_t vlen)
{
    DBT k, v;
    dbt_in(&k, key, klen);
    dbt_in(&v, val, vlen);
    DB *db = tx->m->db[d];
    tx->dirty = 1;
    return db_err(db->put(db, tx->txn, &k, &v, 0));
}

int kv_del(struct tx *tx, enum meta_db d, const void *key, size_t klen)
{
    DBT k;
    dbt_in(&k, key, klen);
    DB *db = tx->m->db[d];
    tx->dirty = 1;
    int rc = db->del(db, tx->txn, &k, 0);
    if (rc == DB_NOTFOUND)
        return -ENOENT;
    return db_err(rc);
}

int kv_cursor(struct tx *tx, enum meta_db d, DBC **out)
{
    DB *db = tx->m->db[d];
    return db_err(db->cursor(db, tx->txn, out, 0));
}

int kv_walk(struct tx *tx, enum meta_db d, const void *prefix, size_t plen,
            const void *from, size_t flen, void *vbuf, size_t vcap,
            uint32_t flags, kv_walk_fn fn, void *arg)
{
    uint8_t kbuf[KV_KEY_MAX];
    if (!from) {
        from = prefix;
        flen = plen;
    }
    if (flen > sizeof(kbuf) || flen < plen)
        return -EINVAL;
    DBC *c;
    int rc = kv_cursor(tx, d, &c);
    if (rc)
        return rc;
    memcpy(kbuf, from, flen);
    DBT k = { .data = kbuf, .size = (u_int32_t)flen, .ulen = sizeof(kbuf),
              .flags = DB_DBT_USERMEM };
    DBT v = { .data = vbuf, .ulen = (u_int32_t)vcap,
              .flags = DB_DBT_USERMEM | (vbuf ? 0 : DB_DBT_PARTIAL) };
    uint32_t op = flen ? DB_SET_RANGE : DB_FIRST;
    for (;;) {
        rc = c->get(c, &k, &v, op | flags);
        op = DB_NEXT;
        if (rc == DB_NOTFOUND) {
            rc = 0;
            break;
        }
        if ((rc = db_err(rc)))
            break;
        if (k.size < plen || memcmp(kbuf, prefix, plen) != 0)
            break;
        struct kv_rec r = { .key = kbuf, .klen = k.size, .cursor = c,
                            .val = vbuf, .vlen = vbuf ? v.size : 0 };
        if ((rc = fn(arg, &r)))
            break;
    }
    int rc2 = db_err(c->close(c));
    if (rc < 0 || rc2)
        return rc < 0 ? rc : rc2;
    return 0;
}

static int found_one(void *arg, const struct kv_rec *r)
{
    (void)r;
    *(int *)arg = 1;
    return KV_STOP;
}

int kv_none_under(struct tx *tx, enum meta_db d, uint64_t id)
{
    uint8_t key[8];
    be64_put(key, id);
    int found = 0;
    int rc = kv_walk(tx, d, key, 8, NULL, 0, NULL, 0, 0, found_one, &found);
    return rc ? rc : !found;
}

static int delete_one(void *arg, const struct kv_rec *r)
{
    struct tx *tx = arg;
    int rc = db_err(r->cursor->del(r->cursor, 0));
    if (rc == 0)
        tx->dirty = 1;
    return rc;
}

int kv_del_prefix(struct tx *tx, enum meta_db d, const void *prefix,
                  size_t plen)
{
    return kv_walk(tx, d, prefix, plen, NULL, 0, NULL, 0, DB_RMW,
                   delete_one, tx);
}
