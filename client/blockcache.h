/* blockcache.h - a memory LRU cache of block versions, keyed by (inode,
 * block index, version).  Versions are immutable, so an entry never goes
 * stale; only the block map decides which version a reader wants.
 * Concurrent misses on one key load it once. */
#ifndef FLEXFS_CLIENT_BLOCKCACHE_H
#define FLEXFS_CLIENT_BLOCKCACHE_H

#include <stdint.h>

struct bcache;

struct bkey {
    uint64_t ino, index, ver;
};

/* A cached block: data holds len bytes.  Read-only for callers. */
struct bentry {
    struct bkey k;
    char *data;
    uint32_t len;
    /* private */
    uint32_t cap;               /* bytes allocated at data */
    int state;
    unsigned refs;
    uint32_t sent;              /* bytes sent to the page cache; all of
                                   them: dropped at the last release */
    struct bentry *hnext, *lprev, *lnext;
};

/* Fills buf with the first len bytes of the block; 0 or -errno. */
typedef int (*bcache_load_fn)(void *arg, const struct bkey *k, char *buf,
                              uint32_t len);

int bcache_create(uint64_t max_bytes, struct bcache **out);
void bcache_destroy(struct bcache *c);
/* A referenced entry with at least len bytes, loaded with load() on this
 * thread if missing.  Release it with bcache_release. */
int bcache_get(struct bcache *c, const struct bkey *k, uint32_t len,
               bcache_load_fn load, void *arg, struct bentry **out);
void bcache_release(struct bcache *c, struct bentry *e);
/* Releases e after bytes [from, to) of it went to the kernel's page
 * cache; once all of it has, it leaves the cache at its last release
 * (its buffer kept for reuse), since the page cache holds it now. */
void bcache_release_sent(struct bcache *c, struct bentry *e, uint32_t from,
                         uint32_t to);
/* Is the key cached or being loaded with at least len bytes? */
int bcache_has(struct bcache *c, const struct bkey *k, uint32_t len);
/* Was the key lately dropped after it was all sent (bcache_release_sent)?
 * A read-ahead queued before the reader got there then has nothing to
 * do: the reader loaded the block itself, and the page cache has it. */
int bcache_was_sent(struct bcache *c, const struct bkey *k);
/* Adds a block we already have (takes ownership of data, cap bytes from
 * bcache_buf_alloc).  Lets data go if the key is there already. */
void bcache_insert(struct bcache *c, const struct bkey *k, char *data,
                   uint32_t cap, uint32_t len);
/* When no spare was taken for idle_secs, gives back the spares over an
 * eighth of the budget: an idle mount keeps what it kept before spares
 * could fill the cache's unused room. */
void bcache_trim(struct bcache *c, unsigned idle_secs);
/* A buffer of at least len bytes (*cap gets its size), reusing those of
 * evicted entries; give it back with bcache_buf_free or bcache_insert. */
char *bcache_buf_alloc(struct bcache *c, uint32_t len, uint32_t *cap);
void bcache_buf_free(struct bcache *c, char *buf, uint32_t cap);

/* Notes that a reader took part of a block (ino, index) past the cache;
 * 1 when that is the fourth time lately, so the block is worth caching
 * whole.  "Lately": the memory of this holds about as many blocks as the
 * cache does, so that the parts of a file too large for the cache seldom
 * count up, while a hot region of a large file soon does. */
int bcache_partial_read(struct bcache *c, uint64_t ino, uint64_t index);

struct bcache_stats {
    uint64_t hits, misses, bytes;
    uint64_t spare_bytes;               /* kept for reuse, not counted */
};
void bcache_stats(struct bcache *c, struct bcache_stats *out);

#endif
