/* readpath.c - the read side of the data path (see readpath.h).
 *
 * Which version of a block to read is decided under fn->lock together
 * with the dirty overlay: if the map moved while we fetched (our own
 * commit, or an invalidation), the read starts over, so a reader never
 * mixes an old version with the loss of the dirty bytes that replaced
 * it. */
#define _GNU_SOURCE                     /* SEEK_DATA, SEEK_HOLE */
#include "config.h"
#include "readpath.h"
#include "blockcache.h"
#include "blockio.h"
#include "client.h"
#include "inode.h"
#include "log.h"
#include "session.h"
#include "writeback.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_TRIES 16

static uint64_t file_size(struct fnode *fn)
{
    return fn->attr.size > fn->dirty_end ? fn->attr.size : fn->dirty_end;
}

/* Starts fetching the blocks after `last` that a sequential reader will
 * want next. */
static void read_ahead(struct client *cl, struct fnode *fn,
                       const struct rpc_cred *cr, uint64_t last)
{
    uint32_t bs = session_volume(cl->sess)->block_size;
    uint64_t window = cl->opts.readahead / bs;
    if (window == 0)
        return;
    pthread_mutex_lock(&fn->lock);
    uint64_t size = file_size(fn);
    uint64_t from = last + 1;
    if (fn->ra_upto > from)
        from = fn->ra_upto;
    uint64_t to = last + 1 + window;                /* exclusive */
    uint64_t nblocks = (size + bs - 1) / bs;
    if (to > nblocks)
        to = nblocks;
    if (from < to)
        fn->ra_upto = to;
    pthread_mutex_unlock(&fn->lock);
    if (from >= to)
        return;
    uint32_t n = (uint32_t)(to - from);
    struct mapent *ents = malloc(n * sizeof(*ents));
    uint64_t gen;
    if (ents && fnode_map_get(cl, fn, cr, from, n, ents, &gen) == 0)
        for (uint32_t i = 0; i < n; i++)
            blockio_prefetch(cl, fn->ino, from + i, ents[i].ver,
                             ents[i].len);
    free(ents);
}

/* The part of [off, end) that block `index` holds: bytes [from, to) of
 * the block, at offset `at` of the reply. */
struct span {
    uint32_t from, to;
    uint64_t at;
};

static struct span span_of(uint64_t index, uint32_t bs, uint64_t off,
                           uint64_t end)
{
    uint64_t bstart = index * bs;
    uint64_t s = off > bstart ? off : bstart;
    uint64_t e = end < bstart + bs ? end : bstart + bs;
    return (struct span){ (uint32_t)(s - bstart), (uint32_t)(e - bstart),
                          s - off };
}

/* Zeros the part of span sp (at dst) past a block's `valid` bytes and
 * returns how many bytes of the block's data go at its start. */
static uint32_t zero_tail(char *dst, struct span sp, uint32_t valid)
{
    if (valid > sp.to)
        valid = sp.to;
    if (valid <= sp.from) {
        memset(dst, 0, sp.to - sp.from);
        return 0;
    }
    memset(dst + (valid - sp.from), 0, sp.to - valid);
    return valid - sp.from;
}

/* Whether the blocks fetched cover [off, end) with data of their own
 * (no hole, no bytes past a block's valid length): then the reply can
 * point into the cache instead of copying. */
static int covers(const struct mapent *ents, uint32_t nb, uint64_t first,
                  uint32_t bs, uint64_t off, uint64_t end)
{
    for (uint32_t i = 0; i < nb; i++)
        if (!ents[i].ver ||
            ents[i].len < span_of(first + i, bs, off, end).to)
            return 0;
    return 1;
}

/* Points out at the cached blocks of reqs (which it keeps) for [off, end). */
static void point_at(struct rp_data *out, struct bio_req *reqs, uint32_t nb,
                     uint64_t first, uint32_t bs, uint64_t off, uint64_t end)
{
    for (uint32_t i = 0; i < nb; i++) {
        struct span sp = span_of(first + i, bs, off, end);
        out->iov[i] = (struct iovec){ reqs[i].e->data + sp.from,
                                      sp.to - sp.from };
        out->held[i] = reqs[i].e;
        reqs[i].e = NULL;
    }
    out->niov = (int)nb;
    out->nheld = nb;
    out->got = end - off;
}

/* Reads the part of block `index` (map entry ent) that [off, end) covers
 * straight from the store into its place in buf. */
static int read_direct(struct client *cl, struct fnode *fn, uint64_t index,
                       const struct mapent *ent, uint32_t bs, uint64_t off,
                       uint64_t end, char *buf)
{
    struct span sp = span_of(index, bs, off, end);
    uint32_t n = zero_tail(buf + sp.at, sp, ent->len);
    return n ? blockio_get_range(cl, fn->ino, index, ent->ver, sp.from,
                                 buf + sp.at, n) : 0;
}

