/* credcache.h - who is calling: the credentials of a FUSE request, with
 * the caller's supplementary groups kept for a moment (see credcache.c).
 * Include after FUSE_USE_VERSION is defined. */
#ifndef FLEXFS_CREDCACHE_H
#define FLEXFS_CREDCACHE_H

#include <fuse_lowlevel.h>

#include "rpcpool.h"

struct credcache;

int credcache_create(struct credcache **out);
void credcache_destroy(struct credcache *cc);
/* uid, gid and supplementary groups of req's caller. */
void credcache_get(struct credcache *cc, fuse_req_t req, struct rpc_cred *cr);

#endif
