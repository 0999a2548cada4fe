/* rpcsvc.h - the gateway's own ONC RPC server: record marking over TCP,
 * an event loop for connections and a pool of worker threads (decision 4
 * of DESIGN.md; libtirpc's svc_run is single-threaded, so we do not use
 * it).  XDR is libtirpc's and rpcgen's.
 *
 * A program is a table of procedures; the server decodes the call header
 * and arguments, calls the handler on a worker thread and encodes the
 * reply.  Malformed calls get the proper RPC errors (GARBAGE_ARGS,
 * PROC_UNAVAIL, PROG_UNAVAIL, PROG_MISMATCH, AUTH_ERROR) or, when not even
 * the header can be read, a closed connection.  A handler may defer its
 * reply (a blocking lock, say) and send it later from any thread. */
#ifndef FLEXFS_RPCSVC_H
#define FLEXFS_RPCSVC_H

#include <stdint.h>
#include <sys/socket.h>
#include <rpc/rpc.h>

#include "meta.h"

struct rpc_server;
struct rpc_conn;

/* xdr_void as an xdrproc_t: libtirpc declares it without parameters, so a
 * direct cast trips -Wcast-function-type. */
#define RPC_XDR_VOID ((xdrproc_t)(void (*)(void))xdr_void)

/* One call being served. */
struct rpc_req {
    uint32_t xid, prog, vers, proc;
    int auth_flavor;                    /* AUTH_NONE, AUTH_SYS, ... */
    struct meta_cred cred;              /* AUTH_SYS; nobody otherwise */
    char machine[256];                  /* AUTH_SYS machine name */
    struct sockaddr_storage peer;
    socklen_t peerlen;
    void *ctx;                          /* the program's ctx */
    const void *proc_info;              /* the procedure's info */
    struct rpc_conn *conn;              /* for deferring; opaque */
};

/* What a handler returns. */
enum rpc_verdict {
    RPC_REPLY = 0,          /* encode res as the reply */
    RPC_DEFER,              /* rpc_defer() was called; reply comes later */
    RPC_GARBAGE,            /* GARBAGE_ARGS */
    RPC_SYSTEM_ERR,         /* SYSTEM_ERR */
    RPC_AUTH_TOOWEAK,       /* MSG_DENIED, AUTH_ERROR (AUTH_TOOWEAK) */
    RPC_NO_REPLY            /* drop the call */
};

struct rpc_proc {
    const char *name;                   /* for logs and metrics */
    xdrproc_t xdr_args;
    size_t args_size;
    xdrproc_t xdr_res;
    size_t res_size;
    /* args is decoded and freed by the server; res is zeroed before the
     * call and freed with xdr_free(xdr_res) after it is encoded. */
    enum rpc_verdict (*handler)(struct rpc_req *req, void *args, void *res);
    const void *info;                   /* optional: the program's own,
                                           seen as req->proc_info */
};

struct rpc_program {
    uint32_t prog, vers;
    const struct rpc_proc *procs;       /* indexed by procedure number */
    uint32_t nprocs;
    void *ctx;
    /* Optional: refuse a call before decoding (AUTH_ERROR when nonzero). */
    int (*admit)(const struct rpc_req *req);
};

struct rpc_server_opts {
    const char *host;                   /* "" or NULL: any */
    uint16_t port;                      /* 0: ephemeral */
    unsigned workers;                   /* 0: cores x 2 */
    uint32_t max_record;                /* largest call accepted, bytes */
    /* Seconds a connection may sit with no call before it is closed, so
     * that clients that vanished without a word (a crash, a cut cable)
     * do not hold slots for ever; 0: never.  Clients reconnect. */
    unsigned idle_secs;
    /* Optional: called after each call's reply (or defer) with the time
     * from decoded call to encoded reply and whether its status was 0
     * (metrics).  Results all start with their status. */
    void (*op_done)(const struct rpc_req *req, const char *name,
                    uint64_t ns, int ok);
};

int rpc_server_create(const struct rpc_server_opts *opts,
                      struct rpc_server **out);
/* Programs must be added before rpc_server_start. */
int rpc_server_add(struct rpc_server *s, const struct rpc_program *p);
uint16_t rpc_server_port(const struct rpc_server *s);
int rpc_server_start(struct rpc_server *s);
/* Stops accepting, finishes calls under way, joins the threads. */
void rpc_server_stop(struct rpc_server *s);
void rpc_server_destroy(struct rpc_server *s);

/* Registers/unregisters every program with rpcbind if it runs (a missing
 * rpcbind is logged, not an error). */
void rpc_server_register(struct rpc_server *s);
void rpc_server_unregister(struct rpc_server *s);

/* One word a program may keep per connection, for what stays true of
 * its peer (the native program: a session found to be this host's). */
uint64_t rpc_conn_memo(const struct rpc_req *req);
void rpc_conn_set_memo(struct rpc_req *req, uint64_t v);

/* Deferred replies: inside a handler, rpc_defer() keeps what is needed to
 * answer the call later and the handler returns RPC_DEFER.  Exactly one
 * of rpc_deferred_reply()/rpc_deferred_drop() must follow, from any
 * thread.  If the connection closed meanwhile, the reply is dropped. */
struct rpc_deferred;
struct rpc_deferred *rpc_defer(struct rpc_req *req);
void rpc_deferred_reply(struct rpc_deferred *d, xdrproc_t xdr_res, void *res);
void rpc_deferred_drop(struct rpc_deferred *d);
/* Is the deferred call's connection still open? */
int rpc_deferred_alive(const struct rpc_deferred *d);

#endif
