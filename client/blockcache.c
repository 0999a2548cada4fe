/* blockcache.c - the LRU block cache (see blockcache.h).
 *
 * One mutex guards the hash table, the LRU list and the byte count; data
 * is loaded outside it.  An entry being loaded is in the table with state
 * LOADING so that other readers of the same key wait for it instead of
 * loading it again.  Entries in use (refs > 0) are never evicted; the
 * cache may overshoot its budget by what is in use.
 *
 * The budget counts block buffers only, not the entries' own hundred
 * bytes: with those counted, a file of exactly cache_size held one block
 * less than it has, and random reads over it (the bench's 256 MiB file,
 * the default 256 MiB cache) missed once in 64 reads, each miss a whole
 * 4 MiB block from the store: 1,049 block loads for 64 blocks.
 *
 * A block all of whose bytes went to the kernel's page cache leaves at
 * its last release (bcache_release_sent): the page cache holds it, and a
 * second copy here cost a new mount 256 MiB of fresh memory per cold
 * sequential read.  On local blocks a 1 GiB cold read went from 1,444-
 * 1,598 to 2,291-2,491 MiB/s with 1 job, and the mount's CPU halved.
 *
 * Buffers of evicted entries and of flushed dirty blocks are kept as
 * spares for the next loads and dirty blocks: a fresh buffer costs a page
 * fault and a zeroed page per 4 KiB the first time it is written (perf: a
 * fifth of the mount's CPU in a cold sequential read, nearly every byte
 * read faulting), a spare nothing.  In a virtual machine whose host takes
 * back the memory a guest frees, that first touch costs more again: 1 GiB
 * of fresh memory was touched at 460 MiB/s here, of reused memory at
 * 2.6 GiB/s.  Spares may fill the part of the budget that entries leave
 * unused, and an eighth of it besides, so that a mount whose dirty blocks
 * come and go through the write-back window keeps reusing the same
 * memory, and holds no more than a full cache would. */
#include "config.h"
#include "blockcache.h"
#include "grow.h"
#include "store.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { B_LOADING = 1, B_READY = 2 };

#define NBUCKETS 16384u
struct spare {
    char *buf;
    uint32_t cap;
};

/* A block lately read in part: one slot per 4 MiB of budget, each block
 * hashed to one; a block taking another's slot starts it over. */
struct partial {
    uint64_t ino, index;
    unsigned count;
};
#define PARTIAL_SLOT_BYTES (4u << 20)
#define PARTIAL_READS_TO_CACHE 4u

struct bcache {
    pthread_mutex_t lock;
    pthread_cond_t loaded;      /* a LOADING entry finished */
    struct bentry *buckets[NBUCKETS];
    struct bentry lru;          /* sentinel: lnext = most recent */
    uint64_t bytes, max_bytes;
    uint64_t hits, misses;
    struct spare *spares;
    size_t nspares, spares_cap;
    uint64_t spare_bytes;
    time_t spare_taken;         /* CLOCK_MONOTONIC seconds, last take */
    struct partial *partials;   /* bcache_partial_read: npartials slots */
    unsigned npartials;
    struct bkey *sent_keys;     /* blocks lately dropped as sent, hashed */
    unsigned nsent_keys;
};

static unsigned bucket_of(const struct bkey *k)
{
    uint64_t h = k->ino * 0x9e3779b97f4a7c15ull;
    h ^= k->index * 0xc2b2ae3d27d4eb4full;
    h ^= k->ver * 0x165667b19e3779f9ull;
    h ^= h >> 29;
    return (unsigned)(h % NBUCKETS);
}

static int key_eq(const struct bkey *a, const struct bkey *b)
{
    return a->ino == b->ino && a->index == b->index && a->ver == b->ver;
}

int bcache_create(uint64_t max_bytes, struct bcache **out)
{
    struct bcache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->loaded, NULL);
    c->lru.lnext = c->lru.lprev = &c->lru;
    c->max_bytes = max_bytes;
    uint64_t slots = max_bytes / PARTIAL_SLOT_BYTES;
    c->npartials = slots < 1 ? 1 : slots > 65536 ? 65536 : (unsigned)slots;
    c->partials = calloc(c->npartials, sizeof(*c->partials));
    c->nsent_keys = c->npartials * 8;
    c->sent_keys = calloc(c->nsent_keys, sizeof(*c->sent_keys));
    if (!c->partials || !c->sent_keys) {
        free(c->partials);
        free(c->sent_keys);
        free(c);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

void bcache_destroy(struct bcache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        struct bentry *e = c->buckets[i];
        while (e) {
            struct bentry *n = e->hnext;
            free(e->data);
            free(e);
            e = n;
        }
    }
    for (size_t i = 0; i < c->nspares; i++)
        free(c->spares[i].buf);
    free(c->spares);
    free(c->partials);
    free(c->sent_keys);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->loaded);
    free(c);
}

