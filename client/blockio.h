/* blockio.h - moving blocks between the block store and memory: fetches
 * through the block cache (several in parallel on the transfer threads,
 * and read-ahead in the background), uploads and deletes of versions. */
#ifndef FLEXFS_CLIENT_BLOCKIO_H
#define FLEXFS_CLIENT_BLOCKIO_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct bentry;

/* One block wanted by a reader. */
struct bio_req {
    uint64_t ino, index, ver;
    uint32_t len;               /* valid bytes wanted */
    struct bentry *e;           /* out: release with blockio_release */
    int rc;                     /* out */
};

/* Fetches every request (in parallel); returns the first error. */
int blockio_fetch_many(struct client *cl, struct bio_req *reqs, size_t n);
int blockio_fetch(struct client *cl, uint64_t ino, uint64_t index,
                  uint64_t ver, uint32_t len, struct bentry **out);
void blockio_release(struct client *cl, struct bentry *e);
/* The same after bytes [from, to) of e went to the kernel's page cache
 * (bcache_release_sent). */
void blockio_release_sent(struct client *cl, struct bentry *e, uint32_t from,
                          uint32_t to);
/* Whether the block is in the cache (or on its way there). */
int blockio_cached(struct client *cl, uint64_t ino, uint64_t index,
                   uint64_t ver, uint32_t len);
/* Reads len bytes at off of a block straight from the store, past the
 * cache: for random reads of a file the cache cannot hold. */
int blockio_get_range(struct client *cl, uint64_t ino, uint64_t index,
                      uint64_t ver, uint32_t off, char *buf, uint32_t len);
/* Starts loading a block into the cache in the background. */
void blockio_prefetch(struct client *cl, uint64_t ino, uint64_t index,
                      uint64_t ver, uint32_t len);
int blockio_put(struct client *cl, uint64_t ino, uint64_t index,
                uint64_t ver, const void *data, size_t len);
int blockio_delete(struct client *cl, uint64_t ino, uint64_t index,
                   uint64_t ver);

#endif
