/* readpath.h - reading file data: the block map says which version of
 * each block to read, the blocks come from the cache or the store (in
 * parallel), this client's uncommitted writes are laid over them, and a
 * sequential reader gets the next blocks fetched ahead of it. */
#ifndef FLEXFS_CLIENT_READPATH_H
#define FLEXFS_CLIENT_READPATH_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct fnode;
struct rpc_cred;

/* Reads up to size bytes at off into a new buffer (*out, free it);
 * *got is short at the end of the file. */
int rp_read(struct client *cl, struct fnode *fn, const struct rpc_cred *cr,
            uint64_t off, size_t size, char **out, size_t *got);

#endif
