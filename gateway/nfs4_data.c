/* nfs4_data.c - file data for NFS clients, through the same block layer
 * the FUSE client uses (decision 3 of DESIGN.md).
 *
 * Reading: meta_get_blocks gives the versions and valid lengths of the
 * blocks in range, store_get fetches them; holes and bytes past a block's
 * valid length read as zeros; buffered writes are laid over the result.
 *
 * Writing: an UNSTABLE WRITE lands in a per-file buffer of byte extents
 * per block.  Committing a file (COMMIT, CLOSE, a stable WRITE, the
 * reaper after two seconds, a full buffer) merges each dirty block into
 * its current version: read the base version, apply the extents, upload
 * the result as a new version (session id << 32 | counter, never reused),
 * then one meta_commit_write names every new version with the base it
 * was merged into.  If another writer committed one of those blocks
 * meanwhile the core refuses (-EAGAIN): the uploads are deleted and the
 * merge is redone on the newer versions, so concurrent writers of
 * disjoint ranges never lose each other's bytes.
 *
 * While a file is being committed, new writes to it wait (wc->cv), so
 * what is committed is exactly what was buffered; reads see the buffer
 * until the commit is done.  A commit that fails for a passing reason
 * (the store unreachable) keeps the buffer and is tried again; one that
 * can never succeed (permission, a bad range) drops it and the file's
 * next COMMIT answers that error, so the client learns its data is lost. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blockkey.h"
#include "log.h"
#include "nfs4_data.h"
#include "grow.h"

#define NBUCKETS       1024
#define FILE_MAX_BYTES (16u << 20)      /* buffered per file before commit */
#define ALL_MAX_BYTES  (256u << 20)     /* buffered in all before commit */
#define COMMIT_TRIES   16
/* What the buffer counts is memory, not data: each extent and block also
 * costs its bookkeeping, so a client sending 1-byte writes at scattered
 * offsets reaches the limits above as soon as one sending megabytes.
 * Past these counts a file is committed too (lookups are linear). */
#define EXT_OVERHEAD   (sizeof(struct ext) + 32)
#define BLOCK_OVERHEAD (sizeof(struct dblock) + 32)
#define FILE_MAX_BLOCKS 1024
#define BLOCK_MAX_EXTS  1024
#define ERROR_KEEP     3600             /* seconds an unreported error stays */

/* Buffered bytes of one block: sorted, disjoint, non-adjacent extents. */
struct ext {
    uint32_t off, len, cap;
    char *data;
};

struct dblock {
    uint64_t index;
    struct ext *ext;
    size_t n, cap;
};

struct dfile {
    struct dfile *next;
    uint64_t ino, vol;
    uint32_t block_size;
    struct dblock *blocks;
    size_t nblocks, cap;
    uint64_t end;                       /* end of the furthest write */
    struct meta_time mtime;             /* realtime of the last write */
    int64_t first;                      /* monotonic time of the oldest */
    uint32_t count;                     /* writes buffered */
    size_t bytes;                       /* bytes buffered */
    struct meta_cred cred;              /* the last writer's */
    int flushing;
    int warned;                         /* a retry was logged */
    int error;                          /* a commit failed for good: the
                                         * next COMMIT reports it */
};

struct nfs4_wcache {
    pthread_mutex_t mu;                 /* guards all below */
    pthread_cond_t cv;                  /* a commit ended */
    struct dfile *files[NBUCKETS];
    size_t bytes;
};

static uint32_t bucket(uint64_t ino)
{
    return (uint32_t)((ino * 0x9E3779B97F4A7C15ull) >> 54) % NBUCKETS;
}

int nfs4_data_create(struct nfs4_server *s)
{
    struct nfs4_wcache *wc = calloc(1, sizeof(*wc));
    if (!wc)
        return -ENOMEM;
    pthread_mutex_init(&wc->mu, NULL);
    pthread_cond_init(&wc->cv, NULL);
    s->wc = wc;
    return 0;
}

static struct dfile *file_find(struct nfs4_wcache *wc, uint64_t ino)
{
    for (struct dfile *f = wc->files[bucket(ino)]; f; f = f->next)
        if (f->ino == ino)
            return f;
    return NULL;
}

/* Waits out a commit of ino under way (wc->mu held); the file may be
 * gone afterwards. */
