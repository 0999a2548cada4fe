/* inode.c - the per-inode table and block-map cache (see inode.h).
 *
 * The table is a hash of fnodes under one mutex.  An fnode lives while
 * the kernel knows it (nlookup), a thread uses it (refs), it is open or
 * it has dirty data.  The block map is cached in chunks of MAPCHUNK
 * consecutive blocks, each loaded by one GET_BLOCKS. */
#include "config.h"
#include "inode.h"
#include "client.h"
#include "log.h"
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096u
#define MAPCHUNK 1024u

/* Covers blocks [first, first + count); first is a multiple of MAPCHUNK.
 * Small files get small chunks. */
struct mapchunk {
    uint64_t first;
    uint32_t count;
    struct mapchunk *next;
    struct mapent e[];
};

struct itable {
    pthread_mutex_t lock;
    struct fnode *buckets[NBUCKETS];
    uint64_t count;
};

int itable_create(struct itable **out)
{
    struct itable *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

/* ---- the xattr cache (see inode.h) ---- */

#define XC_VALUE_MAX 1024       /* larger values are not kept */

/* The ACLs, the capability the kernel looks for before a write, and the
 * SELinux label ls -l asks for on every file (SELinux enabled or not). */
static const char *const xc_names[] = {
    "system.posix_acl_access", "system.posix_acl_default",
    "security.capability", "security.selinux",
};
#define XC_NAMES (sizeof(xc_names) / sizeof(xc_names[0]))

struct xcache {
    struct {
        uint64_t change;
        uint32_t len;
        int known;
        char *val;              /* NULL: absent */
    } e[XC_NAMES];
};

static int xc_index(const char *name)
{
    for (size_t i = 0; i < XC_NAMES; i++)
        if (strcmp(name, xc_names[i]) == 0)
            return (int)i;
    return -1;
}

static void xcache_free(struct xcache *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < XC_NAMES; i++)
        free(x->e[i].val);
    free(x);
}

int fnode_xattr_cached(struct fnode *fn, const char *name, const char **val,
                       uint32_t *len)
{
    int i = xc_index(name);
    if (i >= 0 && fn->have_attr && (fn->attr.flags & FX_ATTR_NO_XATTRS)) {
        *val = NULL;            /* the gateway said: none at all */
        *len = 0;
        return 1;
    }
    if (i < 0 || !fn->xattrs || !fn->have_attr || !fn->xattrs->e[i].known ||
        fn->xattrs->e[i].change != fn->attr.change)
        return 0;
    *val = fn->xattrs->e[i].val;
    *len = fn->xattrs->e[i].len;
    return 1;
}

void fnode_xattr_remember(struct fnode *fn, const char *name,
                          uint64_t change, const char *val, uint32_t len)
{
    int i = xc_index(name);
    if (i < 0 || len > XC_VALUE_MAX)
        return;
    if (!fn->xattrs && !(fn->xattrs = calloc(1, sizeof(*fn->xattrs))))
        return;
    char *copy = NULL;
    if (val && !(copy = malloc(len ? len : 1)))
        return;
    if (val)
        memcpy(copy, val, len);
    free(fn->xattrs->e[i].val);
    fn->xattrs->e[i].val = copy;
    fn->xattrs->e[i].len = val ? len : 0;
    fn->xattrs->e[i].change = change;
    fn->xattrs->e[i].known = 1;
}

void fnode_xattr_carry(struct fnode *fn, uint64_t from, uint64_t to)
{
    if (!fn->xattrs)
        return;
    for (size_t i = 0; i < XC_NAMES; i++)
        if (fn->xattrs->e[i].known && fn->xattrs->e[i].change == from)
            fn->xattrs->e[i].change = to;
    /* The commit took any capability away, as a write does. */
    fnode_xattr_remember(fn, "security.capability", to, NULL, 0);
}

static void fnode_free(struct fnode *fn)
{
    xcache_free(fn->xattrs);
    fnode_map_drop(fn);
    pthread_mutex_destroy(&fn->lock);
    pthread_cond_destroy(&fn->cond);
    free(fn);
}

