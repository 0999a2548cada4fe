/* blockio.c - block transfers between the store and memory (see
 * blockio.h).  Keys come from blockkey.h with the volume id MOUNT gave. */
#include "config.h"
#include "blockio.h"
#include "blockcache.h"
#include "blockkey.h"
#include "client.h"
#include "diskcache.h"
#include "log.h"
#include "session.h"
#include "stats.h"
#include "store.h"
#include "tpool.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int make_key(struct client *cl, uint64_t ino, uint64_t index,
                    uint64_t ver, char *buf)
{
    struct blockkey k = {
        .volume = session_volume(cl->sess)->volume_id,
        .ino = ino, .index = index, .version = ver,
    };
    int rc = blockkey_format(buf, BLOCKKEY_MAX, &k);
    return rc < 0 ? rc : 0;
}

/* Reads len bytes at off of a block version from the store, counted in
 * the mount's statistics; the map promises them, so fewer is damage. */
static int get_counted(struct client *cl, const struct bkey *k, uint32_t off,
                       char *buf, uint32_t len)
{
    char key[BLOCKKEY_MAX];
    int rc = make_key(cl, k->ino, k->index, k->ver, key);
    if (rc < 0)
        return rc;
    size_t got = 0;
    uint64_t t0 = stats_now_ns();
    rc = store_get(cl->store, key, off, buf, len, &got);
    atomic_fetch_add(&cl->stats->store_gets, 1);
    atomic_fetch_add(&cl->stats->store_get_bytes, got);
    atomic_fetch_add(&cl->stats->store_get_ns, stats_now_ns() - t0);
    if (rc < 0) {
        if (rc != -ENOENT)
            atomic_fetch_add(&cl->stats->store_errors, 1);
        log_warn("block %s: read failed: %s", key, strerror(-rc));
        return rc;
    }
    if (got < len) {
        /* Refuse a short object rather than invent data. */
        log_err("block %s: %zu bytes at %u, map says %u", key, got, off,
                len);
        return -EIO;
    }
    return 0;
}

/* The disk cache while its keys still mean what they meant at mount. */
static struct dcache *disk_cache(struct client *cl)
{
    return cl->dcache && !session_new_timeline(cl->sess) ? cl->dcache : NULL;
}

static int load_block(void *arg, const struct bkey *k, char *buf,
                      uint32_t len)
{
    struct client *cl = arg;
    struct dcache *dc = disk_cache(cl);
    if (dc && dcache_get(dc, k, 0, buf, len) == 0)
        return 0;
    int rc = get_counted(cl, k, 0, buf, len);
    if (rc == 0 && dc)
        dcache_put(dc, k, buf, len);
    return rc;
}

int blockio_get_range(struct client *cl, uint64_t ino, uint64_t index,
                      uint64_t ver, uint32_t off, char *buf, uint32_t len)
{
    struct bkey k = { .ino = ino, .index = index, .ver = ver };
    struct dcache *dc = disk_cache(cl);
    if (dc && dcache_get(dc, &k, off, buf, len) == 0)
        return 0;
    return get_counted(cl, &k, off, buf, len);
}

int blockio_cached(struct client *cl, uint64_t ino, uint64_t index,
                   uint64_t ver, uint32_t len)
{
    struct bkey k = { .ino = ino, .index = index, .ver = ver };
    return bcache_has(cl->cache, &k, len);
}

int blockio_fetch(struct client *cl, uint64_t ino, uint64_t index,
                  uint64_t ver, uint32_t len, struct bentry **out)
{
    struct bkey k = { .ino = ino, .index = index, .ver = ver };
    int rc;
    for (int tries = 0; tries < 3; tries++) {
        rc = bcache_get(cl->cache, &k, len, load_block, cl, out);
        if (rc != -EAGAIN)
            break;
    }
    if (rc == -EAGAIN) {
        /* A shorter copy is in use: read this one privately. */
        struct bentry *e = calloc(1, sizeof(*e));
        char *data = store_buf_alloc(len);
        if (!e || !data) {
            free(e);
            free(data);
            return -ENOMEM;
        }
        rc = load_block(cl, &k, data, len);
        if (rc < 0) {
            free(e);
            free(data);
            return rc;
        }
        e->k = k;
        e->data = data;
        e->len = len;
        e->state = -1;          /* private: freed by blockio_release */
        *out = e;
    }
    return rc;
}

void blockio_release(struct client *cl, struct bentry *e)
{
    if (!e)
        return;
    if (e->state == -1) {
        free(e->data);
        free(e);
        return;
    }
    bcache_release(cl->cache, e);
}