static struct dfile *file_wait(struct nfs4_wcache *wc, uint64_t ino)
{
    struct dfile *f;
    while ((f = file_find(wc, ino)) && f->flushing)
        pthread_cond_wait(&wc->cv, &wc->mu);
    return f;
}

static void blocks_free(struct dfile *f)
{
    for (size_t i = 0; i < f->nblocks; i++) {
        for (size_t j = 0; j < f->blocks[i].n; j++)
            free(f->blocks[i].ext[j].data);
        free(f->blocks[i].ext);
    }
    free(f->blocks);
    f->blocks = NULL;
    f->nblocks = f->cap = 0;
}

static void file_remove(struct nfs4_wcache *wc, struct dfile *f)
{
    struct dfile **pp = &wc->files[bucket(f->ino)];
    while (*pp != f)
        pp = &(*pp)->next;
    *pp = f->next;
    wc->bytes -= f->bytes;
    blocks_free(f);
    free(f);
}

/* The block of that index; *made says whether it is new. */
static struct dblock *block_get(struct dfile *f, uint64_t index, int *made)
{
    *made = 0;
    for (size_t i = 0; i < f->nblocks; i++)
        if (f->blocks[i].index == index)
            return &f->blocks[i];
    *made = 1;
    struct dblock *nb = grow_room(f->blocks, f->nblocks, &f->cap,
                                  sizeof(*nb), 4);
    if (!nb)
        return NULL;
    f->blocks = nb;
    struct dblock *b = &f->blocks[f->nblocks++];
    memset(b, 0, sizeof(*b));
    b->index = index;
    return b;
}

static int ext_reserve(struct ext *e, uint32_t need)
{
    if (need <= e->cap)
        return 0;
    uint32_t cap = e->cap ? e->cap : 64;
    while (cap < need)
        cap = cap > UINT32_MAX / 2 ? need : cap * 2;
    char *d = realloc(e->data, cap);
    if (!d)
        return -ENOMEM;
    e->data = d;
    e->cap = cap;
    return 0;
}

/* Lays len bytes at off (within the block) over b's extents; *grew gets
 * the change in memory held (EXT_OVERHEAD per extent, plus its buffer;
 * negative when extents merge).  0 or -ENOMEM. */
static int ext_put(struct dblock *b, uint32_t off, const char *buf,
                   uint32_t len, long *grew)
{
    uint32_t end = off + len;
    size_t i = 0;
    while (i < b->n && b->ext[i].off + b->ext[i].len < off)
        i++;                            /* extents wholly before */
    size_t j = i;
    uint32_t lo = off, hi = end;
    while (j < b->n && b->ext[j].off <= end) {
        if (b->ext[j].off < lo)
            lo = b->ext[j].off;
        if (b->ext[j].off + b->ext[j].len > hi)
            hi = b->ext[j].off + b->ext[j].len;
        j++;
    }
    /* i..j-1 touch the new range: they become one extent [lo, hi). */
    if (j == i + 1 && b->ext[i].off == lo) {
        /* The common case (sequential writes): grow it in place. */
        struct ext *e = &b->ext[i];
        uint32_t had = e->cap;
        if (ext_reserve(e, hi - lo) < 0)
            return -ENOMEM;
        memcpy(e->data + (off - lo), buf, len);
        e->len = hi - lo;
        *grew = (long)e->cap - (long)had;
        return 0;
    }
    struct ext ne = { .off = lo, .len = hi - lo };
    if (ext_reserve(&ne, hi - lo) < 0)
        return -ENOMEM;
    for (size_t k = i; k < j; k++) {
        memcpy(ne.data + (b->ext[k].off - lo), b->ext[k].data,
               b->ext[k].len);
        free(b->ext[k].data);
    }
    memcpy(ne.data + (off - lo), buf, len);
    long held = 0;                      /* by the extents merged */
    for (size_t k = i; k < j; k++)
        held += (long)b->ext[k].cap + (long)EXT_OVERHEAD;
    if (j == i) {                       /* a new extent: make room */
        struct ext *nx = grow_room(b->ext, b->n, &b->cap, sizeof(*nx), 4);
        if (!nx) {
            free(ne.data);
            return -ENOMEM;
        }
        b->ext = nx;
        memmove(&b->ext[i + 1], &b->ext[i], (b->n - i) * sizeof(*b->ext));
        b->n++;
    } else if (j > i + 1) {
        memmove(&b->ext[i + 1], &b->ext[j], (b->n - j) * sizeof(*b->ext));
        b->n -= j - i - 1;
    }
    b->ext[i] = ne;
    *grew = (long)ne.cap + (long)EXT_OVERHEAD - held;
    return 0;
}

