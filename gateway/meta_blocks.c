/* meta_blocks.c - block maps: which version of each block of a file holds
 * its data and how many bytes of it are valid.  get_blocks reads a range,
 * commit_write swaps in new versions all-or-nothing (refusing blocks that
 * moved on since the client merged) and makes holes (version 0: a punched
 * block), truncation drops and clamps. */
#include "config.h"
#include "meta_internal.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#define BLOCK_REC_LEN   13              /* ver, version, length */
#define SIZE_MAX_FILE   ((uint64_t)INT64_MAX)

static void block_key(uint8_t *key, uint64_t ino, uint64_t index)
{
    be64_put(key, ino);
    be64_put(key + 8, index);
}

static int block_decode(const uint8_t *v, size_t len, uint64_t *version,
                        uint32_t *length)
{
    struct rbuf r;
    rb_init(&r, v, len);
    uint8_t ver = rb_u8(&r);
    *version = rb_u64(&r);
    *length = rb_u32(&r);
    if (r.bad || ver != REC_V1) {
        log_err("meta: malformed block map record");
        return -EIO;
    }
    return 0;
}

/* 0 and the block's state, or -ENOENT for a hole. */
static int block_get(struct tx *tx, uint64_t ino, uint64_t index,
                     uint64_t *version, uint32_t *length)
{
    uint8_t key[16], val[BLOCK_REC_LEN];
    size_t len;
    block_key(key, ino, index);
    int rc = kv_get(tx, MDB_BLOCKS, key, 16, val, sizeof(val), &len, DB_RMW);
    return rc ? rc : block_decode(val, len, version, length);
}

static int block_put(struct tx *tx, uint64_t ino, uint64_t index,
                     uint64_t version, uint32_t length)
{
    uint8_t key[16], val[BLOCK_REC_LEN];
    struct wbuf w;
    block_key(key, ino, index);
    wb_init(&w, val, sizeof(val));
    wb_u8(&w, REC_V1);
    wb_u64(&w, version);
    wb_u32(&w, length);
    return kv_put(tx, MDB_BLOCKS, key, 16, val, w.len);
}

static int block_del(struct tx *tx, uint64_t ino, uint64_t index)
{
    uint8_t key[16];
    block_key(key, ino, index);
    return kv_del(tx, MDB_BLOCKS, key, 16);
}

struct drop_args {
    struct tx *tx;
    struct inode *in;
};

/* Sends one block of the walk to the garbage and deletes its record. */
static int drop_block(void *arg, const struct kv_rec *r)
{
    struct drop_args *d = arg;
    uint64_t version;
    uint32_t length;
    int rc;
    if ((rc = block_decode(r->val, r->vlen, &version, &length)) ||
        (rc = garbage_add(d->tx, d->in->vol, d->in->ino,
                          be64_get(r->key + 8), version)) ||
        (rc = db_err(r->cursor->del(r->cursor, 0))))
        return rc;
    d->tx->dirty = 1;
    d->in->bytes -= length < d->in->bytes ? length : d->in->bytes;
    tx_count(d->tx, d->in->vol, 0, -(int64_t)length);
    return 0;
}

int blocks_drop_from(struct tx *tx, struct inode *in, uint64_t first)
{
    uint8_t from[16], vbuf[BLOCK_REC_LEN];
    block_key(from, in->ino, first);
    struct drop_args d = { tx, in };
    return kv_walk(tx, MDB_BLOCKS, from, 8, from, 16, vbuf, sizeof(vbuf),
                   DB_RMW, drop_block, &d);
}

int inode_truncate(struct tx *tx, struct inode *in, uint64_t size)
{
    if (size < in->size) {
        uint32_t bs;
        int rc = volume_block_size(tx, in->vol, &bs);
        if (rc || (rc = blocks_drop_from(tx, in, (size + bs - 1) / bs)))
            return rc;
        /* The block holding the new end keeps only the bytes before it. */
        uint32_t keep = (uint32_t)(size % bs);
        uint64_t version;
        uint32_t length;
        if (keep) {
            rc = block_get(tx, in->ino, size / bs, &version, &length);
            if (rc == 0 && length > keep) {
                rc = block_put(tx, in->ino, size / bs, version, keep);
                in->bytes -= length - keep;
                tx_count(tx, in->vol, 0, -(int64_t)(length - keep));
            }
            if (rc && rc != -ENOENT)
                return rc;
        }
    }
    in->size = size;
    return 0;
}

/* ---- get_blocks ---- */

struct blocks_args {
    const struct meta_cred *cr;
    uint64_t ino, session;
    uint64_t first;
    uint32_t count;
    struct meta_block *blocks;
    uint32_t max, *n;
    const struct meta_commit_block *cb;
    uint64_t write_end;
    const struct meta_settime *mtime;
    struct meta_attr *out;
    struct meta_block *conflicts;
    uint32_t max_conflicts, *nconf;
};