void blockio_release_sent(struct client *cl, struct bentry *e, uint32_t from,
                          uint32_t to)
{
    if (e && e->state != -1)
        bcache_release_sent(cl->cache, e, from, to);
    else
        blockio_release(cl, e);
}

struct fetch_job {
    struct client *cl;
    struct bio_req *r;
    struct tbatch *batch;
};

static void fetch_job(void *arg)
{
    struct fetch_job j = *(struct fetch_job *)arg;
    free(arg);
    j.r->rc = blockio_fetch(j.cl, j.r->ino, j.r->index, j.r->ver, j.r->len,
                            &j.r->e);
    tbatch_done(j.batch, j.r->rc);
}

int blockio_fetch_many(struct client *cl, struct bio_req *reqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        reqs[i].e = NULL;
        reqs[i].rc = 0;
    }
    if (n == 0)
        return 0;
    struct tbatch b;
    tbatch_init(&b);
    /* All but the first go to the transfer threads; the first is
     * fetched here, so a one-block read costs no thread hop. */
    for (size_t i = 1; i < n; i++) {
        struct fetch_job *j = malloc(sizeof(*j));
        if (!j) {
            reqs[i].rc = blockio_fetch(cl, reqs[i].ino, reqs[i].index,
                                       reqs[i].ver, reqs[i].len,
                                       &reqs[i].e);
            continue;
        }
        *j = (struct fetch_job){ cl, &reqs[i], &b };
        tbatch_add(&b);
        tpool_submit(cl->xfer, fetch_job, j);
    }
    reqs[0].rc = blockio_fetch(cl, reqs[0].ino, reqs[0].index, reqs[0].ver,
                               reqs[0].len, &reqs[0].e);
    tbatch_wait(&b);
    tbatch_destroy(&b);
    for (size_t i = 0; i < n; i++)
        if (reqs[i].rc < 0)
            return reqs[i].rc;
    return 0;
}

struct prefetch {
    struct client *cl;
    uint64_t ino, index, ver;
    uint32_t len;
};

static void prefetch_job(void *arg)
{
    struct prefetch *p = arg;
    struct bkey k = { .ino = p->ino, .index = p->index, .ver = p->ver };
    struct bentry *e = NULL;
    if (!bcache_was_sent(p->cl->cache, &k) &&
        blockio_fetch(p->cl, p->ino, p->index, p->ver, p->len, &e) == 0)
        blockio_release(p->cl, e);
    free(p);
}

void blockio_prefetch(struct client *cl, uint64_t ino, uint64_t index,
                      uint64_t ver, uint32_t len)
{
    struct bkey k = { .ino = ino, .index = index, .ver = ver };
    if (ver == 0 || len == 0 || bcache_has(cl->cache, &k, len) ||
        bcache_was_sent(cl->cache, &k))
        return;
    struct prefetch *p = malloc(sizeof(*p));
    if (!p)
        return;
    *p = (struct prefetch){ cl, ino, index, ver, len };
    tpool_submit(cl->xfer, prefetch_job, p);
}

int blockio_put(struct client *cl, uint64_t ino, uint64_t index,
                uint64_t ver, const void *data, size_t len)
{
    char key[BLOCKKEY_MAX];
    int rc = make_key(cl, ino, index, ver, key);
    if (rc == 0) {
        uint64_t t0 = stats_now_ns();
        rc = store_put(cl->store, key, data, len);
        atomic_fetch_add(&cl->stats->store_puts, 1);
        atomic_fetch_add(&cl->stats->store_put_bytes, rc == 0 ? len : 0);
        atomic_fetch_add(&cl->stats->store_put_ns, stats_now_ns() - t0);
    }
    if (rc < 0) {
        atomic_fetch_add(&cl->stats->store_errors, 1);
        log_warn("block %s: upload failed: %s", key, strerror(-rc));
        return rc;
    }
    /* What this node wrote, it is likely to read again. */
    struct dcache *dc = disk_cache(cl);
    struct bkey k = { .ino = ino, .index = index, .ver = ver };
    if (dc && len <= UINT32_MAX)
        dcache_put(dc, &k, data, (uint32_t)len);
    return 0;
}

int blockio_delete(struct client *cl, uint64_t ino, uint64_t index,
                   uint64_t ver)
{
    char key[BLOCKKEY_MAX];
    int rc = make_key(cl, ino, index, ver, key);
    if (rc == 0)
        rc = store_delete(cl->store, key);
    if (rc < 0)
        log_warn("block %s: delete failed: %s", key, strerror(-rc));
    return rc;
}
