/* inode.h - what the client keeps per inode: the kernel's lookup count,
 * opens in this mount, the last attributes from the gateway, the cached
 * block map, read-ahead state and (for writeback.c) dirty blocks.
 *
 * Lock order: the table lock before an fnode's lock; an fnode's lock
 * before the write-back lock. */
#ifndef FLEXFS_CLIENT_INODE_H
#define FLEXFS_CLIENT_INODE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "rpcpool.h"
#include "flexfs_prot.h"

struct client;
struct itable;
struct mapchunk;
struct dblock;
struct xcache;

/* A block as the map says: version 0 is a hole. */
struct mapent {
    uint64_t ver;
    uint32_t len;
};

struct fnode {
    uint64_t ino;                   /* the gateway's inode number */
    struct fnode *hnext;            /* table chain (table lock) */
    uint64_t nlookup;               /* kernel references (table lock) */
    unsigned refs;                  /* threads using it (table lock) */

    pthread_mutex_t lock;           /* guards everything below */
    pthread_cond_t cond;            /* a busy block finished */
    unsigned opens;                 /* open handles in this mount */
    struct rpc_cred open_cred;      /* to open it again after recovery */
    int have_attr;
    fx_attr attr;                   /* newest attributes seen */
    uint64_t attr_until_ns;         /* attr answers the kernel's GETATTR
                                     * until then (monotonic): a
                                     * directory's, from a call of ours
                                     * that changed it */
    int kcache_known;               /* the kernel's pages match ... */
    uint64_t kcache_change;         /* ... this change counter */
    struct mapchunk *map;           /* cached block map chunks */
    uint64_t map_gen;               /* moves when the map is dropped */
    uint64_t ra_next;               /* offset a sequential read goes on at */
    uint64_t ra_upto;               /* read-ahead issued below this block */
    int posix_locks;                /* an fcntl lock was taken here */
    struct xcache *xattrs;          /* see fnode_xattr_cached */

    /* write-back state, owned by writeback.c */
    struct dblock *dirty;           /* dirty and busy blocks */
    unsigned ndirty, nbusy;
    uint64_t dirty_end;             /* end of uncommitted writes */
    struct timespec wtime;          /* time of the last write */
    struct rpc_cred wcred;          /* who wrote last */
    int wb_queued;                  /* on the flush queue (wb lock) */
    int wb_all;                     /* queued to flush everything */
    struct fnode *wb_next;          /* flush queue link (wb lock) */
};

int itable_create(struct itable **out);
void itable_destroy(struct itable *t);
/* The fnode of ino, made if new; with a reference for the caller. */
struct fnode *fnode_get(struct itable *t, uint64_t ino);
/* The fnode of ino if it exists, referenced; else NULL. */
struct fnode *fnode_find(struct itable *t, uint64_t ino);
void fnode_hold(struct itable *t, struct fnode *fn);
void fnode_put(struct itable *t, struct fnode *fn);
/* The kernel took one more reference (an entry reply). */
void fnode_lookup_inc(struct itable *t, struct fnode *fn);
void fnode_forget(struct itable *t, uint64_t ino, uint64_t n);
/* Calls cb for every fnode (referenced during the call). */
void itable_foreach(struct itable *t, void (*cb)(struct fnode *, void *),
                    void *arg);

/* Takes in attributes from a gateway reply (fn->lock held).  Older ones
 * (smaller change counter) are ignored; a changed counter drops the
 * cached block map. */
void fnode_set_attr(struct fnode *fn, const fx_attr *a);
/* Drops the cached block map (fn->lock held). */
void fnode_map_drop(struct fnode *fn);
/* The map entries of blocks [first, first + n), loaded from the gateway
 * as needed; *gen gets the map generation they belong to.  Takes and
 * releases fn->lock itself. */
int fnode_map_get(struct client *cl, struct fnode *fn,
                  const struct rpc_cred *cr, uint64_t first, uint32_t n,
                  struct mapent *out, uint64_t *gen);
/* One GET_BLOCKS call for `count` blocks of fn from block `first`: on
 * success *r holds the answer, which the caller frees with xdr_free; a
 * refusal comes back as -errno with nothing to free. */
int fnode_get_blocks(struct client *cl, struct fnode *fn,
                     const struct rpc_cred *cr, uint64_t first,
                     uint32_t count, fx_get_blocks_res *r);

/* A few extended attributes are read all the time: the POSIX ACLs the
 * kernel checks access with, the file capability it looks for before
 * every write and the SELinux label ls -l shows.  Their values are kept with the change counter they were
 * read under (every xattr change moves the counter) and served while the
 * inode's counter from the gateway is still that one; attributes from the
 * gateway saying the inode has no xattr at all (FX_ATTR_NO_XATTRS) answer
 * for all of them.  fn->lock held.
 * fnode_xattr_cached: 1 and *val, *len (*val NULL: no such attribute) if
 * known, 0 if not; *val stays valid while the lock is held. */
int fnode_xattr_cached(struct fnode *fn, const char *name, const char **val,
                       uint32_t *len);
/* Remembers name's value (NULL: absent) as read under change. */
void fnode_xattr_remember(struct fnode *fn, const char *name,
                          uint64_t change, const char *val, uint32_t len);
/* Our own data commit moved the counter from `from` to `to` and changed
 * no attribute but the capability, which it removed: what was known under
 * `from` holds under `to`. */
void fnode_xattr_carry(struct fnode *fn, uint64_t from, uint64_t to);

#endif