/* Regular files only: -EISDIR for directories, -EINVAL for the rest. */
static int regular(const struct inode *in)
{
    if (S_ISDIR(in->mode))
        return -EISDIR;
    return S_ISREG(in->mode) ? 0 : -EINVAL;
}

struct map_args {
    struct blocks_args *a;
    uint64_t end;                       /* first index past the range */
};

/* Adds one block of the walk to the map asked for. */
static int map_block(void *arg, const struct kv_rec *r)
{
    struct map_args *m = arg;
    struct blocks_args *a = m->a;
    uint64_t index = be64_get(r->key + 8);
    if (index >= m->end)
        return KV_STOP;
    struct meta_block *b = &a->blocks[*a->n];
    int rc = block_decode(r->val, r->vlen, &b->version, &b->length);
    if (rc)
        return rc;
    b->index = index;
    return ++*a->n < a->max ? 0 : KV_STOP;
}

static int do_get_blocks(struct tx *tx, void *arg)
{
    struct blocks_args *a = arg;
    struct inode in;
    *a->n = 0;
    int rc = inode_get(tx, a->ino, &in, 0);
    if (rc || (rc = regular(&in)))
        return rc;
    /* The map says where the data is, not what it is: a writer without
     * read permission still needs it to merge partial blocks. */
    struct perm_node pn = inode_perm(tx, &in);
    if (perm_access(a->cr, &pn, PERM_READ) != 0 &&
        (rc = perm_access(a->cr, &pn, PERM_WRITE)))
        return rc;
    uint64_t end = a->first + a->count;
    if (end < a->first)
        end = UINT64_MAX;

    uint8_t from[16], vbuf[BLOCK_REC_LEN];
    block_key(from, a->ino, a->first);
    struct map_args m = { a, end };
    if (a->max > 0 &&
        (rc = kv_walk(tx, MDB_BLOCKS, from, 8, from, 16, vbuf, sizeof(vbuf),
                      0, map_block, &m)))
        return rc;
    inode_attr(&in, a->out);
    return 0;
}

int meta_get_blocks(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                    uint64_t first, uint32_t count, struct meta_block *blocks,
                    uint32_t max, uint32_t *n, struct meta_attr *out)
{
    struct blocks_args a = { .cr = cr, .ino = ino, .first = first,
                             .count = count, .blocks = blocks, .max = max,
                             .n = n, .out = out };
    return tx_run(m, do_get_blocks, &a);
}

/* ---- commit_write ---- */

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* The blocks of a commit must be sane on their own: new versions
 * different from their bases with lengths within a block, inside the size
 * the commit leaves, or holes (version and length 0, anywhere); and no
 * index twice. */
static int commit_validate(const struct meta_commit_block *cb, uint32_t n,
                           uint32_t bs, uint64_t newsize)
{
    uint64_t *idx = malloc((n ? n : 1) * sizeof(*idx));
    if (!idx)
        return -ENOMEM;
    int rc = 0;
    for (uint32_t i = 0; i < n && !rc; i++) {
        int hole = cb[i].version == 0;
        if (hole ? cb[i].length != 0
                 : cb[i].version == cb[i].base_version || cb[i].length == 0 ||
                   cb[i].length > bs ||
                   cb[i].index >= (newsize + bs - 1) / bs)
            rc = -EINVAL;
        idx[i] = cb[i].index;
    }
    if (!rc && n > 1) {
        qsort(idx, n, sizeof(*idx), cmp_u64);
        for (uint32_t i = 1; i < n && !rc; i++)
            if (idx[i] == idx[i - 1])
                rc = -EINVAL;
    }
    free(idx);
    return rc;
}

struct cur_block {
    uint64_t version;
    uint32_t length;
};

/* Current state of every block named; the number that moved on. */
static int commit_conflicts(struct tx *tx, struct blocks_args *a,
                            uint32_t n, struct cur_block *cur)
{
    uint32_t nconf = 0;
    for (uint32_t i = 0; i < n; i++) {
        int rc = block_get(tx, a->ino, a->cb[i].index, &cur[i].version,
                           &cur[i].length);
        if (rc == -ENOENT)
            cur[i] = (struct cur_block){ 0, 0 };
        else if (rc)
            return rc;
        /* A truncate cuts a block without a new version: a base shorter
         * than what was merged from it would bring the cut bytes back. */
        if (cur[i].version == a->cb[i].base_version &&
            cur[i].length >= a->cb[i].base_length)
            continue;
        if (nconf < a->max_conflicts)
            a->conflicts[nconf] = (struct meta_block){
                a->cb[i].index, cur[i].version, cur[i].length };
        nconf++;
    }
    *a->nconf = nconf < a->max_conflicts ? nconf : a->max_conflicts;
    return (int)nconf;
}

