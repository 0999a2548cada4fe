/* nfs4.h - the gateway's NFSv4.0 front end (RFC 7530): program 100003
 * version 4 (NULL and COMPOUND) served by the gateway's own RPC server
 * beside the native program, on the same metadata core and block store.
 *
 * The daemon calls nfs4_program_init() once, before rpc_server_start(),
 * adds the program it fills in with rpc_server_add(), and calls
 * nfs4_program_fini() after rpc_server_stop() (it writes out buffered
 * UNSTABLE data and ends the front end's core sessions). */
#ifndef FLEXFS_NFS4_H
#define FLEXFS_NFS4_H

#include <stdint.h>

#include "exports.h"
#include "meta.h"
#include "rpcsvc.h"
#include "store.h"

struct nfs4_opts {
    uint32_t lease_secs;        /* NFS lease; 0: the core's lease time */
    int32_t grace_secs;         /* grace after a start that left NFS state
                                 * to reclaim; < 0: the lease time */
    struct exports *exports;    /* who may use which volume; NULL: all */
};

/* Fills *out (prog, vers, procs, ctx).  opts may be NULL (defaults). */
int nfs4_program_init(struct meta *m, struct store *s,
                      const struct nfs4_opts *opts, struct rpc_program *out);
void nfs4_program_fini(struct rpc_program *p);

#endif
