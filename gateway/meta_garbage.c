/* meta_garbage.c - the garbage table: block versions that no map names any
 * more, waiting for the collector to delete their objects after a grace
 * period.  Keys are ids from a counter, so key order is the order in which
 * blocks became garbage; each record carries the time it happened. */
#include "config.h"
#include "meta_internal.h"
#include "log.h"

#include <errno.h>

#define GARBAGE_REC_LEN  41             /* ver, time, volume, ino, index, version */

int garbage_add(struct tx *tx, uint64_t vol, uint64_t ino, uint64_t index,
                uint64_t version)
{
    uint64_t id;
    int rc = tx_next(tx, SEQ_GARBAGE, &id);
    if (rc)
        return rc;
    uint8_t key[8], val[GARBAGE_REC_LEN];
    struct wbuf w;
    be64_put(key, id);
    wb_init(&w, val, sizeof(val));
    wb_u8(&w, REC_V1);
    wb_u64(&w, (uint64_t)tx->now.sec);
    wb_u64(&w, vol);
    wb_u64(&w, ino);
    wb_u64(&w, index);
    wb_u64(&w, version);
    if ((rc = kv_put(tx, MDB_GARBAGE, key, 8, val, w.len)))
        return rc;
    tx->dgarbage++;
    return 0;
}

struct garbage_args {
    int64_t before;
    struct meta_garbage *out;
    uint32_t max;
    const uint64_t *ids;
    uint32_t n;
};

struct garbage_listing {
    struct garbage_args *a;
    uint32_t n;
};

static int garbage_list_one(void *arg, const struct kv_rec *rec)
{
    struct garbage_listing *l = arg;
    struct rbuf r;
    rb_init(&r, rec->val, rec->vlen);
    uint8_t ver = rb_u8(&r);
    int64_t when = (int64_t)rb_u64(&r);
    struct meta_garbage *g = &l->a->out[l->n];
    g->volume = rb_u64(&r);
    g->ino = rb_u64(&r);
    g->index = rb_u64(&r);
    g->version = rb_u64(&r);
    if (r.bad || ver != REC_V1 || rec->klen != 8) {
        log_err("meta: malformed garbage record");
        return -EIO;
    }
    /* Ids follow time, so the first young entry ends the list (a
     * clock stepped back only delays what follows). */
    if (when >= l->a->before)
        return KV_STOP;
    g->id = be64_get(rec->key);
    return ++l->n < l->a->max ? 0 : KV_STOP;
}

static int do_garbage_list(struct tx *tx, void *arg)
{
    struct garbage_args *a = arg;
    uint8_t vbuf[GARBAGE_REC_LEN];
    struct garbage_listing l = { a, 0 };
    int rc = a->max ? kv_walk(tx, MDB_GARBAGE, NULL, 0, NULL, 0, vbuf,
                              sizeof(vbuf), 0, garbage_list_one, &l) : 0;
    return rc ? rc : (int)l.n;
}

int meta_garbage_list(struct meta *m, int64_t before,
                      struct meta_garbage *out, uint32_t max)
{
    struct garbage_args a = { .before = before, .out = out, .max = max };
    int n = tx_run(m, do_garbage_list, &a);
    /* The store objects go for good once listed here, so the rows that
     * named them garbage must be on disk first, lazy commits included. */
    int rc = n > 0 ? tx_flush_log(m) : 0;
    return rc < 0 ? rc : n;
}

static int do_garbage_done(struct tx *tx, void *arg)
{
    struct garbage_args *a = arg;
    for (uint32_t i = 0; i < a->n; i++) {
        uint8_t key[8];
        be64_put(key, a->ids[i]);
        int rc = kv_del(tx, MDB_GARBAGE, key, 8);
        if (rc == 0)
            tx->dgarbage--;
        else if (rc != -ENOENT)
            return rc;
    }
    return 0;
}

int meta_garbage_done(struct meta *m, const uint64_t *ids, uint32_t n)
{
    struct garbage_args a = { .ids = ids, .n = n };
    return tx_run(m, do_garbage_done, &a);
}

uint64_t meta_garbage_count(struct meta *m)
{
    pthread_mutex_lock(&m->mu);
    int64_t n = m->garbage;
    pthread_mutex_unlock(&m->mu);
    return n > 0 ? (uint64_t)n : 0;
}
