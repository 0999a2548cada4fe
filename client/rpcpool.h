/* rpcpool.h - calls to the gateway over a pool of TCP connections.
 *
 * libtirpc CLIENT handles are not safe to share between threads, so each
 * call borrows a whole connection.  A call that fails in transport
 * (connection refused, reset, timed out) is retried on a fresh connection
 * until the retry window runs out, so a gateway restart of a few seconds
 * is invisible to callers. */
#ifndef FLEXFS_CLIENT_RPCPOOL_H
#define FLEXFS_CLIENT_RPCPOOL_H

#include <stdint.h>
#include <rpc/rpc.h>

#define RPC_CRED_NGROUPS 16     /* AUTH_SYS carries at most 16 groups */

/* AUTH_SYS identity of the process a call is made for. */
struct rpc_cred {
    uint32_t uid, gid, ngroups;
    uint32_t groups[RPC_CRED_NGROUPS];
};

struct rpcpool;

int rpcpool_create(const char *host, uint16_t port, unsigned size,
                   struct rpcpool **out);
void rpcpool_destroy(struct rpcpool *p);
/* Connections made again after a transport error, ever. */
uint64_t rpcpool_reconnects(struct rpcpool *p);
/* How long transport errors are retried (seconds; 0: one attempt). */
void rpcpool_set_retry(struct rpcpool *p, unsigned secs);

/* Calls proc.  res must be zeroed; on success (0) the caller frees it
 * with xdr_free(xres, res).  Negative errno when no reply came: -EIO
 * (transport, after the retries), -EACCES (credentials refused),
 * -EINVAL (the gateway could not decode the arguments).  *resent (may be
 * NULL) is set when the call was sent more than once, so a
 * non-idempotent call may have been executed twice. */
int rpcpool_call(struct rpcpool *p, const struct rpc_cred *cr, uint32_t proc,
                 xdrproc_t xargs, void *args, xdrproc_t xres, void *res,
                 int *resent);
/* The same for a call the gateway answers only when something happens (a
 * blocking lock): on a connection of its own, outside the pool, with no
 * deadline for the answer.  A lost connection is made again and the call
 * resent (the gateway drops a waiting call whose connection went). */
int rpcpool_call_wait(struct rpcpool *p, const struct rpc_cred *cr,
                      uint32_t proc, xdrproc_t xargs, void *args,
                      xdrproc_t xres, void *res);

#endif