/* Copies the bytes of b's extents that fall in [boff, boff + len) of the
 * block into dst (which holds that range). */
static void ext_overlay(const struct dblock *b, uint32_t boff, uint32_t len,
                        char *dst)
{
    for (size_t k = 0; k < b->n; k++) {
        const struct ext *e = &b->ext[k];
        uint32_t lo = e->off > boff ? e->off : boff;
        uint32_t hi = e->off + e->len < boff + len ? e->off + e->len
                                                   : boff + len;
        if (lo < hi)
            memcpy(dst + (lo - boff), e->data + (lo - e->off), hi - lo);
    }
}

static void now_real(struct meta_time *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t->sec = ts.tv_sec;
    t->nsec = (uint32_t)ts.tv_nsec;
}

/* ---- committing ---- */

static int block_key(char *buf, uint64_t vol, uint64_t ino, uint64_t index,
                     uint64_t version)
{
    struct blockkey k = { vol, ino, index, version };
    return blockkey_format(buf, BLOCKKEY_MAX, &k);
}

/* Builds the new content of dirty block b merged into base (version 0:
 * a hole) of valid length blen.  *out is malloc'd, *outlen its length. */
static int merge_block(struct nfs4_server *s, const struct dfile *f,
                       const struct dblock *b, uint64_t base, uint32_t blen,
                       char **out, uint32_t *outlen)
{
    uint32_t end = blen;
    const struct ext *last = &b->ext[b->n - 1];
    if (last->off + last->len > end)
        end = last->off + last->len;
    char *buf = calloc(1, end ? end : 1);
    if (!buf)
        return -ENOMEM;
    if (base && blen) {
        char key[BLOCKKEY_MAX];
        size_t got = 0;
        int rc = block_key(key, f->vol, f->ino, b->index, base);
        if (rc >= 0)
            rc = store_get(s->store, key, 0, buf, blen, &got);
        if (rc < 0) {
            free(buf);
            return rc;
        }
    }
    ext_overlay(b, 0, end, buf);
    *out = buf;
    *outlen = end;
    return 0;
}

static void delete_uploads(struct nfs4_server *s, const struct dfile *f,
                           const struct meta_commit_block *cb, size_t n)
{
    char key[BLOCKKEY_MAX];
    for (size_t i = 0; i < n; i++)
        if (block_key(key, f->vol, f->ino, cb[i].index, cb[i].version) >= 0)
            store_delete(s->store, key);
}

/* One attempt: merge, upload, commit.  -EAGAIN when a block moved on. */
static int commit_once(struct nfs4_server *s, const struct dfile *f,
                       uint64_t session, struct meta_commit_block *cb)
{
    size_t done = 0;
    int rc = 0;
    for (size_t i = 0; i < f->nblocks && rc == 0; i++) {
        const struct dblock *b = &f->blocks[i];
        struct meta_block mb;
        struct meta_attr at;
        uint32_t n = 0;
        rc = meta_get_blocks(s->meta, &f->cred, f->ino, b->index, 1, &mb, 1,
                             &n, &at);
        if (rc < 0)
            break;
        uint64_t base = n ? mb.version : 0;
        uint32_t blen = n ? mb.length : 0;
        char *data;
        uint32_t len;
        if ((rc = merge_block(s, f, b, base, blen, &data, &len)) < 0)
            break;
        uint64_t ver;
        char key[BLOCKKEY_MAX];
        rc = nfs4_new_version(s, f->vol, &ver);
        if (rc == 0)
            rc = block_key(key, f->vol, f->ino, b->index, ver);
        if (rc >= 0)
            rc = store_put(s->store, key, data, len);
        free(data);
        if (rc < 0)
            break;
        cb[done++] = (struct meta_commit_block){ .index = b->index,
            .version = ver, .base_version = base, .length = len,
            .base_length = blen };
    }
    if (rc == 0) {
        struct meta_settime mt = { .how = META_TIME_CLIENT, .time = f->mtime };
        struct meta_attr at;
        struct meta_block conf[4];
        uint32_t nconf = 0;
        rc = meta_commit_write(s->meta, &f->cred, f->ino, session, cb,
                               (uint32_t)done, f->end, &mt, &at, conf, 4,
                               &nconf);
    }
    if (rc < 0)
        delete_uploads(s, f, cb, done);
    return rc;
}

