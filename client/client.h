/* client.h - the context of one mount, shared by every module of
 * mount.flexfs: its options, the gateway connection and session, the
 * block store, the caches and the write-back state.  Built once in
 * main.c; the pointers do not change while the mount runs. */
#ifndef FLEXFS_CLIENT_H
#define FLEXFS_CLIENT_H

#include "opts.h"

struct rpcpool;
struct session;
struct store;
struct bcache;
struct dcache;
struct tpool;
struct itable;
struct wb;
struct fuse_session;
struct cstats;

struct client {
    struct client_opts opts;
    struct rpcpool *pool;       /* connections to the gateway */
    struct session *sess;       /* the mount's session and lease */
    struct store *store;        /* the block store the gateway named */
    struct bcache *cache;       /* immutable block versions, LRU */
    struct dcache *dcache;      /* the same on local disk, or NULL */
    struct tpool *xfer;         /* transfer threads (fetch, upload) */
    struct itable *inodes;      /* per-inode state */
    struct wb *wb;              /* dirty data and its flushers */
    struct fuse_session *se;
    struct cstats *stats;       /* counters for flexfs-admin */
    struct credcache *creds;    /* callers' supplementary groups */
};

#endif