void itable_destroy(struct itable *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        struct fnode *fn = t->buckets[i];
        while (fn) {
            struct fnode *n = fn->hnext;
            fnode_free(fn);
            fn = n;
        }
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static unsigned bucket_of(uint64_t ino)
{
    return (unsigned)((ino * 0x9e3779b97f4a7c15ull) >> 40) % NBUCKETS;
}

static struct fnode *lookup_locked(struct itable *t, uint64_t ino)
{
    for (struct fnode *fn = t->buckets[bucket_of(ino)]; fn; fn = fn->hnext)
        if (fn->ino == ino)
            return fn;
    return NULL;
}

struct fnode *fnode_get(struct itable *t, uint64_t ino)
{
    pthread_mutex_lock(&t->lock);
    struct fnode *fn = lookup_locked(t, ino);
    if (!fn) {
        fn = calloc(1, sizeof(*fn));
        if (fn) {
            fn->ino = ino;
            pthread_mutex_init(&fn->lock, NULL);
            pthread_cond_init(&fn->cond, NULL);
            unsigned b = bucket_of(ino);
            fn->hnext = t->buckets[b];
            t->buckets[b] = fn;
            t->count++;
        }
    }
    if (fn)
        fn->refs++;
    pthread_mutex_unlock(&t->lock);
    return fn;
}

struct fnode *fnode_find(struct itable *t, uint64_t ino)
{
    pthread_mutex_lock(&t->lock);
    struct fnode *fn = lookup_locked(t, ino);
    if (fn)
        fn->refs++;
    pthread_mutex_unlock(&t->lock);
    return fn;
}

void fnode_hold(struct itable *t, struct fnode *fn)
{
    pthread_mutex_lock(&t->lock);
    fn->refs++;
    pthread_mutex_unlock(&t->lock);
}

/* Frees fn if nothing needs it any more (table lock held). */
static void maybe_free(struct itable *t, struct fnode *fn)
{
    if (fn->refs || fn->nlookup)
        return;
    pthread_mutex_lock(&fn->lock);
    int busy = fn->opens || fn->ndirty || fn->nbusy;
    pthread_mutex_unlock(&fn->lock);
    if (busy)
        return;
    struct fnode **pp = &t->buckets[bucket_of(fn->ino)];
    while (*pp != fn)
        pp = &(*pp)->hnext;
    *pp = fn->hnext;
    t->count--;
    fnode_free(fn);
}

void fnode_put(struct itable *t, struct fnode *fn)
{
    if (!fn)
        return;
    pthread_mutex_lock(&t->lock);
    fn->refs--;
    maybe_free(t, fn);
    pthread_mutex_unlock(&t->lock);
}

void fnode_lookup_inc(struct itable *t, struct fnode *fn)
{
    pthread_mutex_lock(&t->lock);
    fn->nlookup++;
    pthread_mutex_unlock(&t->lock);
}

void fnode_forget(struct itable *t, uint64_t ino, uint64_t n)
{
    pthread_mutex_lock(&t->lock);
    struct fnode *fn = lookup_locked(t, ino);
    if (fn) {
        fn->nlookup = fn->nlookup > n ? fn->nlookup - n : 0;
        maybe_free(t, fn);
    }
    pthread_mutex_unlock(&t->lock);
}

void itable_foreach(struct itable *t, void (*cb)(struct fnode *, void *),
                    void *arg)
{
    pthread_mutex_lock(&t->lock);
    size_t n = 0;
    struct fnode **all = malloc((t->count + 1) * sizeof(*all));
    if (!all) {
        pthread_mutex_unlock(&t->lock);
        log_err("out of memory walking the inode table");
        return;
    }
    for (unsigned i = 0; i < NBUCKETS; i++)
        for (struct fnode *fn = t->buckets[i]; fn; fn = fn->hnext) {
            fn->refs++;
            all[n++] = fn;
        }
    pthread_mutex_unlock(&t->lock);
    for (size_t i = 0; i < n; i++) {
        cb(all[i], arg);
        fnode_put(t, all[i]);
    }
    free(all);
}

void fnode_map_drop(struct fnode *fn)
{
    while (fn->map) {
        struct mapchunk *c = fn->map;
        fn->map = c->next;
        free(c);
    }
    fn->map_gen++;
}

void fnode_set_attr(struct fnode *fn, const fx_attr *a)
{
    if (fn->have_attr && a->change < fn->attr.change)
        return;                 /* an older reply overtaken by a newer */
    if (fn->have_attr && a->change != fn->attr.change)
        fnode_map_drop(fn);
    fn->attr = *a;
    fn->have_attr = 1;
}

static struct mapchunk *chunk_find(struct fnode *fn, uint64_t first)
{
    for (struct mapchunk *c = fn->map; c; c = c->next)
        if (c->first == first)
            return c;
    return NULL;
}

static void chunk_remove(struct fnode *fn, struct mapchunk *c)
{
    if (!c)
        return;
    struct mapchunk **pp = &fn->map;
    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    free(c);
}

int fnode_get_blocks(struct client *cl, struct fnode *fn,
                     const struct rpc_cred *cr, uint64_t first,
                     uint32_t count, fx_get_blocks_res *r)
{
    fx_get_blocks_args a = { .ino = fn->ino, .first = first,
                             .count = count };
    memset(r, 0, sizeof(*r));
    int rc = rpcpool_call(cl->pool, cr, FXPROC_GET_BLOCKS,
                          (xdrproc_t)xdr_fx_get_blocks_args, &a,
                          (xdrproc_t)xdr_fx_get_blocks_res, r, NULL);
    if (rc == 0 && r->status != 0) {
        rc = -r->status;
        xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)r);
    }
    return rc;
}