/* Commits f's buffer (f->flushing set, wc->mu not held). */
static int commit_file(struct nfs4_server *s, struct dfile *f)
{
    if (f->nblocks == 0)
        return 0;
    uint64_t session;
    int rc = nfs4_vol_session(s, f->vol, &session);
    if (rc < 0)
        return rc;
    struct meta_commit_block *cb = calloc(f->nblocks, sizeof(*cb));
    if (!cb)
        return -ENOMEM;
    for (int tries = 0; tries < COMMIT_TRIES; tries++) {
        rc = commit_once(s, f, session, cb);
        if (rc != -EAGAIN)
            break;
        log_debug("nfs4: inode %llu: a block moved on; merging again",
                  (unsigned long long)f->ino);
    }
    free(cb);
    return rc;
}

/* Failures a later attempt may not see. */
static int transient(int rc)
{
    return rc == -EIO || rc == -EAGAIN || rc == -ENOMEM || rc == -ETIMEDOUT ||
           rc == -ENOSPC || rc == -EDQUOT || rc == -EBUSY;
}

int nfs4_data_commit(struct nfs4_server *s, uint64_t ino)
{
    struct nfs4_wcache *wc = s->wc;
    pthread_mutex_lock(&wc->mu);
    struct dfile *f = file_wait(wc, ino);
    if (!f || f->nblocks == 0) {
        /* Nothing buffered; maybe an error still to report. */
        int err = f ? f->error : 0;
        if (f)
            file_remove(wc, f);
        pthread_mutex_unlock(&wc->mu);
        return err;
    }
    f->flushing = 1;
    pthread_mutex_unlock(&wc->mu);

    int rc = commit_file(s, f);

    pthread_mutex_lock(&wc->mu);
    f->flushing = 0;
    if (rc == 0 || rc == -ESTALE || rc == -ENOENT) {
        /* Committed, or the file is gone and so is what it would hold. */
        if (rc == 0)
            rc = f->error;
        file_remove(wc, f);
    } else if (transient(rc)) {
        f->first = nfs4_now();          /* the reaper tries again later */
        if (!f->warned)
            log_warn("nfs4: committing writes to inode %llu: %d (kept; "
                     "trying again)", (unsigned long long)ino, rc);
        f->warned = 1;
    } else {
        log_err("nfs4: writes to inode %llu cannot be committed: %d; "
                "dropped", (unsigned long long)ino, rc);
        wc->bytes -= f->bytes;
        f->bytes = 0;
        blocks_free(f);
        f->count = 0;
        f->error = rc;
        f->first = nfs4_now();
    }
    pthread_cond_broadcast(&wc->cv);
    pthread_mutex_unlock(&wc->mu);
    return rc;
}

/* ---- writing and reading ---- */

int nfs4_data_write(struct nfs4_server *s, const struct meta_cred *cr,
                    uint64_t vol, uint64_t ino, uint64_t off,
                    const void *buf, uint32_t len, int stable)
{
    struct nfs4_vol v;
    int rc = nfs4_vol_get(s, vol, &v);
    if (rc < 0)
        return rc;
    struct nfs4_wcache *wc = s->wc;
    pthread_mutex_lock(&wc->mu);
    struct dfile *f = file_wait(wc, ino);
    if (!f) {
        f = calloc(1, sizeof(*f));
        if (!f) {
            pthread_mutex_unlock(&wc->mu);
            return -ENOMEM;
        }
        f->ino = ino;
        f->vol = vol;
        f->block_size = v.block_size;
        f->first = nfs4_now();
        f->next = wc->files[bucket(ino)];
        wc->files[bucket(ino)] = f;
    }
    if (f->nblocks == 0)
        f->first = nfs4_now();          /* the oldest write buffered */
    const char *p = buf;
    uint64_t pos = off, left = len;
    int many = 0;                       /* a block with too many extents */
    while (left > 0 && rc == 0) {
        uint64_t index = pos / f->block_size;
        uint32_t boff = (uint32_t)(pos % f->block_size);
        uint32_t n = f->block_size - boff;
        if (n > left)
            n = (uint32_t)left;
        int made;
        struct dblock *b = block_get(f, index, &made);
        if (b && made) {
            f->bytes += BLOCK_OVERHEAD;
            wc->bytes += BLOCK_OVERHEAD;
        }
        long grew = 0;
        rc = b ? ext_put(b, boff, p, n, &grew) : -ENOMEM;
        if (rc < 0)
            break;
        /* Merges give memory back: grew may be negative. */
        f->bytes = (size_t)((long)f->bytes + grew);
        wc->bytes = (size_t)((long)wc->bytes + grew);
        if (b->n > BLOCK_MAX_EXTS)
            many = 1;
        p += n;
        pos += n;
        left -= n;
    }
    if (len && off + len > f->end)
        f->end = off + len;
    f->count++;
    f->cred = *cr;
    now_real(&f->mtime);
    int full = f->bytes > FILE_MAX_BYTES || wc->bytes > ALL_MAX_BYTES ||
               f->nblocks > FILE_MAX_BLOCKS || many;
    pthread_mutex_unlock(&wc->mu);
    /* A failed buffer write leaves what got in: it is all the client's
     * data, and the client resends after the error anyway. */
    if (rc < 0)
        return rc;
    if (stable || full)
        return nfs4_data_commit(s, ino);
    return 0;
}

