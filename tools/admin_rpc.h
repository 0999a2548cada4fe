/* admin_rpc.h - flexfs-admin's connection to a gateway's admin program:
 * TCP (optionally from a chosen source address), AUTH_SYS credentials of
 * the caller, and error messages people can act on. */
#ifndef FLEXFS_ADMIN_RPC_H
#define FLEXFS_ADMIN_RPC_H

#include <rpc/rpc.h>

struct admin_conn {
    CLIENT *clnt;
    char where[300];                    /* "HOST:PORT" for messages */
};

/* Connects to host:port (source: bind to this address first, or NULL);
 * timeout_sec bounds the connect.  Prints the reason and returns -1 on
 * failure. */
int admin_connect(struct admin_conn *c, const char *host, const char *port,
                  const char *source, int timeout_sec);
void admin_disconnect(struct admin_conn *c);

/* One call with a timeout; 0, or -1 after printing why it failed (an
 * AUTH_ERROR is explained as the admission rule). */
int admin_call(struct admin_conn *c, u_long proc, xdrproc_t xargs,
               void *args, xdrproc_t xres, void *res, int timeout_sec);

#endif