/* One attempt: 0, 1 to start over, 2 to start over copying, or a
 * negative errno.  Without buf it points out at the cache (point_at) if
 * it can, else asks for a copy; with buf it copies there.  With ranged,
 * blocks not in the cache are read in part, straight from the store. */
static int read_once(struct client *cl, struct fnode *fn,
                     const struct rpc_cred *cr, uint64_t off, size_t size,
                     int ranged, char *buf, struct rp_data *out)
{
    uint32_t bs = session_volume(cl->sess)->block_size;
    pthread_mutex_lock(&fn->lock);
    uint64_t fsize = file_size(fn);
    int dirty = wb_dirty(fn);
    pthread_mutex_unlock(&fn->lock);
    if (off >= fsize) {
        out->got = 0;
        return 0;
    }
    uint64_t end = off + size < fsize ? off + size : fsize;
    uint64_t first = off / bs, last = (end - 1) / bs;
    uint32_t nb = (uint32_t)(last - first + 1);
    if (!buf && (dirty || nb > RP_MAX_SEGS))
        return 2;
    struct mapent *ents = calloc(nb, sizeof(*ents));
    struct bio_req *reqs = calloc(nb, sizeof(*reqs));
    uint8_t *direct = calloc(nb, 1);
    if (!ents || !reqs || !direct) {
        free(ents);
        free(reqs);
        free(direct);
        return -ENOMEM;
    }
    uint64_t gen;
    int rc = fnode_map_get(cl, fn, cr, first, nb, ents, &gen);
    size_t nreq = 0, ndirect = 0;
    if (rc == 0) {
        for (uint32_t i = 0; i < nb; i++) {
            if (!ents[i].ver || !ents[i].len)
                continue;
            /* Counted once a read, on the pass that copies. */
            if (ranged && !blockio_cached(cl, fn->ino, first + i,
                                          ents[i].ver, ents[i].len) &&
                (!buf || !bcache_partial_read(cl->cache, fn->ino,
                                              first + i))) {
                direct[i] = 1;
                ndirect++;
                continue;
            }
            reqs[nreq] = (struct bio_req){ .ino = fn->ino,
                .index = first + i, .ver = ents[i].ver,
                .len = ents[i].len };
            nreq++;
        }
        if (!buf && (ndirect || !covers(ents, nb, first, bs, off, end)))
            rc = 2;
        else
            rc = blockio_fetch_many(cl, reqs, nreq);
        for (uint32_t i = 0; rc == 0 && i < nb; i++)
            if (direct[i])
                rc = read_direct(cl, fn, first + i, &ents[i], bs, off, end,
                                 buf);
    }
    if (rc == -ENOENT) {
        /* A version that is gone from the store: our map is older than
         * a garbage collection.  Ask the gateway again. */
        pthread_mutex_lock(&fn->lock);
        fnode_map_drop(fn);
        pthread_mutex_unlock(&fn->lock);
        rc = 1;
    }
    if (rc == 0 && !buf) {
        /* Nothing of ours may lie over the blocks: checked again with the
         * map's generation, under the lock the writers take. */
        pthread_mutex_lock(&fn->lock);
        if (fn->map_gen != gen)
            rc = 1;
        else if (wb_dirty(fn))
            rc = 2;
        else
            point_at(out, reqs, nb, first, bs, off, end);
        pthread_mutex_unlock(&fn->lock);
    } else if (rc == 0) {
        size_t r = 0;
        for (uint32_t i = 0; i < nb; i++) {
            if (direct[i])
                continue;
            struct span sp = span_of(first + i, bs, off, end);
            uint32_t valid = 0;
            const char *data = NULL;
            if (r < nreq && reqs[r].index == first + i) {
                valid = ents[i].len;
                data = reqs[r].e->data;
                r++;
            }
            uint32_t n = zero_tail(buf + sp.at, sp, valid);
            if (n)
                memcpy(buf + sp.at, data + sp.from, n);
        }
        pthread_mutex_lock(&fn->lock);
        if (fn->map_gen != gen) {
            rc = 1;
        } else {
            for (uint32_t i = 0; i < nb; i++) {
                struct span sp = span_of(first + i, bs, off, end);
                wb_overlay(fn, first + i, sp.from, sp.to, buf + sp.at);
            }
            out->got = end - off;
        }
        pthread_mutex_unlock(&fn->lock);
    }
    for (size_t i = 0; i < nreq; i++)
        blockio_release(cl, reqs[i].e);
    free(reqs);
    free(ents);
    free(direct);
    return rc;
}

void rp_done(struct client *cl, struct rp_data *d)
{
    for (size_t i = 0; i < d->nheld; i++) {
        struct bentry *e = d->held[i];
        uint32_t from = (uint32_t)((char *)d->iov[i].iov_base - e->data);
        if (d->page_cached)
            blockio_release_sent(cl, e, from,
                                 from + (uint32_t)d->iov[i].iov_len);
        else
            blockio_release(cl, e);
    }
    free(d->buf);
    memset(d, 0, sizeof(*d));
}