/* Buffered extents of ino in [off, off + len), copied out. */
struct overlay {
    uint64_t pos;
    uint32_t len;
    char *data;
};

static int overlay_take(struct nfs4_wcache *wc, uint64_t ino, uint64_t off,
                        uint32_t len, struct overlay **out, size_t *nout,
                        uint64_t *end)
{
    *out = NULL;
    *nout = 0;
    *end = 0;
    pthread_mutex_lock(&wc->mu);
    struct dfile *f = file_find(wc, ino);
    int rc = 0;
    for (size_t i = 0; f && i < f->nblocks && rc == 0; i++) {
        const struct dblock *b = &f->blocks[i];
        uint64_t bstart = b->index * f->block_size;
        for (size_t k = 0; k < b->n; k++) {
            const struct ext *e = &b->ext[k];
            uint64_t lo = bstart + e->off, hi = lo + e->len;
            if (lo < off)
                lo = off;
            if (hi > off + len)
                hi = off + len;
            if (lo >= hi)
                continue;
            struct overlay *no = realloc(*out, (*nout + 1) * sizeof(*no));
            char *d = malloc(hi - lo);
            if (!no || !d) {
                free(d);
                if (no)
                    *out = no;
                rc = -ENOMEM;
                break;
            }
            *out = no;
            memcpy(d, e->data + (lo - bstart - e->off), hi - lo);
            no[*nout] = (struct overlay){ lo, (uint32_t)(hi - lo), d };
            (*nout)++;
        }
    }
    if (f)
        *end = f->end;
    pthread_mutex_unlock(&wc->mu);
    return rc;
}

static void overlay_free(struct overlay *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(o[i].data);
    free(o);
}