/* Loads `count` map entries from block `first` from the gateway. */
static int chunk_load(struct client *cl, struct fnode *fn,
                      const struct rpc_cred *cr, uint64_t first,
                      uint32_t count)
{
    pthread_mutex_lock(&fn->lock);
    uint64_t gen = fn->map_gen;
    pthread_mutex_unlock(&fn->lock);

    uint32_t bs = session_volume(cl->sess)->block_size;
    fx_get_blocks_res r;
    int rc = fnode_get_blocks(cl, fn, cr, first, count, &r);
    if (rc < 0)
        return rc;
    struct mapchunk *c = calloc(1, sizeof(*c) + count * sizeof(c->e[0]));
    if (!c) {
        rc = -ENOMEM;
        goto out;
    }
    c->first = first;
    c->count = count;
    fx_get_blocks_ok *ok = &r.fx_get_blocks_res_u.ok;
    for (u_int i = 0; i < ok->blocks.blocks_len; i++) {
        fx_block *b = &ok->blocks.blocks_val[i];
        if (b->index < first || b->index >= first + count)
            continue;
        c->e[b->index - first].ver = b->ver;
        /* A valid length past the block would be a gateway bug; never
         * let it reach a buffer. */
        c->e[b->index - first].len = b->length < bs ? b->length : bs;
    }
    pthread_mutex_lock(&fn->lock);
    fnode_set_attr(fn, &ok->attr);
    /* Install only if nothing dropped the map meanwhile and the reply is
     * the newest state we know; else the caller simply asks again. */
    if (fn->map_gen == gen && ok->attr.change == fn->attr.change) {
        struct mapchunk *old = chunk_find(fn, first);
        if (!old || old->count < count) {
            chunk_remove(fn, old);
            c->next = fn->map;
            fn->map = c;
            c = NULL;
        }
    }
    pthread_mutex_unlock(&fn->lock);
    free(c);
out:
    xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)&r);
    return rc;
}

int fnode_map_get(struct client *cl, struct fnode *fn,
                  const struct rpc_cred *cr, uint64_t first, uint32_t n,
                  struct mapent *out, uint64_t *gen)
{
    uint32_t bs = session_volume(cl->sess)->block_size;
    for (int tries = 0; tries < 20; tries++) {
        uint64_t missing = UINT64_MAX;
        uint32_t want = 0;
        pthread_mutex_lock(&fn->lock);
        for (uint64_t i = first; i < first + n; ) {
            uint64_t cf = i - i % MAPCHUNK;
            struct mapchunk *c = chunk_find(fn, cf);
            if (!c || i >= cf + c->count) {
                /* Cover the file as we know it, and what is asked. */
                uint64_t size = fn->attr.size > fn->dirty_end
                                ? fn->attr.size : fn->dirty_end;
                uint64_t end = (size + bs - 1) / bs;
                if (end < first + n)
                    end = first + n;
                if (end > cf + MAPCHUNK)
                    end = cf + MAPCHUNK;
                missing = cf;
                want = (uint32_t)(end - cf);
                break;
            }
            for (; i < first + n && i < cf + c->count; i++)
                out[i - first] = c->e[i - cf];
        }
        if (missing == UINT64_MAX) {
            *gen = fn->map_gen;
            pthread_mutex_unlock(&fn->lock);
            return 0;
        }
        pthread_mutex_unlock(&fn->lock);
        int rc = chunk_load(cl, fn, cr, missing, want);
        if (rc < 0)
            return rc;
    }
    log_warn("inode %llu: block map keeps changing",
             (unsigned long long)fn->ino);
    return -EIO;
}