static int commit_apply(struct tx *tx, struct blocks_args *a, uint32_t n,
                        const struct cur_block *cur, struct inode *in,
                        uint32_t bs, uint64_t newsize)
{
    int64_t delta = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct meta_commit_block *b = &a->cb[i];
        uint32_t len = 0;
        if (b->version) {
            /* Bytes past the size the commit leaves are not data. */
            uint64_t room = newsize - b->index * bs;
            len = room < b->length ? (uint32_t)room : b->length;
        }
        int rc;
        if (cur[i].version &&
            (rc = garbage_add(tx, in->vol, in->ino, b->index,
                              cur[i].version)))
            return rc;
        if (b->version)
            rc = block_put(tx, in->ino, b->index, b->version, len);
        else
            rc = cur[i].version ? block_del(tx, in->ino, b->index) : 0;
        if (rc)
            return rc;
        delta += (int64_t)len - (int64_t)cur[i].length;
    }
    in->bytes = (uint64_t)((int64_t)in->bytes + delta);
    tx_count(tx, in->vol, 0, delta);
    return 0;
}

static int time_before(const struct meta_time *a, const struct meta_time *b)
{
    return a->sec < b->sec || (a->sec == b->sec && a->nsec < b->nsec);
}

static int do_commit(struct tx *tx, void *arg)
{
    struct blocks_args *a = arg;
    struct inode in;
    uint32_t n = a->count, bs;
    *a->nconf = 0;
    int rc = inode_get(tx, a->ino, &in, DB_RMW);
    if (rc || (rc = regular(&in)))
        return rc;
    if (a->mtime && !settime_ok(a->mtime))
        return -EINVAL;
    if (a->write_end > SIZE_MAX_FILE)
        return -EFBIG;
    /* A session that has the file open for writing may write as open(2)
     * allowed it; anyone else needs write permission now. */
    rc = a->session ? opens_writable(tx, a->ino, a->session) : 0;
    if (rc < 0)
        return rc;
    struct perm_node pn = inode_perm(tx, &in);
    if (rc == 0 && (rc = perm_access(a->cr, &pn, PERM_WRITE)))
        return rc;
    uint64_t newsize = a->write_end > in.size ? a->write_end : in.size;
    if ((rc = volume_block_size(tx, in.vol, &bs)) ||
        (rc = commit_validate(a->cb, n, bs, newsize)))
        return rc;

    struct cur_block *cur = malloc((n ? n : 1) * sizeof(*cur));
    if (!cur)
        return -ENOMEM;
    rc = commit_conflicts(tx, a, n, cur);
    if (rc > 0)
        rc = -EAGAIN;
    else if (rc == 0)
        rc = commit_apply(tx, a, n, cur, &in, bs, newsize);
    free(cur);
    if (rc)
        return rc;

    in.size = newsize;
    in.mode = perm_write_kill(a->cr, in.mode);
    struct meta_time was = in.ctime;
    if ((rc = xattr_kill_caps(tx, &in)) ||
        (rc = inode_changed(tx, &in, CH_CTIME)))
        return rc;
    if (a->mtime)
        settime_apply(tx, a->mtime, &in.mtime);
    /* write(2) marked ctime when the writer wrote, and its mount showed
     * that time since: keep it (never before the last change, never
     * after now), so ctime does not move again at the commit. */
    if (a->mtime && a->mtime->how == META_TIME_CLIENT &&
        time_before(&a->mtime->time, &in.ctime))
        in.ctime = time_before(&a->mtime->time, &was) ? was
                                                      : a->mtime->time;
    if ((rc = inode_put(tx, &in)))
        return rc;
    inode_attr(&in, a->out);
    return 0;
}

int meta_commit_write(struct meta *m, const struct meta_cred *cr,
                      uint64_t ino, uint64_t session,
                      const struct meta_commit_block *blocks, uint32_t n,
                      uint64_t write_end, const struct meta_settime *mtime,
                      struct meta_attr *out, struct meta_block *conflicts,
                      uint32_t max_conflicts, uint32_t *nconf)
{
    uint32_t dummy;
    struct blocks_args a = { .cr = cr, .ino = ino, .session = session,
                             .count = n, .cb = blocks, .write_end = write_end,
                             .mtime = mtime, .out = out,
                             .conflicts = conflicts,
                             .max_conflicts = conflicts ? max_conflicts : 0,
                             .nconf = nconf ? nconf : &dummy };
    return tx_run(m, do_commit, &a);
}