/* Reads the committed bytes [off, off + n) into buf (zeroed). */
static int read_committed(struct nfs4_server *s, const struct meta_cred *cr,
                          const struct nfs4_vol *v, uint64_t ino,
                          uint64_t off, uint32_t n, char *buf,
                          const struct meta_block *mb, uint32_t nb)
{
    for (uint32_t i = 0; i < nb; i++) {
        uint64_t bstart = mb[i].index * v->block_size;
        uint64_t lo = bstart > off ? bstart : off;
        uint64_t hi = bstart + mb[i].length;
        if (hi > off + n)
            hi = off + n;
        if (lo >= hi)
            continue;
        char key[BLOCKKEY_MAX];
        size_t got = 0;
        int rc = block_key(key, v->id, ino, mb[i].index, mb[i].version);
        if (rc >= 0)
            rc = store_get(s->store, key, lo - bstart, buf + (lo - off),
                           hi - lo, &got);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int nfs4_data_read(struct nfs4_server *s, const struct meta_cred *cr,
                   uint64_t vol, uint64_t ino, uint64_t off, uint32_t len,
                   char *buf, uint32_t *got, int *eof)
{
    struct nfs4_vol v;
    int rc = nfs4_vol_get(s, vol, &v);
    if (rc < 0)
        return rc;
    *got = 0;
    *eof = 0;
    /* The buffer first: a commit ending meanwhile shows in the map. */
    struct overlay *ov;
    size_t nov;
    uint64_t pend_end;
    if ((rc = overlay_take(s->wc, ino, off, len, &ov, &nov, &pend_end)) < 0)
        return rc;
    uint64_t first = off / v.block_size;
    uint64_t last = len ? (off + len - 1) / v.block_size : first;
    uint32_t count = (uint32_t)(last - first + 1);
    struct meta_block *mb = calloc(count, sizeof(*mb));
    struct meta_attr at;
    uint32_t nb = 0;
    if (!mb) {
        overlay_free(ov, nov);
        return -ENOMEM;
    }
    rc = meta_get_blocks(s->meta, cr, ino, first, count, mb, count, &nb, &at);
    if (rc == 0) {
        uint64_t size = at.size > pend_end ? at.size : pend_end;
        uint32_t n = 0;
        if (off < size)
            n = size - off < len ? (uint32_t)(size - off) : len;
        memset(buf, 0, n);
        rc = read_committed(s, cr, &v, ino, off, n, buf, mb, nb);
        for (size_t i = 0; rc == 0 && i < nov; i++)
            if (ov[i].pos < off + n) {
                uint32_t c = ov[i].pos + ov[i].len > off + n
                                 ? (uint32_t)(off + n - ov[i].pos)
                                 : ov[i].len;
                memcpy(buf + (ov[i].pos - off), ov[i].data, c);
            }
        *got = n;
        *eof = off + n >= size;
    }
    free(mb);
    overlay_free(ov, nov);
    return rc;
}

/* ---- the rest ---- */

void nfs4_data_drop(struct nfs4_server *s, uint64_t ino)
{
    struct nfs4_wcache *wc = s->wc;
    pthread_mutex_lock(&wc->mu);
    struct dfile *f = file_wait(wc, ino);
    if (f)
        file_remove(wc, f);
    pthread_mutex_unlock(&wc->mu);
}

uint32_t nfs4_data_pending(struct nfs4_server *s, uint64_t ino,
                           uint64_t *end, struct meta_time *mtime)
{
    struct nfs4_wcache *wc = s->wc;
    uint32_t n = 0;
    pthread_mutex_lock(&wc->mu);
    struct dfile *f = file_find(wc, ino);
    if (f) {
        n = f->count;
        *end = f->end;
        *mtime = f->mtime;
    }
    pthread_mutex_unlock(&wc->mu);
    return n;
}

int nfs4_data_any(struct nfs4_server *s)
{
    struct nfs4_wcache *wc = s->wc;
    pthread_mutex_lock(&wc->mu);
    int any = wc->bytes > 0;
    pthread_mutex_unlock(&wc->mu);
    return any;
}

/* Inodes with buffered writes older than age (all of them when age < 0). */
static size_t aged(struct nfs4_wcache *wc, int64_t age, uint64_t **out)
{
    int64_t now = nfs4_now();
    size_t n = 0, cap = 0;
    *out = NULL;
    pthread_mutex_lock(&wc->mu);
    for (int b = 0; b < NBUCKETS; b++)
        for (struct dfile *f = wc->files[b]; f; f = f->next) {
            if (f->flushing || (age >= 0 && f->first + age > now))
                continue;
            if (age >= 0 && f->nblocks == 0 && f->first + ERROR_KEEP > now)
                continue;               /* an error waiting for a COMMIT */
            uint64_t *ni = grow_room(*out, n, &cap, sizeof(*ni), 16);
            if (!ni)
                goto done;
            *out = ni;
            (*out)[n++] = f->ino;
        }
done:
    pthread_mutex_unlock(&wc->mu);
    return n;
}

void nfs4_data_commit_aged(struct nfs4_server *s, int64_t age)
{
    uint64_t *inos;
    size_t n = aged(s->wc, age, &inos);
    for (size_t i = 0; i < n; i++)
        nfs4_data_commit(s, inos[i]);
    free(inos);
}

void nfs4_data_destroy(struct nfs4_server *s)
{
    struct nfs4_wcache *wc = s->wc;
    nfs4_data_commit_aged(s, -1);
    pthread_mutex_lock(&wc->mu);
    for (int b = 0; b < NBUCKETS; b++)
        while (wc->files[b]) {
            log_err("nfs4: dropping uncommitted writes to inode %llu",
                    (unsigned long long)wc->files[b]->ino);
            file_remove(wc, wc->files[b]);
        }
    pthread_mutex_unlock(&wc->mu);
    pthread_mutex_destroy(&wc->mu);
    pthread_cond_destroy(&wc->cv);
    free(wc);
    s->wc = NULL;
}