/* The reply points into the cache when it can (whole blocks of data, no
 * write of ours pending on the file): the copy into a reply buffer was
 * one of three copies of every byte read, on a machine whose cores also
 * complete the block reads. */
int rp_read(struct client *cl, struct fnode *fn, const struct rpc_cred *cr,
            uint64_t off, size_t size, int page_cached, struct rp_data *out)
{
    memset(out, 0, sizeof(*out));
    out->page_cached = page_cached;
    /* A random read of a file larger than the cache takes from the store
     * only what it asks for: whole blocks would push each other out of
     * the cache, every 4 KiB read costing a 4 MiB transfer.  A block read
     * so in part again and again is then cached whole (a hot region). */
    pthread_mutex_lock(&fn->lock);
    int ranged = off != fn->ra_next && off != 0 &&
                 file_size(fn) > cl->opts.cache_size;
    pthread_mutex_unlock(&fn->lock);
    int rc = 1;
    for (int tries = 0; (rc == 1 || rc == 2) && tries < READ_TRIES;
         tries++) {
        if (rc == 2 && !out->buf && !(out->buf = malloc(size ? size : 1)))
            return -ENOMEM;
        rc = read_once(cl, fn, cr, off, size, ranged, out->buf, out);
    }
    if (rc == 1 || rc == 2) {
        log_warn("inode %llu: read kept racing with writes",
                 (unsigned long long)fn->ino);
        rc = -EIO;
    }
    if (rc < 0) {
        rp_done(cl, out);
        return rc == -ENOENT ? -EIO : rc;
    }
    if (out->buf) {
        out->iov[0] = (struct iovec){ out->buf, out->got };
        out->niov = 1;
    }

    /* Sequential: the read starts where the last one ended. */
    uint32_t bs = session_volume(cl->sess)->block_size;
    pthread_mutex_lock(&fn->lock);
    int sequential = off == fn->ra_next || off == 0;
    fn->ra_next = off + out->got;
    if (!sequential)
        fn->ra_upto = 0;
    pthread_mutex_unlock(&fn->lock);
    if (sequential && out->got)
        read_ahead(cl, fn, cr, (off + out->got - 1) / bs);
    return 0;
}

/* ---- SEEK_DATA and SEEK_HOLE ---- */

/* Data is what the map holds: each block's first `length` bytes.  Bytes
 * past a block's length, blocks with no version and the part past the
 * last block up to the size are holes, and read as zeros. */
struct seek_walk {
    uint64_t off;               /* where the search started */
    uint64_t pos;               /* SEEK_HOLE: the data runs on to here */
    int whence;
    int found;
};

/* Takes one block's data [s, e); sets w->found with w->pos the answer. */
static void seek_step(struct seek_walk *w, uint64_t s, uint64_t e)
{
    if (e <= w->off || s == e)
        return;
    if (w->whence == SEEK_DATA) {
        w->pos = s > w->off ? s : w->off;
        w->found = 1;
    } else if (s > w->pos) {
        w->found = 1;           /* a hole before this block's data */
    } else if (e > w->pos) {
        w->pos = e;
    }
}

int rp_seek(struct client *cl, struct fnode *fn, const struct rpc_cred *cr,
            uint64_t off, int whence, uint64_t *out)
{
    uint32_t bs = session_volume(cl->sess)->block_size;
    struct seek_walk w = { .off = off, .pos = off, .whence = whence };
    uint64_t first = off / bs, size = 0;
    for (;;) {
        fx_get_blocks_res r;
        int rc = fnode_get_blocks(cl, fn, cr, first, UINT32_MAX, &r);
        if (rc < 0)
            return rc;
        fx_get_blocks_ok *ok = &r.fx_get_blocks_res_u.ok;
        size = ok->attr.size;
        u_int n = ok->blocks.blocks_len;
        for (u_int i = 0; i < n && !w.found; i++) {
            const fx_block *b = &ok->blocks.blocks_val[i];
            uint64_t s = b->index * bs;
            uint64_t e = s + (b->length < bs ? b->length : bs);
            if (s >= size)
                break;
            seek_step(&w, s, e < size ? e : size);
        }
        if (n > 0)
            first = ok->blocks.blocks_val[n - 1].index + 1;
        pthread_mutex_lock(&fn->lock);
        fnode_set_attr(fn, &ok->attr);
        pthread_mutex_unlock(&fn->lock);
        xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)&r);
        if (off >= size)
            return -ENXIO;
        if (w.found || n < FX_MAX_BLOCKS || first * bs >= size)
            break;
    }
    if (whence == SEEK_DATA && !w.found)
        return -ENXIO;          /* only a hole from off to the end */
    *out = w.pos < size ? w.pos : size;
    return 0;
}
