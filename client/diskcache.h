/* diskcache.h - block versions kept on a local disk across mounts
 * (mount option cache_dir): what a mount fetched or uploaded, as one file
 * per version, so that reading it again needs no store request.  A version
 * never changes, so a copy is never stale; files live under a directory
 * named by the metadata's incarnation and the volume, because only across
 * incarnations can a key come back with other content.  Every use checks a
 * copy's length and the CRCs of the parts it reads; the least recently
 * used go first once the files pass the size bound or the disk runs short
 * of space. */
#ifndef FLEXFS_CLIENT_DISKCACHE_H
#define FLEXFS_CLIENT_DISKCACHE_H

#include <stdint.h>

struct dcache;
struct bkey;

/* Opens (making it if need be) DIR/<incarnation>-<volume> and indexes
 * what is there.  -EBUSY if another mount uses that directory. */
int dcache_open(const char *dir, const uint8_t incarnation[16],
                uint64_t volume, uint64_t max_bytes, struct dcache **out);
void dcache_close(struct dcache *dc);
/* 0 with bytes [off, off + len) of the version in buf, or -ENOENT when
 * no sound copy holding them is here (a damaged one is dropped). */
int dcache_get(struct dcache *dc, const struct bkey *k, uint32_t off,
               char *buf, uint32_t len);
/* Keeps len bytes of the version, and drops the block's other versions
 * (maps only move forward); failures only cost the copy. */
void dcache_put(struct dcache *dc, const struct bkey *k, const char *buf,
                uint32_t len);

struct dcache_stats {
    uint64_t hits, misses, writes, evictions, superseded, damaged;
    uint64_t write_errors;
    uint64_t bytes, files, limit;
};
void dcache_stats(struct dcache *dc, struct dcache_stats *out);

#endif
