/* writeback.h - dirty file data and the commit protocol (decision 3 of
 * DESIGN.md).
 *
 * Writes land per inode in block-sized buffers that remember which byte
 * ranges this client wrote.  A full block, or running out of write-back
 * room, sends blocks to the background flushers; fsync, flush and
 * release flush everything.  A flush merges the written ranges onto the
 * block's current version, uploads the result as a new version (never
 * reused), then commits all new versions with one COMMIT_WRITE.  When
 * the gateway refuses a block because another client committed it
 * meanwhile, only our ranges are applied again onto the newer version. */
#ifndef FLEXFS_CLIENT_WRITEBACK_H
#define FLEXFS_CLIENT_WRITEBACK_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct fnode;
struct rpc_cred;
struct wb;

int wb_create(struct client *cl, uint64_t limit, unsigned nflushers,
              struct wb **out);
/* Stops the flushers (flush everything first with wb_flush_all). */
void wb_destroy(struct wb *w);

/* Buffers len bytes at off; may wait for write-back room. */
int wb_write(struct client *cl, struct fnode *fn, const struct rpc_cred *cr,
             uint64_t off, const char *buf, size_t len);
/* Uploads and commits every dirty block of fn; -EIO (or the gateway's
 * error) if that failed, and then the data stays dirty. */
int wb_flush(struct client *cl, struct fnode *fn);
/* Makes [off, end) of fn read as zeros without changing its size: whole
 * blocks become holes, the others are merged anew (fallocate's
 * PUNCH_HOLE).  Flushes fn's dirty data first. */
int wb_punch(struct client *cl, struct fnode *fn, const struct rpc_cred *cr,
             uint64_t off, uint64_t end);
/* Forgets fn's dirty data that is not being flushed. */
void wb_discard(struct client *cl, struct fnode *fn);
/* Flushes every inode (at unmount). */
void wb_flush_all(struct client *cl);

/* With fn->lock held: copies the dirty bytes of block `index` that fall
 * in [from, to) (block offsets) to dst, which stands for offset from. */
void wb_overlay(struct fnode *fn, uint64_t index, uint32_t from, uint32_t to,
                char *dst);
/* With fn->lock held: has fn data not yet committed? */
int wb_dirty(const struct fnode *fn);

#endif
