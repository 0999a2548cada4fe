/* readpath.h - reading file data: the block map says which version of
 * each block to read, the blocks come from the cache or the store (in
 * parallel), this client's uncommitted writes are laid over them, and a
 * sequential reader gets the next blocks fetched ahead of it. */
#ifndef FLEXFS_CLIENT_READPATH_H
#define FLEXFS_CLIENT_READPATH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct client;
struct fnode;
struct rpc_cred;
struct bentry;

#define RP_MAX_SEGS 8

/* What a read found: iov[0..niov) covers got bytes, either pieces of
 * cached blocks (held until rp_done) or buf. */
struct rp_data {
    struct iovec iov[RP_MAX_SEGS];
    int niov;
    size_t got;
    char *buf;
    struct bentry *held[RP_MAX_SEGS];
    size_t nheld;
    int page_cached;            /* the kernel keeps what is sent */
};

/* Reads up to size bytes at off; got is short at the end of the file.
 * page_cached: the kernel keeps the data in its page cache (not an
 * O_DIRECT open), so blocks sent whole need not stay in ours.  Call
 * rp_done when the data has been sent. */
int rp_read(struct client *cl, struct fnode *fn, const struct rpc_cred *cr,
            uint64_t off, size_t size, int page_cached, struct rp_data *out);
void rp_done(struct client *cl, struct rp_data *d);

/* lseek's SEEK_DATA and SEEK_HOLE from off, by the gateway's block map
 * (flush this client's writes first): -ENXIO at or past the end, and for
 * SEEK_DATA when only a hole follows. */
int rp_seek(struct client *cl, struct fnode *fn, const struct rpc_cred *cr,
            uint64_t off, int whence, uint64_t *out);

#endif