static time_t mono_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Frees spares, last kept first, down to keep bytes.  c->lock held. */
static void spares_cut(struct bcache *c, uint64_t keep)
{
    while (c->nspares && c->spare_bytes > keep) {
        struct spare s = c->spares[--c->nspares];
        c->spare_bytes -= s.cap;
        free(s.buf);
    }
}

/* How many bytes of spares may be kept: the room entries leave unused,
 * and at least an eighth of the budget.  c->lock held. */
static uint64_t spare_limit(const struct bcache *c)
{
    uint64_t room = c->bytes < c->max_bytes ? c->max_bytes - c->bytes : 0;
    return room > c->max_bytes / 8 ? room : c->max_bytes / 8;
}

/* Gives the pages of freed buffers back to the system: 4 MiB buffers sit
 * in malloc's arenas once its mmap threshold has grown past them. */
static void return_freed_pages(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* Keeps buf (cap bytes) as a spare, or frees it.  c->lock held. */
static void spare_put(struct bcache *c, char *buf, uint32_t cap)
{
    if (!buf)
        return;
    if (c->spare_bytes + cap <= spare_limit(c)) {
        struct spare *v = grow_room(c->spares, c->nspares, &c->spares_cap,
                                    sizeof(*v), 16);
        if (v) {
            c->spares = v;
            c->spares[c->nspares++] = (struct spare){ buf, cap };
            c->spare_bytes += cap;
            return;
        }
    }
    free(buf);
}

/* A buffer for len bytes: a spare that wastes at most a quarter of itself
 * on it, else a new one.  c->lock held. */
static char *spare_take(struct bcache *c, uint32_t len, uint32_t *cap)
{
    c->spare_taken = mono_secs();
    for (size_t i = 0; i < c->nspares; i++) {
        struct spare s = c->spares[i];
        if (s.cap >= len && s.cap - len <= s.cap / 4) {
            c->spares[i] = c->spares[--c->nspares];
            c->spare_bytes -= s.cap;
            *cap = s.cap;
            return s.buf;
        }
    }
    *cap = len;
    return store_buf_alloc(len);
}

/* Drops an entry that is out of the table. */
static void entry_free(struct bcache *c, struct bentry *e)
{
    spare_put(c, e->data, e->cap);
    free(e);
}

char *bcache_buf_alloc(struct bcache *c, uint32_t len, uint32_t *cap)
{
    pthread_mutex_lock(&c->lock);
    char *buf = spare_take(c, len, cap);
    pthread_mutex_unlock(&c->lock);
    return buf;
}

void bcache_buf_free(struct bcache *c, char *buf, uint32_t cap)
{
    pthread_mutex_lock(&c->lock);
    spare_put(c, buf, cap);
    pthread_mutex_unlock(&c->lock);
}

static struct bentry *find(struct bcache *c, const struct bkey *k)
{
    for (struct bentry *e = c->buckets[bucket_of(k)]; e; e = e->hnext)
        if (key_eq(&e->k, k))
            return e;
    return NULL;
}

static void lru_unlink(struct bentry *e)
{
    e->lprev->lnext = e->lnext;
    e->lnext->lprev = e->lprev;
}

static void lru_front(struct bcache *c, struct bentry *e)
{
    e->lnext = c->lru.lnext;
    e->lprev = &c->lru;
    c->lru.lnext->lprev = e;
    c->lru.lnext = e;
}

static void unhash(struct bcache *c, struct bentry *e)
{
    struct bentry **pp = &c->buckets[bucket_of(&e->k)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(e);
    c->bytes -= e->cap;
}

static void evict(struct bcache *c)
{
    struct bentry *e = c->lru.lprev;
    while (c->bytes > c->max_bytes && e != &c->lru) {
        struct bentry *prev = e->lprev;
        if (e->refs == 0 && e->state == B_READY) {
            unhash(c, e);
            entry_free(c, e);
        }
        e = prev;
    }
    /* Entries took the room that spares had: give memory back. */
    spares_cut(c, spare_limit(c));
}

static struct bentry *add(struct bcache *c, const struct bkey *k,
                          char *data, uint32_t cap, uint32_t len, int state)
{
    struct bentry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->k = *k;
    e->data = data;
    e->len = len;
    e->cap = cap;
    e->state = state;
    unsigned b = bucket_of(k);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    lru_front(c, e);
    c->bytes += cap;
    return e;
}

int bcache_get(struct bcache *c, const struct bkey *k, uint32_t len,
               bcache_load_fn load, void *arg, struct bentry **out)
{
    pthread_mutex_lock(&c->lock);
    struct bentry *e;
    for (;;) {
        e = find(c, k);
        if (!e)
            break;
        if (e->state == B_LOADING) {
            pthread_cond_wait(&c->loaded, &c->lock);
            continue;
        }
        if (e->len >= len) {
            e->refs++;
            lru_unlink(e);
            lru_front(c, e);
            c->hits++;
            pthread_mutex_unlock(&c->lock);
            *out = e;
            return 0;
        }
        /* A shorter copy (loaded for a shorter valid length): replace. */
        if (e->refs) {
            pthread_mutex_unlock(&c->lock);
            return -EAGAIN;
        }
        unhash(c, e);
        entry_free(c, e);
    }
    c->misses++;
    uint32_t cap;
    char *data = spare_take(c, len, &cap);
    e = data ? add(c, k, data, cap, len, B_LOADING) : NULL;
    if (!e) {
        spare_put(c, data, cap);
        pthread_mutex_unlock(&c->lock);
        return -ENOMEM;
    }
    e->refs = 1;
    pthread_mutex_unlock(&c->lock);

    int rc = load(arg, k, e->data, len);

    pthread_mutex_lock(&c->lock);
    if (rc < 0) {
        unhash(c, e);
        entry_free(c, e);
        e = NULL;
    } else {
        e->state = B_READY;
        evict(c);
    }
    pthread_cond_broadcast(&c->loaded);
    pthread_mutex_unlock(&c->lock);
    *out = e;
    return rc < 0 ? rc : 0;
}

/* Has every byte of e gone to the page cache?  c->lock held. */
static int all_sent(const struct bentry *e)
{
    return e->len && e->sent >= e->len;
}

/* c->lock held. */
static void release_locked(struct bcache *c, struct bentry *e)
{
    e->refs--;
    if (e->refs == 0 && all_sent(e)) {
        c->sent_keys[bucket_of(&e->k) % c->nsent_keys] = e->k;
        unhash(c, e);
        entry_free(c, e);
    } else if (e->refs == 0 && c->bytes > c->max_bytes) {
        evict(c);
    }
}

void bcache_release(struct bcache *c, struct bentry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&c->lock);
    release_locked(c, e);
    pthread_mutex_unlock(&c->lock);
}

/* The page cache reads each page of a file once while it holds it, so the
 * bytes sent add up to the block's length when it has all of them; a
 * page read twice (evicted meanwhile) only makes the drop come early. */
void bcache_release_sent(struct bcache *c, struct bentry *e, uint32_t from,
                         uint32_t to)
{
    if (!e)
        return;
    pthread_mutex_lock(&c->lock);
    if (to > from && e->sent < e->len)
        e->sent += to - from;
    release_locked(c, e);
    pthread_mutex_unlock(&c->lock);
}

int bcache_has(struct bcache *c, const struct bkey *k, uint32_t len)
{
    pthread_mutex_lock(&c->lock);
    struct bentry *e = find(c, k);
    int has = e && (e->state == B_LOADING || e->len >= len);
    pthread_mutex_unlock(&c->lock);
    return has;
}

void bcache_insert(struct bcache *c, const struct bkey *k, char *data,
                   uint32_t cap, uint32_t len)
{
    pthread_mutex_lock(&c->lock);
    if (find(c, k) || cap > c->max_bytes ||
        !add(c, k, data, cap, len, B_READY))
        spare_put(c, data, cap);
    else
        evict(c);
    pthread_mutex_unlock(&c->lock);
}

void bcache_trim(struct bcache *c, unsigned idle_secs)
{
    pthread_mutex_lock(&c->lock);
    uint64_t before = c->spare_bytes;
    if (mono_secs() - c->spare_taken >= (time_t)idle_secs)
        spares_cut(c, c->max_bytes / 8);
    int cut = c->spare_bytes < before;
    pthread_mutex_unlock(&c->lock);
    if (cut)
        return_freed_pages();
}

int bcache_was_sent(struct bcache *c, const struct bkey *k)
{
    pthread_mutex_lock(&c->lock);
    int sent = key_eq(&c->sent_keys[bucket_of(k) % c->nsent_keys], k);
    pthread_mutex_unlock(&c->lock);
    return sent;
}

int bcache_partial_read(struct bcache *c, uint64_t ino, uint64_t index)
{
    struct bkey k = { .ino = ino, .index = index };
    pthread_mutex_lock(&c->lock);
    struct partial *p = &c->partials[bucket_of(&k) % c->npartials];
    if (p->ino != ino || p->index != index)
        *p = (struct partial){ .ino = ino, .index = index };
    int whole = ++p->count >= PARTIAL_READS_TO_CACHE;
    if (whole)
        p->count = 0;
    pthread_mutex_unlock(&c->lock);
    return whole;
}

void bcache_stats(struct bcache *c, struct bcache_stats *out)
{
    pthread_mutex_lock(&c->lock);
    out->hits = c->hits;
    out->misses = c->misses;
    out->bytes = c->bytes;
    out->spare_bytes = c->spare_bytes;
    pthread_mutex_unlock(&c->lock);
}
